/* The programme editor: the main settings, the rewards (each kind showing only the fields it uses),
   collections picked (App Bridge's resource picker in Shopify's admin, the app's own picker elsewhere),
   warnings and risky changes confirmed before a save (with a simulation one click away), and a save refused
   when someone else saved meanwhile (what changed shown, reload offered). */
"use strict";

(() => {
  const { api, h, banner, t, money, points: fmtPoints } = Loyalty;
  const CHOICES = {
    expiry: ["never", "after_last_purchase"], negative_balance: ["allow", "floor"],
    rounding: ["floor", "nearest"], language: ["fr", "en"],
  };
  /* container -> [setting, type]; labels are settings.field.<name>, help texts settings.help.<name> when any. */
  const GROUPS = {
    "fields-shop": [["shop_name", "text"], ["language", "select"], ["emails", "checkbox"]],
    "fields-earning": [
      ["earn_rate", "number"], ["pending_days", "number"], ["rounding", "select"], ["expiry", "select"],
      ["expiry_months", "number"], ["negative_balance", "select"], ["earn_on_shipping", "checkbox"],
      ["earn_on_taxes", "checkbox"],
    ],
    "fields-vouchers": [
      ["voucher_value_per_point", "number"], ["voucher_minimum_subtotal", "number"],
      ["voucher_validity_days", "number"], ["voucher_collection_id", "collection"],
      ["conversion_enabled", "checkbox"], ["conversion_minimum_points", "number"],
      ["voucher_expiry_returns_points", "checkbox"], ["voucher_combines_with_discounts", "checkbox"],
    ],
    "fields-exclusions": [
      ["excluded_source_names", "list"], ["excluded_customer_tags", "list"], ["non_earning_gateways", "list"],
      ["exclude_b2b", "checkbox"],
    ],
  };
  const HELP = new Set(["shop_name", "earn_rate", "pending_days", "expiry_months", "voucher_value_per_point",
    "voucher_minimum_subtotal", "voucher_collection_id", "excluded_source_names", "excluded_customer_tags",
    "non_earning_gateways"]);
  /* loyalty.domain.programme.REWARD_KINDS and the fields each kind uses (Reward's docstrings). */
  const KIND_FIELDS = {
    perk: [["description", "text"], ["tag", "text"], ["birthday", "checkbox"]],
    voucher: [["description", "text"], ["amount", "number"], ["collection_id", "collection"]],
    free_item: [["description", "text"], ["amount", "number"], ["collection_id", "collection"], ["customer_picks", "checkbox"]],
    gift_card: [["description", "text"], ["amount", "number"]],
    donation: [["description", "text"], ["amount", "number"], ["cause", "text"]],
    percentage: [["description", "text"], ["percentage", "number"]],
    free_shipping: [["description", "text"]],
    store_credit: [["description", "text"], ["amount", "number"]],
  };
  /* Changes that move customers' points: confirmed before a save (with the simulation one click away). */
  const RISKY = ["earn_rate", "rounding", "pending_days", "expiry", "expiry_months"];
  let current = null;
  let cells = 0; /* numbers the reward cards' controls, so each label names its control */
  const titles = new Map(); /* collection id -> title (null: not in the shop) */

  const choiceLabel = (name, value) => t(`settings.choice.${name === "rounding" && value === "floor" ? "floor_rounding" : value}`);
  const fieldLabel = (name) => t(`settings.field.${name}`);

  function input(name, type, value, label, id) {
    const attrs = { id, name, "aria-label": label };
    if (type === "select") {
      const options = CHOICES[name] || Object.keys(KIND_FIELDS);
      const text = CHOICES[name] ? (c) => choiceLabel(name, c) : (c) => t(`settings.kind.${c}`);
      return h("select", attrs, ...options.map((c) => h("option", { value: c, selected: c === value }, text(c))));
    }
    if (type === "checkbox") return h("input", { ...attrs, type: "checkbox", checked: Boolean(value) });
    if (type === "list") return h("input", { ...attrs, type: "text", value: (value || []).join(", ") });
    if (type === "collection") return collectionPicker(attrs, Number(value) || 0, label);
    return h("input", { ...attrs, type: "text", inputmode: type === "number" ? "decimal" : null, value: value ?? "" });
  }

  /* A collection setting: its title (never its raw id to type), Pick and Clear. The id is in data-value. */
  function collectionPicker(attrs, value, label) {
    const shown = h("span", { class: "Picked-title" });
    const holder = h("div", { ...attrs, class: "Picked", "data-value": String(value), role: "group", tabindex: "-1" }, shown,
      h("button", { class: "Button", type: "button", "data-pick": "", "aria-label": `${t("settings.picker.pick")}: ${label}`,
                    onclick: () => pickCollection(holder) }, t("settings.picker.pick")),
      h("button", { class: "Button Button--plain", type: "button", "data-clear": "",
                    onclick: () => setPicked(holder, 0) }, t("settings.picker.clear")));
    setPicked(holder, value);
    return holder;
  }

  function setPicked(holder, id, title) {
    if (title !== undefined) titles.set(id, title);
    holder.dataset.value = String(id);
    const shown = holder.querySelector(".Picked-title");
    if (!id) shown.textContent = t("settings.picker.none");
    else if (!titles.has(id)) shown.textContent = t("settings.picker.unknown", { id });
    else shown.textContent = titles.get(id) ?? t("settings.picker.missing", { id });
    shown.classList.toggle("Subdued", !id);
  }

  async function pickCollection(holder) {
    const id = Number(holder.dataset.value) || 0;
    if (window.shopify && typeof window.shopify.resourcePicker === "function") {
      const selection = await window.shopify.resourcePicker({
        type: "collection", action: "select", multiple: false,
        selectionIds: id ? [{ id: `gid://shopify/Collection/${id}` }] : [],
      });
      if (selection && selection.length) setPicked(holder, Number(String(selection[0].id).split("/").pop()), selection[0].title);
      return;
    }
    const chosen = await fallbackPicker();
    if (chosen) setPicked(holder, chosen.id, chosen.title);
  }

  /* Outside Shopify's admin: a dialog searching the shop's collections (GET /resources). */
  function fallbackPicker() {
    const dialog = document.getElementById("picker-dialog");
    const search = document.getElementById("picker-search");
    const list = document.getElementById("picker-results");
    return new Promise((resolve) => {
      let asked = 0;
      const finish = (value) => { dialog.close(); search.oninput = null; resolve(value); };
      const load = async () => {
        const mine = ++asked;
        try {
          const found = await api(`/resources?type=collection&q=${encodeURIComponent(search.value.trim())}`);
          if (mine !== asked) return;
          list.replaceChildren(...(found.resources.length ? found.resources.map((r) => h("li", {},
            h("button", { class: "Button Button--plain", type: "button", onclick: () => finish(r) }, r.title)))
            : [h("li", { class: "Subdued" }, t("settings.picker.empty"))]));
        } catch (error) {
          if (mine === asked) list.replaceChildren(h("li", { class: "Banner Banner--critical" }, t("settings.picker.failed", { error: error.message })));
        }
      };
      search.value = "";
      search.oninput = load;
      document.getElementById("picker-cancel").onclick = () => finish(null);
      dialog.oncancel = () => finish(null);
      dialog.showModal();
      search.focus();
      load();
    });
  }

  /* The titles of every collection the programme names, asked once per load (GET /resources?ids=). */
  async function loadTitles(programme) {
    const ids = [programme.voucher_collection_id, ...programme.rewards.map((r) => r.collection_id)]
      .map(Number).filter((id) => id > 0 && !titles.has(id));
    if (!ids.length) return;
    try {
      const found = await api(`/resources?type=collection&ids=${[...new Set(ids)].join(",")}`);
      found.resources.forEach((r) => titles.set(r.id, r.title));
    } catch (error) {
      banner(t("settings.picker.failed", { error: error.message }));
    }
    document.querySelectorAll(".Picked").forEach((holder) => setPicked(holder, Number(holder.dataset.value) || 0));
  }

  function field(name, type, value, label, id, help) {
    const control = input(name, type, value, label, id);
    if (type === "checkbox") return h("label", { class: "Checkbox" }, control, label);
    return h("div", { class: "Field" }, h("label", { for: id }, label), control,
      help ? h("div", { class: "Field-help" }, help) : null);
  }

  function renderForm(programme) {
    for (const [container, fields] of Object.entries(GROUPS)) {
      document.getElementById(container).replaceChildren(...fields.map(([name, type]) =>
        field(name, type, programme[name], fieldLabel(name), `f-${name}`, HELP.has(name) ? t(`settings.help.${name}`) : null)));
    }
    const rewards = document.getElementById("rewards");
    rewards.replaceChildren(...programme.rewards.map(rewardCard));
  }

  /* One reward: key, kind, points and title (full width, never cut), then only its kind's fields. */
  function rewardCard(reward) {
    const card = h("div", { class: "Reward", "data-reward": "" });
    const cell = (name, type, value) => {
      const element = field(name, type, value, t(`settings.reward.${name}`), `r${++cells}-${name}`, null);
      const control = element.querySelector("input, select, .Picked") || element;
      control.dataset.rewardField = name;
      return element;
    };
    const head = h("div", { class: "Reward-head" }, cell("key", "text", reward.key), cell("kind", "select", reward.kind || "voucher"),
      cell("points", "number", reward.points),
      cell("title", "text", reward.title),
      h("button", { class: "Button Button--plain", type: "button", onclick: () => card.remove() }, t("settings.rewards.remove")));
    const extra = h("div", { class: "FormGrid", "data-kind-fields": "" });
    const help = h("div", { class: "Field-help" });
    const renderKind = (kind, values) => {
      help.textContent = t(`settings.reward.help.${kind}`);
      extra.replaceChildren(...KIND_FIELDS[kind].map(([name, type]) => cell(name, type, values[name])));
    };
    head.querySelector("[data-reward-field=kind]").addEventListener("change", (event) => {
      renderKind(event.target.value, { ...reward, ...readReward(card) });
    });
    card.append(head, help, extra);
    renderKind(reward.kind && KIND_FIELDS[reward.kind] ? reward.kind : "voucher", reward);
    return card;
  }

  function readReward(card) {
    const reward = {};
    card.querySelectorAll("[data-reward-field]").forEach((control) => {
      const name = control.dataset.rewardField;
      if (control.classList.contains("Picked")) reward[name] = Number(control.dataset.value) || 0;
      else if (control.type === "checkbox") reward[name] = control.checked;
      else if (control.value.trim() !== "" || ["key", "kind", "points", "title"].includes(name)) reward[name] = control.value.trim();
    });
    return reward;
  }

  function collect() {
    const programme = { ...current.programme };
    for (const fields of Object.values(GROUPS)) {
      for (const [name, type] of fields) {
        const element = document.getElementById(`f-${name}`);
        programme[name] = type === "checkbox" ? element.checked
          : type === "collection" ? Number(element.dataset.value) || 0
          : type === "list" ? element.value.split(",").map((s) => s.trim()).filter(Boolean) : element.value.trim();
      }
    }
    programme.rewards = [...document.querySelectorAll("#rewards [data-reward]")].map(readReward);
    return programme;
  }

  /* The control a refusal or a warning names (`pending_days`, `rewards[2].amount`), if on the page. */
  function controlFor(path) {
    const match = /^rewards\[(\d+)\]\.(\w+)$/.exec(path || "");
    if (match) return document.querySelectorAll("#rewards [data-reward]")[Number(match[1])]?.querySelector(`[data-reward-field="${match[2]}"]`);
    return path ? document.getElementById(`f-${path}`) : null;
  }

  function markInvalid(field) {
    document.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
    const element = controlFor(field);
    if (element) { element.classList.add("invalid"); element.focus(); }
  }

  const warningText = (w) => t(`settings.warning.${w.code}`, w.params);

  function showWarnings(warnings) {
    document.querySelectorAll(".warned").forEach((e) => e.classList.remove("warned"));
    warnings.forEach((w) => controlFor(w.path)?.classList.add("warned"));
    document.getElementById("warnings-list").replaceChildren(...warnings.map((w) => h("li", { "data-warning": w.code }, warningText(w))));
    document.getElementById("warnings").hidden = !warnings.length;
  }

  function show(answer) {
    current = answer;
    document.getElementById("version").textContent = t("settings.version", { version: answer.version });
    const select = document.getElementById("template");
    select.replaceChildren(...answer.templates.map((name) => h("option", { value: name }, name)));
    renderForm(answer.programme);
    showWarnings(answer.warnings || []);
    document.getElementById("stale").hidden = true;
    loadTitles(answer.programme);
  }

  const shownValue = (value) => (value === null || value === undefined ? "—" : typeof value === "object" ? JSON.stringify(value) : String(value));

  /* What moves customers' points, compared with the version being edited. */
  function riskyChanges(before, after) {
    const changes = RISKY.filter((name) => String(before[name]) !== String(after[name])).map((name) =>
      t("settings.confirm.change", { label: fieldLabel(name), before: shownValue(before[name]), after: shownValue(after[name]) }));
    const kept = new Set(after.rewards.map((r) => r.key));
    before.rewards.filter((r) => !kept.has(r.key)).forEach((r) => changes.push(t("settings.confirm.removed", { key: r.key })));
    return changes;
  }

  /* Asks the merchant to confirm warnings and risky changes; resolves true to save. */
  function confirmSave(warnings, risky, draft) {
    const dialog = document.getElementById("confirm-dialog");
    const fillList = (id, items) => {
      const box = document.getElementById(id);
      box.querySelector("ul").replaceChildren(...items.map((text) => h("li", {}, text)));
      box.hidden = !items.length;
    };
    fillList("confirm-warnings", warnings.map(warningText));
    fillList("confirm-risky", risky);
    document.getElementById("simulation").hidden = true;
    return new Promise((resolve) => {
      const finish = (value) => { dialog.close(); resolve(value); };
      document.getElementById("confirm-save").onclick = () => finish(true);
      document.getElementById("confirm-cancel").onclick = () => finish(false);
      document.getElementById("confirm-simulate").onclick = () => simulate(draft);
      dialog.oncancel = () => finish(false);
      dialog.showModal();
    });
  }

  /* The draft replayed on the last 12 months of orders beside the programme in force (nothing saved). */
  async function simulate(draft) {
    const section = document.getElementById("simulation");
    const note = document.getElementById("simulation-note");
    const body = document.querySelector("#simulation-months tbody");
    section.hidden = false;
    note.textContent = t("settings.simulation.running");
    body.replaceChildren();
    const since = new Date();
    since.setUTCFullYear(since.getUTCFullYear() - 1);
    try {
      const result = await api("/programme/simulate", { method: "POST", body: { programme: draft, since: since.toISOString().slice(0, 10) } });
      note.textContent = result.orders_replayed ? t("settings.simulation.orders", { count: fmtPoints(result.orders_replayed) }) : t("settings.simulation.none");
      const pair = (a, b, format) => `${format(a)} → ${format(b)}`;
      body.replaceChildren(...result.months.map((m) => h("tr", {}, h("td", {}, m.month),
        h("td", { class: "num" }, pair(m.in_force.issued, m.draft.issued, fmtPoints)),
        h("td", { class: "num" }, pair(m.in_force.outstanding, m.draft.outstanding, fmtPoints)),
        h("td", { class: "num" }, pair(m.in_force.liability, m.draft.liability, (v) => money(v))))));
    } catch (error) {
      note.textContent = error.message;
    }
  }

  function showStale(error) {
    const { version, diff } = error.body;
    document.getElementById("stale-help").textContent = t("settings.stale.help", { version });
    document.querySelector("#stale-diff tbody").replaceChildren(...diff.map((d) => h("tr", {},
      h("td", {}, d.path), h("td", {}, shownValue(d.before)), h("td", {}, shownValue(d.after)))));
    const stale = document.getElementById("stale");
    stale.hidden = false;
    stale.scrollIntoView();
  }

  async function save() {
    const draft = collect();
    markInvalid(null);
    banner(null);
    let warnings;
    try {
      warnings = (await api("/programme/check", { method: "POST", body: { programme: draft } })).warnings;
    } catch (error) {
      banner(error.message);
      markInvalid(String(error.field || "").replace(/^programme\./, ""));
      return;
    }
    const risky = riskyChanges(current.programme, draft);
    if ((warnings.length || risky.length) && !(await confirmSave(warnings, risky, draft))) return;
    try {
      show(await api("/programme", { method: "PUT", body: { ...draft, version: current.version } }));
      banner(t("settings.saved"), "success");
    } catch (error) {
      if (error.status === 409 && error.body && error.body.diff) { showStale(error); banner(error.message); return; }
      banner(error.message);
      markInvalid(error.field);
    }
  }

  Loyalty.start(async () => {
    show(await api("/programme"));
    document.getElementById("save").addEventListener("click", save);
    document.getElementById("stale-reload").addEventListener("click", async () => {
      show(await api("/programme"));
      banner(null);
    });
    document.getElementById("apply-template").addEventListener("click", async () => {
      const name = document.getElementById("template").value;
      if (!window.confirm(t("settings.template.confirm", { name }))) return;
      try {
        show(await api("/programme/template", { method: "POST", body: { template: name } }));
        banner(t("settings.template.applied", { name }), "success");
      } catch (error) { banner(error.message); }
    });
    document.getElementById("add-reward").addEventListener("click", () =>
      document.getElementById("rewards").append(rewardCard({ kind: "voucher", points: 100 })));
  });
})();
