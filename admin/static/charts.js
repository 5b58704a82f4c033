/* Charts drawn as inline SVG, no library (a few rects, a polyline and labels are all the home page and the
   liability report need; a charting library would be the admin's only dependency beyond App Bridge).
   Every chart sits beside a table holding the same figures, which screen readers read instead. */
"use strict";

const LoyaltyCharts = (() => {
  const SVG = "http://www.w3.org/2000/svg";

  /* s("rect", {x: 1}): an SVG element; text becomes a text node (never markup). */
  function s(tag, attrs, text) {
    const element = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
    if (text !== undefined) element.textContent = text;
    return element;
  }

  /* Side-by-side bars per bucket for `series` ([key, label, color]) and, if given, `line` ([key, label,
     color]) on a right-hand scale; `label(row)` names a bucket on the axis; `format` writes a value. */
  function columns(container, rows, series, { line = null, label, format }) {
    const width = 960, height = 280, left = 64, right = line ? 72 : 16, top = 16, bottom = 32;
    const plotW = width - left - right, plotH = height - top - bottom;
    const most = Math.max(1, ...rows.flatMap((r) => series.map(([key]) => Math.abs(r[key]))));
    const y = (v) => top + plotH * (1 - v / most);
    const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, xmlns: SVG, "aria-hidden": "true" });
    svg.append(s("line", { class: "axis", x1: left, x2: left + plotW, y1: y(0), y2: y(0) }));
    svg.append(s("text", { x: left - 6, y: y(most) + 4, "text-anchor": "end" }, format(most)));
    svg.append(s("text", { x: left - 6, y: y(0) + 4, "text-anchor": "end" }, "0"));
    const step = plotW / Math.max(1, rows.length), bar = Math.max(1, (step * 0.8) / series.length);
    rows.forEach((r, i) => {
      series.forEach(([key, , color], j) => {
        const value = Math.abs(r[key]);
        if (!value) return;
        svg.append(s("rect", { x: left + i * step + step * 0.1 + j * bar, width: bar, y: y(value),
                               height: y(0) - y(value), fill: color, "data-key": key }));
      });
    });
    if (line) {
      const [key, , color] = line;
      const high = Math.max(1, ...rows.map((r) => r[key]));
      const y2 = (v) => top + plotH * (1 - v / high);
      const path = rows.map((r, i) => `${(left + i * step + step / 2).toFixed(1)},${y2(r[key]).toFixed(1)}`).join(" ");
      svg.append(s("polyline", { points: path, fill: "none", stroke: color, "stroke-width": 2 }));
      svg.append(s("text", { x: left + plotW + 6, y: top + 4 }, format(high)));
      svg.append(s("text", { x: left + plotW + 6, y: top + plotH + 4 }, "0"));
    }
    const marks = rows.length > 1 ? [...new Set([0, Math.floor((rows.length - 1) / 2), rows.length - 1])] : [0];
    for (const i of rows.length ? marks : []) {
      svg.append(s("text", { x: left + i * step + step / 2, y: height - 10, "text-anchor": "middle" }, label(rows[i])));
    }
    container.replaceChildren(svg);
  }

  /* One horizontal bar per row ({label, value, text}), longest first as given. */
  function bars(container, rows, color) {
    if (!rows.length) { container.replaceChildren(); return; }  /* the table says "none" */
    const width = 960, row = 28, left = 220, right = 140;
    const height = Math.max(1, rows.length) * row + 8;
    const most = Math.max(1, ...rows.map((r) => r.value));
    const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, xmlns: SVG, "aria-hidden": "true" });
    rows.forEach((r, i) => {
      const y = 4 + i * row;
      svg.append(s("text", { x: left - 8, y: y + row / 2 + 4, "text-anchor": "end" }, r.label));
      svg.append(s("rect", { x: left, y: y + 4, height: row - 8, width: Math.max(1, (width - left - right) * r.value / most),
                             fill: color, rx: 3 }));
      svg.append(s("text", { x: left + (width - left - right) * r.value / most + 8, y: y + row / 2 + 4 }, r.text));
    });
    container.replaceChildren(svg);
  }

  /* The legend of a chart: a swatch and a label per series. */
  function legend(container, entries) {
    container.replaceChildren(...entries.map(([, label, color]) => Loyalty.h("span", { style: `--swatch: ${color}` }, label)));
  }

  return { s, columns, bars, legend };
})();
