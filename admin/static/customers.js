/* Customer search with balances, and the audit trail of manual adjustments. */
"use strict";

(() => {
  const { api, h, fill, href, points, signed, moment } = Loyalty;
  let page = 1, latest = 0;  // only the latest search may fill the table (answers can come back out of order)

  const customerLink = (id, label) => h("a", { href: href(`/admin/customers/${id}`) }, label);

  async function search() {
    const q = document.getElementById("q").value.trim();
    const mine = ++latest;
    const answer = await api(`/customers?q=${encodeURIComponent(q)}&page=${page}`);
    if (mine !== latest) return;
    fill(document.querySelector("#customers tbody"), answer.customers.map((c) => h("tr", {},
      h("td", {}, customerLink(c.id, c.email || `customer ${c.shopify_customer_id}`)),
      h("td", {}, c.shopify_customer_id ?? "—"),
      h("td", { class: "num" }, points(c.available)), h("td", { class: "num" }, points(c.pending)))),
    q ? `No customer matches “${q}”.` : "No customers yet: they appear with their first order.", 4);
    document.getElementById("prev").disabled = page === 1;
    document.getElementById("next").disabled = !answer.has_more;
  }

  async function audit() {
    const answer = await api("/adjustments");
    fill(document.querySelector("#adjustments tbody"), answer.adjustments.map((a) => h("tr", {},
      h("td", {}, moment(a.created_at)), h("td", {}, a.customer_id ? customerLink(a.customer_id, a.email || `#${a.customer_id}`) : "redacted"),
      h("td", { class: "num" }, signed(a.points)), h("td", {}, a.reason), h("td", {}, `staff ${a.actor}`))),
    "No manual adjustment yet.", 5);
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
