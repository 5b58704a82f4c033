/* The audit log: events newest first with filters (kept in the page's address, so a link or a reload shows
   the same), keyset pages (older / newer), a programme version's changes as a table (setting, before,
   after), the programme's versions, and the CSV export of the filtered events. Times in the shop's zone. */
"use strict";

(() => {
  const { api, h, fill, moment, banner, t } = Loyalty;
  const FILTERS = ["action", "actor", "customer_id", "from", "to"];
  const FIELDS = { action: "f-action", actor: "f-actor", customer_id: "f-customer", from: "f-from", to: "f-to" };
  let cursors = [null];  // the `before` of each page shown so far: the last one is the current page's
  let nextBefore = null;
  let versionsBefore = null;

  function filters() {
    const query = new URLSearchParams();
    for (const name of FILTERS) {
      const value = document.getElementById(FIELDS[name]).value.trim();
      if (value) query.set(name, value);
    }
    return query;
  }

  const who = (actor) => (actor ? t("common.staff", { id: actor }) : t("audit.cli"));
  const shown = (value) => (value === null || value === undefined ? h("span", { class: "Subdued" }, t("audit.diff.unset"))
    : typeof value === "object" ? JSON.stringify(value) : String(value));

  /* A programme diff ([{path, before, after}]) as a table. */
  function diffTable(diff, version) {
    if (!diff.length) return h("div", { class: "Subdued" }, t("audit.diff.none"));
    return h("table", { class: "Table Audit-diff" },
      h("caption", {}, t("audit.diff.caption", { version })),
      h("thead", {}, h("tr", {}, h("th", {}, t("audit.diff.path")), h("th", {}, t("audit.diff.before")), h("th", {}, t("audit.diff.after")))),
      h("tbody", {}, diff.map((d) => h("tr", {}, h("td", {}, h("code", {}, d.path)),
        h("td", { class: "Audit-before" }, shown(d.before)), h("td", { class: "Audit-after" }, shown(d.after))))));
  }

  /* A button that opens (or closes) a row below `row` holding `content()`'s diff. */
  function toggle(row, columns, content) {
    const button = h("button", { class: "Button Button--plain", type: "button", "aria-expanded": "false" }, t("audit.show_changes"));
    let detail = null;
    button.addEventListener("click", async () => {
      if (detail) {
        detail.remove();
        detail = null;
      } else {
        try {
          detail = h("tr", { class: "Audit-detail" }, h("td", { colspan: columns }, await content()));
          row.after(detail);
        } catch (error) { banner(error.message); return; }
      }
      button.setAttribute("aria-expanded", detail ? "true" : "false");
      button.textContent = t(detail ? "audit.hide_changes" : "audit.show_changes");
    });
    return button;
  }

  function eventRow(event) {
    const customer = event.customer_id === null ? "" : h("a", { href: Loyalty.href(`/admin/customers/${event.customer_id}`) },
      event.customer_email || `#${event.customer_id}`);
    const row = h("tr", { "data-action": event.action },
      h("td", {}, moment(event.at)), h("td", {}, who(event.actor)),
      h("td", {}, h("span", { class: "Badge" }, t(`audit.action.${event.action}`))),
      h("td", {}, customer), h("td", { class: "Audit-summary" }, event.summary), h("td", {}));
    if (event.action === "programme_saved" && Array.isArray(event.details)) {
      row.lastChild.append(toggle(row, 6, async () => diffTable(event.details, event.subject)));
    }
    return row;
  }

  async function loadEvents() {
    const query = filters();
    const before = cursors[cursors.length - 1];
    if (before) query.set("before", before);
    const page = await api(`/audit?${query}`);
    fill(document.querySelector("#events tbody"), page.events.map(eventRow), t("audit.empty"), 6);
    nextBefore = page.next_before;
    document.getElementById("older").disabled = !page.has_more;
    document.getElementById("newer").disabled = cursors.length < 2;
  }

  async function loadVersions(more = false) {
    const page = await api(`/programme/versions${versionsBefore && more ? `?before=${versionsBefore}` : ""}`);
    const rows = page.versions.map((v) => {
      const row = h("tr", { "data-version": v.version }, h("td", { class: "num" }, v.version), h("td", {}, moment(v.created_at)),
        h("td", {}, v.version === 1 && !v.actor ? t("audit.install") : who(v.actor)),
        h("td", { class: "Audit-summary" }, v.summary), h("td", {}));
      row.lastChild.append(toggle(row, 5, async () => diffTable((await api(`/programme/versions/${v.version}`)).diff, v.version)));
      return row;
    });
    const body = document.querySelector("#versions tbody");
    if (more) body.append(...rows); else fill(body, rows, t("audit.versions.empty"), 5);
    versionsBefore = page.next_before;
    document.getElementById("versions-more").hidden = !page.has_more;
  }

  async function download() {
    try {
      await Loyalty.download(`/audit.csv?${filters()}`, "audit.csv");
    } catch (error) { banner(t("audit.csv_failed", { error: error.message })); }
  }

  const run = (work) => work().catch((error) => banner(error.message));

  Loyalty.start(async () => {
    const params = new URLSearchParams(window.location.search);
    for (const name of FILTERS) if (params.get(name)) document.getElementById(FIELDS[name]).value = params.get(name);
    document.getElementById("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      const address = new URLSearchParams(window.location.search);
      for (const name of FILTERS) address.delete(name);
      for (const [name, value] of filters()) address.set(name, value);
      window.history.replaceState(null, "", `${window.location.pathname}?${address}`);
      cursors = [null];
      banner("");
      run(loadEvents);
    });
    document.getElementById("older").addEventListener("click", () => { cursors.push(nextBefore); run(loadEvents); });
    document.getElementById("newer").addEventListener("click", () => { cursors.pop(); run(loadEvents); });
    document.getElementById("versions-more").addEventListener("click", () => run(() => loadVersions(true)));
    document.getElementById("csv").addEventListener("click", download);
    await Promise.all([loadEvents(), loadVersions()]);
  });
})();
