/* Home: the programme at a glance over a period of the shop's days (/admin/api/home): members, points per
   bucket, redemption rate, members' and non-members' orders, rewards by popularity, the liability in money.
   Each chart (inline SVG, charts.js) has its table; the period and grouping are kept in the URL. */
"use strict";

(() => {
  const { api, h, fill, points, money, date, banner, t } = Loyalty;
  const SERIES = [["earned", t("home.earned"), "#29845a"], ["redeemed", t("home.redeemed"), "#005bd3"],
                  ["expired", t("home.expired"), "#b5b5b5"]];
  const LINE = ["outstanding", t("home.outstanding_line"), "#303030"];

  const field = (id) => document.getElementById(id);
  const set = (id, text) => { field(id).textContent = text; };

  function query() {
    const params = new URLSearchParams();
    for (const name of ["from", "to", "group"]) if (field(name).value) params.set(name, field(name).value);
    return params.toString();
  }

  function period(b) {
    return b.start === b.end ? date(b.start) : t("home.range", { from: date(b.start), to: date(b.end) });
  }

  function rate(text) {
    return text === null ? "—" : new Intl.NumberFormat(Loyalty.language === "fr" ? "fr-FR" : "en-US",
      { style: "percent", maximumFractionDigits: 1 }).format(Number(text));
  }

  function show(home) {
    field("from").value = home.from;
    field("to").value = home.to;
    field("group").value = home.group;
    set("members", points(home.members));
    set("active", points(home.active_members));
    set("earned", points(home.points.earned));
    set("redeemed", points(home.points.redeemed));
    set("rate", rate(home.points.redemption_rate));
    set("outstanding", points(home.points.outstanding));
    set("liability", money(home.liability.value, home.currency));
    set("credit", money(home.liability.store_credit.outstanding, home.currency));

    LoyaltyCharts.legend(field("points-legend"), [...SERIES, LINE]);
    LoyaltyCharts.columns(field("points-chart"), home.buckets, SERIES,
                          { line: LINE, label: (b) => date(b.start), format: points });
    fill(document.querySelector("#buckets tbody"), home.buckets.slice().reverse().map((b) => h("tr", {},
      h("td", {}, period(b)), ...["earned", "redeemed", "expired", "outstanding"].map((k) => h("td", { class: "num" }, points(b[k]))))),
    t("home.no_days"), 5);

    const groups = [["members", t("home.members_orders")], ["non_members", t("home.non_members_orders")]];
    LoyaltyCharts.bars(field("orders-chart"), groups.map(([key, label]) => ({
      label, value: Number(home.orders[key].revenue), text: money(home.orders[key].revenue, home.currency) })), "#29845a");
    fill(document.querySelector("#orders tbody"), groups.map(([key, label]) => {
      const o = home.orders[key];
      return h("tr", {}, h("th", { scope: "row" }, label), h("td", { class: "num" }, points(o.orders)),
        h("td", { class: "num" }, points(o.customers)), h("td", { class: "num" }, money(o.revenue, home.currency)),
        h("td", { class: "num" }, o.orders_per_customer === null ? "—" : Number(o.orders_per_customer).toLocaleString(Loyalty.language === "fr" ? "fr-FR" : "en-US", { minimumFractionDigits: 2 })));
    }), t("home.no_orders"), 5);
    field("guest-orders").textContent = t("home.guest_orders", { count: points(home.orders.non_members.guest_orders) });

    const name = (r) => r.reward_key || t("home.conversion");
    LoyaltyCharts.bars(field("rewards-chart"), home.rewards.map((r) => ({
      label: name(r), value: r.count, text: points(r.count) })), "#005bd3");
    fill(document.querySelector("#rewards tbody"), home.rewards.map((r) => h("tr", {},
      h("td", {}, name(r)), h("td", {}, r.kind.replace("_", " ")), h("td", { class: "num" }, points(r.count)),
      h("td", { class: "num" }, points(r.points)))), t("home.no_rewards"), 4);
  }

  async function load(first) {
    const home = await api(`/home?${first ? new URLSearchParams(window.location.search).toString() : query()}`);
    show(home);
    if (!first) {
      const params = new URLSearchParams(window.location.search);
      for (const name of ["from", "to", "group"]) params.set(name, home[name]);
      window.history.replaceState(null, "", `${window.location.pathname}?${params}`);
    }
  }

  Loyalty.start(async () => {
    field("period").addEventListener("submit", (event) => {
      event.preventDefault();
      load(false).catch((e) => banner(e.message));
    });
    field("csv").addEventListener("click", () => Loyalty.download(`/home.csv?${query()}`, "loyalty-overview.csv")
      .catch((e) => banner(e.message)));
    await load(true);
  });
})();
