/* The admin pages' shared code: session tokens, API calls, and small DOM helpers.
   In Shopify's admin, App Bridge (loaded from Shopify's CDN) provides `shopify.idToken()`. In a local run
   the page has a meta tag pointing at the app's demo token endpoint instead. No other script is loaded. */
"use strict";

const Loyalty = (() => {
  let devToken = null;

  /* The page's texts in the staff member's language (admin/i18n: common's and the page's own). */
  const texts = JSON.parse(document.getElementById("loyalty-texts").textContent);
  const language = document.documentElement.lang || "en";
  function t(key, values = {}) {
    let text = Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : key;
    for (const [name, value] of Object.entries(values)) text = text.split(`{${name}}`).join(String(value));
    return text;
  }

  /* The shop's facts (/admin/api/shop: name, IANA time zone, currency, locale), read once by start(). */
  const shop = { domain: "", name: "", timezone: "UTC", currency: "", locale: language, language };

  async function sessionToken(fresh = false) {
    if (window.shopify && typeof window.shopify.idToken === "function") return window.shopify.idToken();
    const meta = document.querySelector('meta[name="loyalty-dev-tokens"]');
    if (!meta) throw new Error(t("common.not_embedded"));
    if (fresh || !devToken || devToken.expires - Date.now() < 10000) {
      const answer = await fetch(meta.content);
      if (!answer.ok) throw new Error("could not get a demo session token");
      const token = (await answer.json()).token;
      const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      devToken = { token, expires: claims.exp * 1000 };
    }
    return devToken.token;
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error) || `HTTP ${status}`);
      this.status = status;
      this.field = body && body.field;
      this.body = body;
    }
  }

  /* Calls the admin API with the session token; retries once with a fresh token when told to. */
  async function api(path, { method = "GET", body, raw = false } = {}) {
    for (let attempt = 0; ; attempt++) {
      const headers = { Authorization: `Bearer ${await sessionToken(attempt > 0)}` };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const answer = await fetch(`/admin/api${path}`, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (answer.status === 401 && attempt === 0 && answer.headers.get("X-Shopify-Retry-Invalid-Session-Request")) continue;
      if (!answer.ok) {
        let detail = null;
        try { detail = await answer.json(); } catch (_) { /* not JSON */ }
        throw new ApiError(answer.status, detail);
      }
      return raw ? answer : answer.json();
    }
  }

  /* h("td", {class: "num"}, "12"): an element; strings become text nodes (never HTML). */
  function h(tag, attrs = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else if (name === "value") element.value = value;
      else if (name === "checked") element.checked = Boolean(value);
      else element.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  function fill(tbody, rows, emptyText, columns) {
    tbody.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: columns, class: "Empty" }, emptyText))]));
  }

  /* A link inside the app that keeps ?shop=...&host=... (App Bridge needs them on every page). */
  function href(path) {
    return path + window.location.search;
  }

  /* Formatting in the staff member's language, in the shop's currency and time zone. */
  const localeTag = () => (language === "fr" ? "fr-FR" : "en-US");
  const numbers = () => new Intl.NumberFormat(localeTag());
  const points = (n) => numbers().format(n);
  const signed = (n) => h("span", { class: n < 0 ? "Points-minus" : "Points-plus" }, (n > 0 ? "+" : "") + numbers().format(n));
  /* An amount (a decimal string such as "5.0000") in `currency` (default: the shop's), 2 decimals. */
  function money(amount, currency) {
    if (amount === null || amount === undefined || amount === "") return "";
    const code = currency || shop.currency;
    const value = Number(amount);
    if (!code) return new Intl.NumberFormat(localeTag(), { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
    return new Intl.NumberFormat(localeTag(), { style: "currency", currency: code }).format(value);
  }
  /* An instant (ISO with offset) as the shop's calendar day / day and time, in the shop's time zone. */
  const day = (iso) => (iso ? new Date(iso).toLocaleDateString(localeTag(), { year: "numeric", month: "short", day: "numeric", timeZone: shop.timezone }) : "");
  const moment = (iso) => (iso ? new Date(iso).toLocaleString(localeTag(), { dateStyle: "medium", timeStyle: "short", timeZone: shop.timezone }) : "");
  /* A calendar date ("YYYY-MM-DD": a birthday, a report's day), shown as that same date anywhere. */
  const date = (isoDate) => (isoDate ? new Date(`${isoDate.slice(0, 10)}T12:00:00Z`).toLocaleDateString(localeTag(), { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }) : "");

  const TONES = {
    active: "success", earn: "success", mature: "success", recredit: "info", adjust: "attention",
    creating: "info", used: "info", donated: "info", cancelled: "", expired: "", refused: "critical",
    claw_back: "critical", void: "critical", expire: "", redeem: "info",
  };
  const badge = (text) => h("span", { class: `Badge${TONES[text] ? " Badge--" + TONES[text] : ""}` }, text.replace("_", " "));

  function banner(message, tone = "critical") {
    const element = document.getElementById("banner");
    if (!message) { element.hidden = true; return; }
    element.className = `Banner Banner--${tone}`;
    element.textContent = message;
    element.hidden = false;
    if (tone === "success" && window.shopify && window.shopify.toast) window.shopify.toast.show(message);
  }

  function uniqueToken() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /* Once per page load: /auth/session makes sure the shop has an offline token (under Shopify's managed
     installation, this is what installs the app), then the page's start-up function runs. */
  async function session() {
    const answer = await fetch("/auth/session", { method: "POST", headers: { Authorization: `Bearer ${await sessionToken()}` } });
    if (!answer.ok) throw new Error((await answer.json().catch(() => ({}))).error || t("common.session_failed"));
    Object.assign(shop, (await api("/shop")).shop);
  }

  /* Runs a page's start-up function, showing any failure in the banner. */
  function start(main) {
    // The server renders the page in the language of Shopify's `locale` parameter; App Bridge also knows
    // the staff member's locale (shopify.config.locale): when the URL lacks it, ask for the page in it.
    const params = new URLSearchParams(window.location.search);
    const staffLocale = window.shopify && window.shopify.config && window.shopify.config.locale;
    if (staffLocale && !params.has("locale") && staffLocale.slice(0, 2).toLowerCase() !== language) {
      params.set("locale", staffLocale);
      window.location.replace(`${window.location.pathname}?${params}`);
      return;
    }
    document.querySelectorAll("a[data-keep-query]").forEach((a) => { a.href = href(a.getAttribute("href")); });
    session().then(main).catch((error) => banner(error.message));
  }

  /* Downloads an admin API answer (a CSV export) under the name its Content-Disposition gives. */
  async function download(path, fallback) {
    const answer = await api(path, { raw: true });
    const name = /filename="([^"]+)"/.exec(answer.headers.get("Content-Disposition") || "")?.[1] || fallback;
    const link = h("a", { href: URL.createObjectURL(await answer.blob()), download: name });
    document.body.append(link);
    link.click();
    link.remove();
  }

  /* Cancel a voucher in Shopify and credit its points back (after the merchant confirms), then `reload()`. */
  async function cancelVoucher(code, reload) {
    if (!window.confirm(t("voucher.cancel_confirm", { code }))) return;
    try {
      await api(`/vouchers/${encodeURIComponent(code)}/cancel`, { method: "POST", body: {} });
      banner(t("voucher.cancelled", { code }), "success");
      await reload();
    } catch (error) { banner(error.message); }
  }

  return { api, ApiError, h, fill, href, points, signed, money, day, moment, date, badge, banner, uniqueToken, start,
           sessionToken, cancelVoucher, download, t, language, shop };
})();
