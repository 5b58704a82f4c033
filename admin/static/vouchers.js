/* The shop's vouchers, with cancel-and-re-credit. Amounts in the shop's currency, end days in its time zone;
   gift cards and donations have no end date, and say so. */
"use strict";

(() => {
  const { api, h, fill, href, points, day, badge, money, t } = Loyalty;
  const WITHOUT_END = new Set(["gift_card", "donation"]);
  let page = 1;

  function status(value) {
    const element = badge(value);  // its tone follows the status; its text the staff member's language
    element.textContent = t(`vouchers.status.${value}`);
    return element;
  }

  function ends(v) {
    if (WITHOUT_END.has(v.kind) || !v.ends_at) return h("span", { class: "Subdued" }, t("vouchers.no_end"));
    return day(v.ends_at);
  }

  async function load() {
    const chosen = document.getElementById("status").value;
    const answer = await api(`/vouchers?page=${page}${chosen ? `&status=${chosen}` : ""}`);
    fill(document.querySelector("#vouchers tbody"), answer.vouchers.map((v) => h("tr", {},
      h("td", {}, v.code),
      h("td", {}, v.customer_id ? h("a", { href: href(`/admin/customers/${v.customer_id}`) }, v.email || `#${v.customer_id}`) : "—"),
      h("td", {}, t(`vouchers.kind.${v.kind}`)), h("td", { class: "num" }, points(v.points)),
      h("td", { class: "num" }, money(v.amount)),
      h("td", {}, status(v.status)), h("td", {}, ends(v)),
      h("td", {}, v.cancellable ? h("button", { class: "Button", type: "button", onclick: () => cancel(v.code) }, t("vouchers.cancel")) : null))),
    t("vouchers.empty"), 8);
    document.getElementById("prev").disabled = page === 1;
    document.getElementById("next").disabled = !answer.has_more;
  }

  function cancel(code) { return Loyalty.cancelVoucher(code, load); }

  Loyalty.start(async () => {
    document.getElementById("status").addEventListener("change", () => { page = 1; load(); });
    document.getElementById("prev").addEventListener("click", () => { page -= 1; load(); });
    document.getElementById("next").addEventListener("click", () => { page += 1; load(); });
    await load();
  });
})();
