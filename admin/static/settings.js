/* Programme settings: a form for the main settings, a table editor for the rewards, templates. */
"use strict";

(() => {
  const { api, h, banner } = Loyalty;
  const CHOICES = {
    expiry: ["never", "after_last_purchase"], negative_balance: ["allow", "floor"],
    rounding: ["floor", "nearest"], language: ["fr", "en"],
  };
  const GROUPS = {
    "fields-earning": [
      ["earn_rate", "Points per currency unit", "number"], ["pending_days", "Days points stay pending", "number"],
      ["rounding", "Rounding", "select"], ["expiry", "Expiry", "select"],
      ["expiry_months", "Months without purchase before expiry", "number"],
      ["negative_balance", "Negative balances", "select"], ["language", "Customer messages language", "select"],
      ["earn_on_shipping", "Shipping earns points", "checkbox"], ["earn_on_taxes", "Included taxes earn points", "checkbox"],
    ],
    "fields-vouchers": [
      ["voucher_value_per_point", "Value of one point", "number"], ["voucher_minimum_subtotal", "Minimum basket", "number"],
      ["voucher_validity_days", "Days a voucher is valid", "number"], ["voucher_collection_id", "Only for collection id (0: all)", "number"],
      ["conversion_enabled", "Customers convert points into vouchers", "checkbox"],
      ["conversion_minimum_points", "Fewest points per conversion", "number"],
      ["voucher_expiry_returns_points", "An expired voucher returns its points", "checkbox"],
      ["voucher_combines_with_discounts", "Vouchers combine with other discounts", "checkbox"],
    ],
    "fields-exclusions": [
      ["excluded_source_names", "Sales channels that earn nothing (comma-separated)", "list"],
      ["excluded_customer_tags", "Customer tags that earn nothing", "list"],
      ["non_earning_gateways", "Payment gateways that earn nothing", "list"],
      ["exclude_b2b", "B2B orders earn nothing", "checkbox"],
    ],
  };
  const REWARD_KINDS = ["perk", "voucher", "free_item", "gift_card", "donation"];
  const REWARD_COLUMNS = [
    ["key", "text"], ["kind", "select"], ["points", "number"], ["title", "text"], ["description", "text"],
    ["amount", "number"], ["tag", "text"], ["collection_id", "number"], ["cause", "text"], ["birthday", "checkbox"],
  ];
  let current = null;

  function input(name, type, value, label) {
    const attrs = { id: `f-${name}`, name, "data-field": name, "aria-label": label };
    if (type === "select") return h("select", attrs, (CHOICES[name] || REWARD_KINDS).map((c) => h("option", { value: c, selected: c === value }, c)));
    if (type === "checkbox") return h("input", { ...attrs, type: "checkbox", checked: value });
    if (type === "list") return h("input", { ...attrs, type: "text", value: (value || []).join(", ") });
    return h("input", { ...attrs, type: type === "number" ? "text" : type, inputmode: type === "number" ? "decimal" : null, value: value ?? "" });
  }

  function renderForm(programme) {
    for (const [container, fields] of Object.entries(GROUPS)) {
      document.getElementById(container).replaceChildren(...fields.map(([name, label, type]) => type === "checkbox"
        ? h("label", { class: "Checkbox" }, input(name, type, programme[name], label), label)
        : h("div", { class: "Field" }, h("label", { for: `f-${name}` }, label), input(name, type, programme[name], label))));
    }
    const body = document.querySelector("#rewards tbody");
    body.replaceChildren(...programme.rewards.map(rewardRow));
  }

  function rewardRow(reward) {
    return h("tr", {}, REWARD_COLUMNS.map(([name, type]) => h("td", {}, (() => {
      const cell = input(name, type, reward[name], name);
      cell.removeAttribute("id");
      cell.dataset.rewardField = name;
      return cell;
    })())), h("td", {}, h("button", { class: "Button Button--plain", type: "button", onclick: (e) => e.target.closest("tr").remove() }, "Remove")));
  }

  function collect() {
    const programme = { ...current.programme };
    for (const fields of Object.values(GROUPS)) {
      for (const [name, , type] of fields) {
        const element = document.getElementById(`f-${name}`);
        programme[name] = type === "checkbox" ? element.checked
          : type === "list" ? element.value.split(",").map((s) => s.trim()).filter(Boolean) : element.value.trim();
      }
    }
    programme.rewards = [...document.querySelectorAll("#rewards tbody tr")].map((row) => {
      const reward = {};
      row.querySelectorAll("[data-reward-field]").forEach((cell) => {
        const name = cell.dataset.rewardField;
        if (cell.type === "checkbox") reward[name] = cell.checked;
        else if (cell.value.trim() !== "" || ["key", "kind", "points", "title"].includes(name)) reward[name] = cell.value.trim();
      });
      return reward;
    });
    return programme;
  }

  function markInvalid(field) {
    document.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
    if (!field) return;
    const match = /^rewards\[(\d+)\]\.(\w+)$/.exec(field);
    const element = match
      ? document.querySelectorAll("#rewards tbody tr")[Number(match[1])]?.querySelector(`[data-reward-field="${match[2]}"]`)
      : document.getElementById(`f-${field}`);
    if (element) { element.classList.add("invalid"); element.focus(); }
  }

  function show(answer) {
    current = answer;
    document.getElementById("version").textContent = `version ${answer.version}`;
    const select = document.getElementById("template");
    select.replaceChildren(...answer.templates.map((t) => h("option", { value: t }, t)));
    renderForm(answer.programme);
  }

  async function save(promise, message) {
    try {
      show(await promise);
      markInvalid(null);
      banner(message, "success");
    } catch (error) {
      banner(error.message);
      markInvalid(error.field);
    }
  }

  Loyalty.start(async () => {
    show(await api("/programme"));
    document.getElementById("save").addEventListener("click", () =>
      save(api("/programme", { method: "PUT", body: collect() }), "Programme saved"));
    document.getElementById("apply-template").addEventListener("click", () => {
      const name = document.getElementById("template").value;
      if (!window.confirm(`Replace every setting and reward with the ${name} template?`)) return;
      save(api("/programme/template", { method: "POST", body: { template: name } }), `Template ${name} applied`);
    });
    document.getElementById("add-reward").addEventListener("click", () =>
      document.querySelector("#rewards tbody").append(rewardRow({ kind: "voucher", points: 100 })));
  });
})();
