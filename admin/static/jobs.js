/* Failed webhooks of the shop, with retry. */
"use strict";

(() => {
  const { api, h, fill, moment, banner } = Loyalty;

  async function load() {
    const answer = await api("/failed-jobs");
    fill(document.querySelector("#jobs tbody"), answer.failed_jobs.map((job) => h("tr", {},
      h("td", {}, job.topic, h("div", { class: "Subdued" }, job.webhook_id)), h("td", {}, moment(job.received_at)),
      h("td", {}, moment(job.failed_at)), h("td", { class: "num" }, job.attempts), h("td", {}, job.last_error || ""),
      h("td", {}, h("button", { class: "Button", type: "button", onclick: () => retry(`/failed-jobs/${job.id}/retry`) }, "Retry")))),
    "Nothing failed: every event was applied.", 6);
    document.getElementById("retry-all").disabled = answer.failed_jobs.length === 0;
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
