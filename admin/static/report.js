/* Points-liability report: daily flows as bars (in above the axis, out below), outstanding points as a
   line on the right-hand scale, a table of every day, and the CSV export. Drawn as inline SVG (charts.js).
   Days are the shop's calendar days; amounts in the shop's currency (Loyalty.money). */
"use strict";

(() => {
  const { api, h, fill, points, banner, money, date, t } = Loyalty;
  const { s } = LoyaltyCharts;
  const SVG = "http://www.w3.org/2000/svg";
  const SERIES = [
    ["earned", t("report.earned"), "#29845a", 1], ["recredited", t("report.recredited"), "#91d0ff", 1],
    ["clawed_back", t("report.clawed_back"), "#e51c00", -1], ["redeemed", t("report.redeemed"), "#005bd3", -1],
    ["expired", t("report.expired"), "#b5b5b5", -1],
  ];
  let currency = "";

  function chart(days) {
    const width = 960, height = 320, left = 56, right = 64, top = 16, bottom = 32;
    const plotW = width - left - right, plotH = height - top - bottom;
    const inflow = (d) => d.earned + d.recredited + Math.max(d.adjusted, 0);
    const outflow = (d) => d.clawed_back + d.redeemed + d.expired + Math.max(-d.adjusted, 0);
    const up = Math.max(1, ...days.map(inflow)), down = Math.max(0, ...days.map(outflow));
    const y = (v) => top + plotH * (up - v) / (up + down);
    const most = Math.max(1, ...days.map((d) => d.outstanding));
    const y2 = (v) => top + plotH * (1 - v / most);
    const step = plotW / days.length, bar = Math.max(1, step * 0.7);
    const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, xmlns: SVG, "aria-hidden": "true" });
    svg.append(s("line", { class: "axis", x1: left, x2: left + plotW, y1: y(0), y2: y(0) }));
    for (const [value, label] of [[up, points(up)], [0, "0"], [-down, down ? points(-down) : null]]) {
      if (label !== null) svg.append(s("text", { x: left - 6, y: y(value) + 4, "text-anchor": "end" }, label));
    }
    svg.append(s("text", { x: left + plotW + 6, y: top + 4 }, points(most)));
    svg.append(s("text", { x: left + plotW + 6, y: top + plotH + 4 }, "0"));
    days.forEach((d, i) => {
      const x = left + i * step + (step - bar) / 2;
      let above = 0, below = 0;
      const parts = SERIES.map(([key, , color, sign]) => [d[key], color, sign]);
      parts.push([Math.abs(d.adjusted), "#ffb800", d.adjusted >= 0 ? 1 : -1]);
      for (const [value, color, sign] of parts) {
        if (!value) continue;
        const from = sign > 0 ? above : -below, to = from + sign * value;
        svg.append(s("rect", { x, width: bar, y: y(Math.max(from, to)), height: Math.abs(y(from) - y(to)), fill: color }));
        if (sign > 0) above += value; else below += value;
      }
    });
    const line = days.map((d, i) => `${(left + i * step + step / 2).toFixed(1)},${y2(d.outstanding).toFixed(1)}`).join(" ");
    svg.append(s("polyline", { points: line, fill: "none", stroke: "#303030", "stroke-width": 2 }));
    const labels = days.length > 1 ? [0, Math.floor((days.length - 1) / 2), days.length - 1] : [0];
    for (const i of labels) {
      svg.append(s("text", { x: left + i * step + step / 2, y: height - 10, "text-anchor": "middle" }, date(days[i].day)));
    }
    document.getElementById("chart").replaceChildren(svg);
    document.getElementById("legend").replaceChildren(
      ...SERIES.map(([, label, color]) => h("span", { style: `--swatch: ${color}` }, label)),
      h("span", { style: "--swatch: #ffb800" }, t("report.adjusted")),
      h("span", { style: "--swatch: #303030" }, t("report.outstanding_line")));
  }

  function range() {
    return `from=${document.getElementById("from").value}&to=${document.getElementById("to").value}`;
  }

  /* `initial`: the URL's from/to if any, else the API's default (the 30 days up to the shop's today). */
  async function load(initial = false) {
    const url = new URLSearchParams(window.location.search);
    const asked = initial ? ["from", "to"].filter((k) => url.get(k)).map((k) => `${k}=${url.get(k)}`).join("&") : range();
    const report = await api(`/reports/liability${asked ? `?${asked}` : ""}`);
    document.getElementById("from").value = report.from;
    document.getElementById("to").value = report.to;
    currency = report.currency;
    const last = report.days[report.days.length - 1];
    document.getElementById("outstanding").textContent = points(last.outstanding);
    document.getElementById("value").textContent = money(last.outstanding_value, currency);
    document.getElementById("available").textContent = points(last.available);
    document.getElementById("pending").textContent = points(last.pending);
    chart(report.days);
    const columns = ["earned", "matured", "clawed_back", "redeemed", "expired", "recredited", "adjusted", "pending", "available", "outstanding"];
    fill(document.querySelector("#days tbody"), report.days.slice().reverse().map((d) => h("tr", {},
      h("td", {}, date(d.day)), ...columns.map((c) => h("td", { class: "num" }, points(d[c]))),
      h("td", { class: "num" }, money(d.outstanding_value, currency)))),
    t("report.no_days"), 12);
  }

  function download() {
    Loyalty.download(`/reports/liability.csv?${range()}`, "points-liability.csv").catch((e) => banner(e.message));
  }

  Loyalty.start(async () => {
    document.getElementById("range").addEventListener("submit", (event) => {
      event.preventDefault();
      load().catch((e) => banner(e.message));
    });
    document.getElementById("csv").addEventListener("click", download);
    await load(true);
  });
})();
