/* The shop's email texts: pick a kind and language, edit its subject and text, preview, send a test, save
   or go back to the built-in text (the API checks every variable: an unknown one is named in the banner). */
"use strict";

(() => {
  const { api, h, banner, t } = Loyalty;
  const $ = (id) => document.getElementById(id);
  let texts = [];

  const KINDS = ["points_available", "threshold_reached", "voucher_created", "voucher_cancelled", "points_expiring",
    "birthday", "points_awarded", "birthday_gift", "tier_changed", "referral_friend", "referral_reward",
    "store_credit_issued"];

  const current = () => texts.find((e) => e.kind === $("kind").value && e.language === $("language").value);
  const path = () => `/emails/${$("kind").value}/${$("language").value}`;
  const draft = () => ({ subject: $("subject").value, body: $("body").value });

  function show() {
    const text = current();
    if (!text) return;  // the texts are still loading: load() shows the choice when they arrive
    $("subject").value = text.subject;
    $("body").value = text.body;
    $("state").textContent = text.custom ? t("emails.custom") : t("emails.builtin");
    $("state").className = `Badge${text.custom ? " Badge--success" : ""}`;
    $("variables").replaceChildren(t("emails.variables"), ...text.variables.map((v) => h("code", {}, `{{ ${v} }} `)));
    unmark();
    $("preview-card").hidden = true;
  }

  function unmark() {
    for (const id of ["subject", "body"]) $(id).classList.remove("invalid");
  }

  function refused(error) {
    if (error.field === "subject" || error.field === "body") $(error.field).classList.add("invalid");
    banner(error.message);
  }

  async function load() {
    texts = (await api("/emails")).emails;
    show();
  }

  async function preview() {
    banner(null);
    unmark();
    try {
      const email = await api(`${path()}/preview`, { method: "POST", body: draft() });
      $("preview-subject").textContent = email.subject;
      $("preview-html").srcdoc = email.html;
      $("preview-text").textContent = email.text;
      $("preview-card").hidden = false;
    } catch (error) { refused(error); }
  }

  async function save() {
    try {
      const answer = await api(path(), { method: "PUT", body: draft() });
      Object.assign(current(), answer.email);
      show();
      banner(t("emails.saved"), "success");
    } catch (error) { refused(error); }
  }

  async function reset() {
    try {
      const answer = await api(path(), { method: "DELETE" });
      Object.assign(current(), answer.email);
      show();
      banner(t("emails.reset_done"), "success");
    } catch (error) { banner(error.message); }
  }

  async function sendTest() {
    try {
      const answer = await api(`${path()}/test`, { method: "POST", body: { to: $("test-to").value, ...draft() } });
      banner(t("emails.test_sent", { to: answer.sent_to }), "success");
    } catch (error) { refused(error); }
  }

  Loyalty.start(async () => {
    $("kind").replaceChildren(...KINDS.map((key) => h("option", { value: key }, t(`emails.kind.${key}`))));
    $("kind").addEventListener("change", show);
    $("language").addEventListener("change", show);
    $("preview").addEventListener("click", preview);
    $("save").addEventListener("click", save);
    $("reset").addEventListener("click", reset);
    $("send-test").addEventListener("click", sendTest);
    await load();
  });
})();
