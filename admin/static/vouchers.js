/* The shop's vouchers, with cancel-and-re-credit. */
"use strict";

(() => {
  const { api, h, fill, href, points, day, badge } = Loyalty;
  let page = 1;

  async function load() {
    const status = document.getElementById("status").value;
    const answer = await api(`/vouchers?page=${page}${status ? `&status=${status}` : ""}`);
    fill(document.querySelector("#vouchers tbody"), answer.vouchers.map((v) => h("tr", {},
      h("td", {}, v.code),
      h("td", {}, v.customer_id ? h("a", { href: href(`/admin/customers/${v.customer_id}`) }, v.email || `#${v.customer_id}`) : "—"),
      h("td", {}, v.kind), h("td", { class: "num" }, points(v.points)), h("td", { class: "num" }, v.amount),
      h("td", {}, badge(v.status)), h("td", {}, day(v.ends_at)),
      h("td", {}, v.cancellable ? h("button", { class: "Button", type: "button", onclick: () => cancel(v.code) }, "Cancel and re-credit") : null))),
    "No vouchers.", 8);
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
