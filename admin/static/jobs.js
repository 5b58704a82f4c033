/* Failed webhooks of the shop, with retry; and every other background failure of the shop, with its reason. */
"use strict";

(() => {
  const { api, h, fill, moment, banner } = Loyalty;

  const KINDS = {
    webhook_retrying: "Event waiting for another attempt",
    history_import: "History import",
    reconciliation: "Reconciliation",
    balance_sync: "Balance write-back set aside",
    write_back_blocked: "No balance can be written back",
    email_failed: "Email failed",
    email_retrying: "Email waiting for another attempt",
    voucher_waiting: "Voucher waiting on Shopify",
    flow_failed: "Shopify Flow trigger failed",
    flow_retrying: "Shopify Flow trigger waiting for another attempt",
  };

  async function load() {
    const answer = await api("/failed-jobs");
    fill(document.querySelector("#jobs tbody"), answer.failed_jobs.map((job) => h("tr", {},
      h("td", {}, job.topic, h("div", { class: "Subdued" }, job.webhook_id)), h("td", {}, moment(job.received_at)),
      h("td", {}, moment(job.failed_at)), h("td", { class: "num" }, job.attempts), h("td", {}, job.last_error || ""),
      h("td", {}, h("button", { class: "Button", type: "button", onclick: () => retry(`/failed-jobs/${job.id}/retry`) }, "Retry")))),
    "Nothing failed: every event was applied.", 6);
    document.getElementById("retry-all").disabled = answer.failed_jobs.length === 0;
    const others = answer.failures.filter((f) => f.kind !== "webhook_failed");
    fill(document.querySelector("#failures tbody"), others.map((f) => h("tr", {},
      h("td", {}, KINDS[f.kind] || f.kind), h("td", {}, f.subject), h("td", {}, moment(f.at)),
      h("td", { class: "num" }, f.attempts === null ? "" : f.attempts),
      h("td", {}, f.next_attempt_at ? moment(f.next_attempt_at) : h("span", { class: "Subdued" }, "waits for a fix")),
      h("td", {}, f.reason))),
    "Nothing else failed.", 6);
  }

  async function retry(path) {
    try {
      const answer = await api(path, { method: "POST", body: {} });
      banner(`${answer.retried} queued for another round of attempts`, "success");
      await load();
    } catch (error) { banner(error.message); }
  }

  Loyalty.start(async () => {
    document.getElementById("retry-all").addEventListener("click", () => retry("/failed-jobs/retry"));
    await load();
  });
})();
