/* Failed webhooks of the shop, with retry; and every other background failure of the shop, with its reason.
   Instants in the shop's time zone; a kind the catalogue does not name is shown as its key. */
"use strict";

(() => {
  const { api, h, fill, moment, banner, t } = Loyalty;

  const kind = (key) => { const text = t(`jobs.kind.${key}`); return text === `jobs.kind.${key}` ? key : text; };

  async function load() {
    const answer = await api("/failed-jobs");
    fill(document.querySelector("#jobs tbody"), answer.failed_jobs.map((job) => h("tr", {},
      h("td", {}, job.topic, h("div", { class: "Subdued" }, job.webhook_id)), h("td", {}, moment(job.received_at)),
      h("td", {}, moment(job.failed_at)), h("td", { class: "num" }, job.attempts), h("td", {}, job.last_error || ""),
      h("td", {}, h("button", { class: "Button", type: "button", onclick: () => retry(`/failed-jobs/${job.id}/retry`) }, t("jobs.retry"))))),
    t("jobs.none"), 6);
    document.getElementById("retry-all").disabled = answer.failed_jobs.length === 0;
    const others = answer.failures.filter((f) => f.kind !== "webhook_failed");
    fill(document.querySelector("#failures tbody"), others.map((f) => h("tr", {},
      h("td", {}, kind(f.kind)), h("td", {}, f.subject), h("td", {}, moment(f.at)),
      h("td", { class: "num" }, f.attempts === null ? "" : f.attempts),
      h("td", {}, f.next_attempt_at ? moment(f.next_attempt_at) : h("span", { class: "Subdued" }, t("jobs.waits_for_fix"))),
      h("td", {}, f.reason))),
    t("jobs.none_else"), 6);
  }

  async function retry(path) {
    try {
      const answer = await api(path, { method: "POST", body: {} });
      banner(t("jobs.queued", { count: answer.retried }), "success");
      await load();
    } catch (error) { banner(error.message); }
  }

  Loyalty.start(async () => {
    document.getElementById("retry-all").addEventListener("click", () => retry("/failed-jobs/retry"));
    await load();
  });
})();
