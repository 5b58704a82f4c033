/* The support desk: one customer's identity, balances, expiry, tier and perks, every order with its points or
   why none, history newest first (load more), vouchers with their real terms, emails, referrals, the birthday
   correction (reason required) and the manual adjustment (confirmed when negative or large). */
"use strict";

(() => {
  const { api, h, fill, points, signed, day, date, money, badge, banner, uniqueToken, t } = Loyalty;
  const id = document.getElementById("customer").dataset.customerId;
  const LARGE = 1000;  // an adjustment of more points than this asks for confirmation
  let clientToken = uniqueToken();  // one per filled-in form: a double submit adjusts once
  let available = 0;
  const pages = { orders: 1, history: 1 };

  /* "Why did this order earn nothing": the outcome's code, translated with its parameters. */
  function outcome(order) {
    const params = { ...order.outcome.params };
    for (const key of ["amount", "refunded"]) if (params[key]) params[key] = money(params[key], order.currency);
    if (params.until) params.until = day(params.until);
    if (params.at) params.at = day(params.at);
    return t(`outcome.${order.outcome.code}`, params);
  }

  const orderRow = (o) => h("tr", {},
    h("td", {}, o.name || String(o.shopify_order_id)), h("td", {}, day(o.paid_at)),
    h("td", { class: "num" }, money(o.merchandise, o.currency)), h("td", { class: "num" }, points(o.points)),
    h("td", { class: "outcome", "data-code": o.outcome.code }, outcome(o)));

  const entryRow = (e) => h("tr", {},
    h("td", {}, day(e.effective_at)), h("td", {}, badge(e.kind)),
    h("td", { class: "num" }, e.kind === "mature" ? h("span", { class: "Subdued" }, t("customer.now_available", { points: points(e.available) })) : signed(e.points)),
    h("td", {}, e.reason, e.pending_until ? h("div", { class: "Subdued" }, t("customer.pending_until", { date: day(e.pending_until) })) : null),
    h("td", {}, e.actor ? t("common.staff", { id: e.actor }) : h("span", { class: "Subdued" }, t("common.automatic"))));

  function terms(v) {
    const parts = [v.percentage ? `${v.percentage} %` : money(v.amount)];
    if (v.minimum_subtotal) parts.push(t("customer.minimum", { amount: money(v.minimum_subtotal) }));
    if (v.collection_id) parts.push(t("customer.collection", { id: v.collection_id }));
    return parts.join(" · ");
  }

  function show(c) {
    const who = c.customer;
    const name = [who.first_name, who.last_name].filter(Boolean).join(" ");
    document.getElementById("page-title").textContent = name || who.email || t("customer.shopify_customer", { id: who.shopify_customer_id });
    document.getElementById("page-subtitle").textContent = who.shopify_customer_id ? t("customer.shopify_customer", { id: who.shopify_customer_id }) : t("customer.guest");
    document.getElementById("identity").textContent = [name, who.email].filter(Boolean).join(" · ");
    document.getElementById("tags").textContent = who.tags.length ? t("customer.tags", { tags: who.tags.join(", ") }) : t("customer.no_tags");
    document.getElementById("emails-consent").textContent = who.accepts_loyalty_emails ? t("customer.emails_on") : t("customer.emails_off");
    available = c.available;
    for (const key of ["available", "pending", "lifetime"]) document.getElementById(key).textContent = points(c[key]);
    document.getElementById("expiry").textContent = c.expiry.date ? date(c.expiry.date) : t("customer.never");
    document.getElementById("tier").textContent = c.tier && c.tier.key ? `${c.tier.title}${c.tier.until ? " · " + t("customer.until", { date: day(c.tier.until) }) : ""}` : t("common.none");
    document.getElementById("birthday-now").textContent = who.birthday ? t("customer.birthday_is", { date: date(who.birthday) }) : t("customer.birthday_none");
    fill(document.querySelector("#orders tbody"), c.orders.map(orderRow), t("customer.no_orders"), 5);
    document.getElementById("orders-more").hidden = !c.orders_has_more;
    fill(document.querySelector("#history tbody"), c.entries.map(entryRow), t("customer.no_points"), 5);
    document.getElementById("history-more").hidden = !c.entries_has_more;
    pages.orders = pages.history = 1;
    fill(document.querySelector("#pending-lots tbody"), c.pending_lots.map((lot) => h("tr", {},
      h("td", {}, lot.name || lot.order), h("td", { class: "num" }, points(lot.points)), h("td", {}, day(lot.pending_until)))),
    t("customer.nothing_pending"), 3);
    fill(document.querySelector("#perks tbody"), c.perks.map((p) => h("tr", {},
      h("td", {}, p.title || p.key, p.period ? ` (${p.period})` : ""), h("td", {}, day(p.granted_at)),
      h("td", {}, p.revoked_at ? day(p.revoked_at) : "")), ), t("customer.no_perks"), 3);
    fill(document.querySelector("#vouchers tbody"), c.vouchers.map((v) => h("tr", {},
      h("td", {}, v.code), h("td", {}, t(`kind.${v.kind}`)), h("td", { class: "num" }, points(v.points)), h("td", { class: "terms" }, terms(v)),
      h("td", {}, badge(v.status)), h("td", {}, v.ends_at ? day(v.ends_at) : t("customer.no_end")),
      h("td", {}, v.cancellable ? h("button", { class: "Button", type: "button", onclick: () => Loyalty.cancelVoucher(v.code, load) }, t("customer.cancel_voucher")) : null))),
    t("customer.no_vouchers"), 7);
    fill(document.querySelector("#emails tbody"), c.emails.map((m) => h("tr", {},
      h("td", {}, day(m.sent_at || m.created_at)), h("td", {}, m.kind), h("td", {}, m.subject || ""),
      h("td", {}, badge(m.status), m.last_error ? h("div", { class: "Subdued" }, m.last_error) : null))), t("customer.no_emails"), 4);
    fill(document.querySelector("#referrals tbody"), c.referrals.made.map((r) => h("tr", {},
      h("td", {}, r.friend_email), h("td", {}, badge(r.status), r.reason ? h("div", { class: "Subdued" }, r.reason) : null),
      h("td", { class: "num" }, r.points === null ? "" : points(r.points)))), t("customer.no_referrals"), 3);
    const by = c.referrals.received;
    document.getElementById("referred-by").textContent = by ? t("customer.referred_by", { email: by.referrer_email || by.referrer_id }) : "";
  }

  async function load() { show(await api(`/customers/${id}`)); }

  async function more(kind, path, key, row) {
    pages[kind] += 1;
    const answer = await api(`/customers/${id}/${path}?page=${pages[kind]}`);
    document.querySelector(`#${kind} tbody`).append(...answer[key].map(row));
    document.getElementById(`${kind}-more`).hidden = !answer.has_more;
  }

  /* A negative or large adjustment is confirmed, saying the balance after it. */
  function confirmed(amount) {
    if (amount >= 0 && amount <= LARGE) return true;
    const key = amount < 0 ? "customer.confirm_negative" : "customer.confirm_large";
    return window.confirm(t(key, { points: points(Math.abs(amount)), after: points(available + amount) }));
  }

  function onSubmit(form, buttonId, send) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = document.getElementById(buttonId);
      button.disabled = true;
      try { await send(); } catch (error) { banner(error.message); } finally { button.disabled = false; }
    });
  }

  Loyalty.start(async () => {
    await load();
    document.getElementById("orders-more").addEventListener("click", () => more("orders", "orders", "orders", orderRow).catch((e) => banner(e.message)));
    document.getElementById("history-more").addEventListener("click", () => more("history", "entries", "entries", entryRow).catch((e) => banner(e.message)));
    const form = document.getElementById("adjust");
    form.addEventListener("input", () => { clientToken = uniqueToken(); });
    onSubmit(form, "adjust-submit", async () => {
      const amount = Number(form.points.value);
      if (!confirmed(amount)) return;
      const answer = await api(`/customers/${id}/adjustments`, { method: "POST", body: {
        points: amount, reason: form.reason.value, client_token: clientToken } });
      const made = answer.adjustment.points;
      banner(t(made > 0 ? "customer.added" : "customer.took", { points: points(Math.abs(made)) }), "success");
      form.reset();
      clientToken = uniqueToken();
      await load();
    });
    const birthday = document.getElementById("birthday");
    onSubmit(birthday, "birthday-submit", async () => {
      const answer = await api(`/customers/${id}/birthday`, { method: "PUT", body: {
        birthday: birthday.birthday.value || null, reason: birthday.reason.value } });
      banner(t(answer.present_given_this_year ? "customer.birthday_saved_given" : "customer.birthday_saved"), "success");
      birthday.reset();
      await load();
    });
  });
})();
