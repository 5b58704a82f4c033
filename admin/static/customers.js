/* Customer search (name, email, Shopify id or order number) with names, tags and balances, and the audit
   trail of manual adjustments. */
"use strict";

(() => {
  const { api, h, fill, href, points, signed, moment, t } = Loyalty;
  let page = 1, latest = 0;  // only the latest search may fill the table (answers can come back out of order)

  const customerLink = (id, label) => h("a", { href: href(`/admin/customers/${id}`) }, label);
  const fullName = (c) => [c.first_name, c.last_name].filter(Boolean).join(" ");

  /* The customer's cell: the name (else the email, else the Shopify id) as a link, the email beneath. */
  function who(c) {
    const name = fullName(c);
    const label = name || c.email || t("customers.unnamed", { id: c.shopify_customer_id ?? c.id });
    return h("td", {}, customerLink(c.id, label), name && c.email ? h("div", { class: "Subdued" }, c.email) : "");
  }

  const tags = (c) => h("td", {}, c.tags.flatMap((tag, i) => [i ? " " : "", h("span", { class: "Badge" }, tag)]));

  async function search() {
    const q = document.getElementById("q").value.trim();
    const mine = ++latest;
    const answer = await api(`/customers?q=${encodeURIComponent(q)}&page=${page}`);
    if (mine !== latest) return;
    fill(document.querySelector("#customers tbody"), answer.customers.map((c) => h("tr", {},
      who(c), tags(c), h("td", {}, c.shopify_customer_id ?? "—"),
      h("td", { class: "num" }, points(c.available)), h("td", { class: "num" }, points(c.pending)))),
    q ? t("customers.no_match", { q }) : t("customers.none_yet"), 5);
    document.getElementById("prev").disabled = page === 1;
    document.getElementById("next").disabled = !answer.has_more;
  }

  async function audit() {
    const answer = await api("/adjustments");
    fill(document.querySelector("#adjustments tbody"), answer.adjustments.map((a) => h("tr", {},
      h("td", {}, moment(a.created_at)),
      h("td", {}, a.customer_id ? customerLink(a.customer_id, a.email || `#${a.customer_id}`) : t("customers.redacted")),
      h("td", { class: "num" }, signed(a.points)), h("td", {}, a.reason),
      h("td", {}, t("common.staff", { id: a.actor })))),
    t("customers.no_adjustment"), 5);
  }

  Loyalty.start(async () => {
    const params = new URLSearchParams(window.location.search);
    document.getElementById("q").value = params.get("q") || "";
    document.getElementById("search").addEventListener("submit", (event) => {
      event.preventDefault();
      page = 1;
      search().catch((e) => Loyalty.banner(e.message));
    });
    document.getElementById("prev").addEventListener("click", () => { page -= 1; search(); });
    document.getElementById("next").addEventListener("click", () => { page += 1; search(); });
    await Promise.all([search(), audit()]);
  });
})();
