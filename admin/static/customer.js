/* One customer: balances, pending points, full history, manual adjustment, vouchers with cancel. */
"use strict";

(() => {
  const { api, h, fill, points, signed, day, moment, badge, banner, uniqueToken } = Loyalty;
  const id = document.getElementById("customer").dataset.customerId;
  let clientToken = uniqueToken();  // one per filled-in form: a double submit adjusts once

  function show(customer) {
    const who = customer.customer;
    document.getElementById("page-title").textContent = who.email || `Customer ${who.shopify_customer_id}`;
    document.getElementById("page-subtitle").textContent = who.shopify_customer_id ? `Shopify customer ${who.shopify_customer_id}` : "Guest (no Shopify account yet)";
    for (const name of ["available", "pending", "lifetime"]) document.getElementById(name).textContent = points(customer[name]);
    fill(document.querySelector("#pending-lots tbody"), customer.pending_lots.map((lot) => h("tr", {},
      h("td", {}, lot.name || lot.order), h("td", { class: "num" }, points(lot.points)), h("td", {}, day(lot.pending_until)))),
    "Nothing pending.", 3);
    fill(document.querySelector("#history tbody"), customer.entries.slice().reverse().map((e) => h("tr", {},
      h("td", {}, day(e.effective_at)), h("td", {}, badge(e.kind)),
      h("td", { class: "num" }, e.kind === "mature" ? h("span", { class: "Subdued" }, `${points(e.available)} now available`) : signed(e.points)),
      h("td", {}, e.reason, e.pending_until ? h("div", { class: "Subdued" }, `pending until ${day(e.pending_until)}`) : null),
      h("td", {}, e.actor ? `staff ${e.actor}` : h("span", { class: "Subdued" }, "automatic")))),
    "No points yet.", 5);
    fill(document.querySelector("#vouchers tbody"), customer.vouchers.map((v) => h("tr", {},
      h("td", {}, v.code), h("td", {}, v.kind), h("td", { class: "num" }, points(v.points)), h("td", { class: "num" }, v.amount),
      h("td", {}, badge(v.status)), h("td", {}, day(v.ends_at)),
      h("td", {}, v.cancellable ? h("button", { class: "Button", type: "button", onclick: () => cancel(v.code) }, "Cancel and re-credit") : null))),
    "No vouchers.", 7);
  }

  async function load() { show(await api(`/customers/${id}`)); }

  function cancel(code) { return Loyalty.cancelVoucher(code, load); }

  Loyalty.start(async () => {
    await load();
    const form = document.getElementById("adjust");
    form.addEventListener("input", () => { clientToken = uniqueToken(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = document.getElementById("adjust-submit");
      button.disabled = true;
      try {
        const answer = await api(`/customers/${id}/adjustments`, { method: "POST", body: {
          points: Number(form.points.value), reason: form.reason.value, client_token: clientToken } });
        banner(`${answer.adjustment.points > 0 ? "Added" : "Took"} ${points(Math.abs(answer.adjustment.points))} points`, "success");
        form.reset();
        clientToken = uniqueToken();
        await load();
      } catch (error) {
        banner(error.message);
      } finally {
        button.disabled = false;
      }
    });
  });
})();
