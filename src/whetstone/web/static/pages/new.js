// /new: start an optimization. Pick a prompt and a dataset (or create either inline), set
// the main config fields, and submit. Values are checked here with the server's ranges
// first; a 400 from the server is shown next to the field its `details` name.
// Query: ?promptId=…&datasetId=… preselect.
import { h, replace } from "../lib/dom.js";
import { createDataset, errorText, parseItems } from "./datasets.js";

ensureStylesheet();

function ensureStylesheet() {
  if (!document.querySelector('link[href="/static/pages.css"]')) {
    document.head.append(h("link", { rel: "stylesheet", href: "/static/pages.css" }));
  }
}

const NEW = "__new__";
const LIST_LIMIT = 500; // the server's largest page
const MODEL_NAME = /^[a-z0-9][a-z0-9_.-]*\/\S+$/; // as domain/config.py

// The numeric config fields: wire name (dotted for nested), kind, range, default.
// Empty optional fields are left out of the config (the server's default applies).
const NUMBER_FIELDS = [
  { name: "maxIterations", label: "Max iterations", kind: "int", min: 1, max: 100, value: "10", help: "iterations after the baseline (1–100)" },
  { name: "candidatesPerIteration", label: "Candidates per iteration", kind: "int", min: 1, max: 32, value: "4", help: "variants proposed per iteration (1–32)" },
  { name: "targetScore", label: "Target score", kind: "float", min: 0, max: 1, help: "stop when the best reaches it (0–1; optional)" },
  { name: "patience", label: "Patience", kind: "int", min: 1, max: 50, help: "stop after this many iterations without a new best (1–50; optional)" },
  { name: "budget.maxCostUsd", label: "Budget (USD)", kind: "float", gt: 0, help: "hard cap on paid calls (> 0; optional)" },
  { name: "seed", label: "Seed", kind: "int", min: 0, max: Number.MAX_SAFE_INTEGER, help: "makes a run reproducible (optional; random when empty)" },
];

// Returns [value, error]; value undefined when the optional field is empty.
export function checkNumber(spec, raw) {
  const text = String(raw ?? "").trim();
  if (text === "") return spec.value === undefined ? [undefined, null] : [undefined, "required"];
  const range = spec.gt !== undefined ? `greater than ${spec.gt}` : `from ${spec.min} to ${spec.max}`;
  const wanted = `must be ${spec.kind === "int" ? "a whole number" : "a number"} ${range}`;
  const shape = spec.kind === "int" ? /^-?\d+$/ : /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
  if (!shape.test(text)) return [undefined, wanted];
  const value = Number(text);
  const low = spec.gt !== undefined ? value <= spec.gt : value < spec.min;
  if (low || (spec.max !== undefined && value > spec.max)) return [undefined, wanted];
  return [value, null];
}

function setPath(target, dotted, value) {
  const parts = dotted.split(".");
  let obj = target;
  for (const part of parts.slice(0, -1)) obj = obj[part] ??= {};
  obj[parts[parts.length - 1]] = value;
}

export async function render(root, ctx) {
  ctx.setTitle("New job");
  const { client } = ctx;
  const [prompts, datasets, metrics, models] = await Promise.all([
    client.prompts.list({ limit: LIST_LIMIT }),
    client.datasets.list({ limit: LIST_LIMIT }),
    client.request("GET", "/api/metrics").then((r) => r.data, () => []),
    client.request("GET", "/api/models").then((r) => r.data, () => null),
  ]);

  // Every place an error can show, by field name (config names without "config.").
  const slots = new Map();
  const formError = h("div", { class: "wp-form-error", role: "alert", "data-testid": "form-error" });

  function field(name, labelText, control, help) {
    const error = h("div", { class: "wp-field-error", "data-testid": `error-${name}` });
    const box = h(
      "div",
      { class: "wp-field", "data-field": name },
      labelText ? h("label", {}, labelText) : null,
      control,
      help ? h("span", { class: "wp-help" }, help) : null,
      error,
    );
    if (labelText && control.matches("input, select, textarea")) {
      control.id = `new-${name.replace(/\W/g, "-")}`;
      box.querySelector("label").htmlFor = control.id;
    }
    slots.set(name, { box, error });
    return box;
  }

  // -- prompt ---------------------------------------------------------------------------
  const promptSelect = h(
    "select",
    { "data-testid": "prompt-select" },
    h("option", { value: "" }, prompts.items.length ? "Choose a prompt…" : "No prompts yet"),
    prompts.items.map((p) => h("option", { value: p.id }, `${p.name} (v${p.version})`)),
    h("option", { value: NEW }, "+ New prompt…"),
  );
  const promptName = h("input", { type: "text", "data-testid": "new-prompt-name", autocomplete: "off" });
  const promptTemplate = h("textarea", { rows: "5", "data-testid": "new-prompt-template", placeholder: "Answer briefly: {question}" });
  const promptNew = h(
    "div",
    { class: "wp-sub wp-hidden" },
    field("prompt.name", "Prompt name", promptName),
    field("prompt.template", "Template", promptTemplate, "Variables are {name}; {{ and }} are literal braces."),
  );

  // -- dataset --------------------------------------------------------------------------
  const datasetSelect = h(
    "select",
    { "data-testid": "dataset-select" },
    h("option", { value: "" }, datasets.items.length ? "Choose a dataset…" : "No datasets yet"),
    datasets.items.map((d) => h("option", { value: d.id }, `${d.name} (${d.itemCount} items)`)),
    h("option", { value: NEW }, "+ New dataset…"),
  );
  const datasetName = h("input", { type: "text", "data-testid": "new-dataset-name", autocomplete: "off" });
  const datasetItems = h("textarea", {
    rows: "6",
    "data-testid": "new-dataset-items",
    placeholder: '{"input": {"question": "2+2"}, "expectedOutput": "4"}',
  });
  const datasetNew = h(
    "div",
    { class: "wp-sub wp-hidden" },
    field("dataset.name", "Dataset name", datasetName),
    field("dataset.items", "Items (JSONL, one per line, or a JSON array)", datasetItems),
  );

  const toggle = (select, sub) => sub.classList.toggle("wp-hidden", select.value !== NEW);
  promptSelect.addEventListener("change", () => toggle(promptSelect, promptNew));
  datasetSelect.addEventListener("change", () => toggle(datasetSelect, datasetNew));
  await preselect(promptSelect, ctx.query?.promptId, (id) => client.prompts.get(id), (p) => `${p.name} (v${p.version})`);
  await preselect(datasetSelect, ctx.query?.datasetId, (id) => client.datasets.get(id), (d) => `${d.name} (${d.itemCount} items)`);

  // -- config ---------------------------------------------------------------------------
  const numberInputs = NUMBER_FIELDS.map((spec) => {
    const input = h("input", {
      type: "text",
      inputmode: spec.kind === "int" ? "numeric" : "decimal",
      "data-testid": `field-${spec.name}`,
      name: spec.name,
      value: spec.value ?? "",
      autocomplete: "off",
    });
    return { spec, input, box: field(spec.name, spec.label, input, spec.help) };
  });

  const metricBoxes = metrics.map((m) => {
    const box = h("input", { type: "checkbox", value: m.name, "data-testid": `metric-${m.name}` });
    return { name: m.name, box, label: h("label", { class: "wp-check", title: m.description || "" }, box, m.name) };
  });
  const metricsList = h(
    "div",
    { class: "wp-checks", "data-testid": "field-evaluationMetrics" },
    metricBoxes.length ? metricBoxes.map((m) => m.label) : h("span", { class: "wp-muted" }, "The server lists no metrics."),
  );

  const modelOptions = new Set(["sim/default"]);
  if (models?.defaultModel) modelOptions.add(models.defaultModel);
  const ready = new Set((models?.providers || []).filter((p) => p.ready).map((p) => p.name));
  for (const name of Object.keys(models?.prices || {})) if (ready.has(name.split("/")[0])) modelOptions.add(name);
  const modelInput = h("input", {
    type: "text",
    list: "new-model-options",
    "data-testid": "field-model",
    placeholder: models?.defaultModel ? `server default: ${models.defaultModel}` : "provider/model",
    autocomplete: "off",
  });
  const modelList = h("datalist", { id: "new-model-options" }, [...modelOptions].map((m) => h("option", { value: m })));
  const dryRun = h("input", { type: "checkbox", "data-testid": "dry-run", checked: true });
  dryRun.checked = true;
  const dryRunNote = h("span", { class: "wp-help" });
  const syncDryRun = () => {
    modelInput.disabled = dryRun.checked;
    dryRunNote.textContent = dryRun.checked
      ? "SIMULATED: every role runs on the sim provider; no paid calls."
      : "Real model calls: they cost money unless the model is local.";
  };
  dryRun.addEventListener("change", syncDryRun);
  syncDryRun();

  const submit = h("button", { type: "submit", class: "button primary", "data-testid": "submit-job" }, "Start optimization");
  const form = h(
    "form",
    { class: "wp-form", "data-testid": "new-job-form", novalidate: true },
    h(
      "section",
      { class: "wp-card" },
      h("h2", {}, "What to optimize"),
      h(
        "div",
        { class: "wp-inline" },
        h("div", { class: "wp-field" }, field("promptId", "Prompt", promptSelect), promptNew),
        h("div", { class: "wp-field" }, field("datasetId", "Dataset", datasetSelect), datasetNew),
      ),
    ),
    h(
      "section",
      { class: "wp-card" },
      h("h2", {}, "Settings"),
      h("div", { class: "wp-grid" }, numberInputs.map((f) => f.box)),
      field("evaluationMetrics", "Evaluation metrics", metricsList, "None checked: exact_match, when the items have expectedOutput."),
      h(
        "div",
        { class: "wp-inline" },
        field("model", "Model", modelInput, "provider/model, for every role"),
        field("dryRun", null, h("label", { class: "wp-check" }, dryRun, "Dry run ", h("span", { class: "badge badge-sim" }, "SIMULATED")), null),
      ),
      dryRunNote,
      modelList,
    ),
    formError,
    h("div", { class: "wp-actions" }, submit),
  );

  function clearErrors() {
    formError.textContent = "";
    for (const { box, error } of slots.values()) {
      box.classList.remove("wp-invalid");
      error.textContent = "";
    }
  }

  // Shows `message` at the slot for `name`, or the nearest enclosing one (config.budget.x
  // → budget.x → budget); returns false when no slot fits.
  function showError(name, message) {
    const parts = name.split(".");
    for (let n = parts.length; n > 0; n--) {
      const slot = slots.get(parts.slice(0, n).join("."));
      if (slot) {
        slot.box.classList.add("wp-invalid");
        slot.error.textContent = slot.error.textContent ? `${slot.error.textContent}; ${message}` : message;
        return true;
      }
    }
    const prefix = `${name}.`;
    for (const [key, slot] of slots) {
      if (key.startsWith(prefix)) return showError(key, message);
    }
    return false;
  }

  function focusFirstError() {
    const box = form.querySelector(".wp-invalid"); // the first in page order
    const target = box && box.querySelector("input, select, textarea");
    if (target) target.focus();
  }

  // A server error: each `details` entry next to its field (`prefix` maps the fields of a
  // prompt or dataset create call); the message, and anything unplaced, in form-error.
  function showServerError(err, prefix = "") {
    const details = err && err.status === 400 && err.details ? Object.entries(err.details) : [];
    const unplaced = [];
    for (const [key, value] of details) {
      const name = prefix + key.replace(/^config\./, "");
      if (!showError(name, String(value))) unplaced.push(`${key}: ${value}`);
    }
    const head = err?.status === 400 ? "The server did not accept this" : "Could not start the job";
    const body = details.length ? [err.message, ...unplaced].join("\n") : errorText(err);
    formError.textContent = `${head}: ${body}`;
    focusFirstError();
  }

  // Reads and checks the form. Returns {config, newPrompt?, newDataset?} or null (errors shown).
  function collect() {
    let ok = true;
    const fail = (name, message) => {
      showError(name, message);
      ok = false;
    };
    const out = { config: {} };
    if (promptSelect.value === "") fail("promptId", "choose a prompt, or create one");
    if (promptSelect.value === NEW) {
      const name = promptName.value.trim();
      if (!name) fail("prompt.name", "required");
      else if (name.length > 200) fail("prompt.name", "at most 200 characters");
      if (!promptTemplate.value.trim()) fail("prompt.template", "required");
      out.newPrompt = { name, template: promptTemplate.value };
    }
    if (datasetSelect.value === "") fail("datasetId", "choose a dataset, or create one");
    if (datasetSelect.value === NEW) {
      const name = datasetName.value.trim();
      if (!name) fail("dataset.name", "required");
      else if (name.length > 200) fail("dataset.name", "at most 200 characters");
      const parsed = parseItems(datasetItems.value);
      if (parsed.error) fail("dataset.items", parsed.error);
      out.newDataset = { name, items: parsed.items };
    }
    for (const { spec, input } of numberInputs) {
      const [value, error] = checkNumber(spec, input.value);
      if (error) fail(spec.name, error);
      else if (value !== undefined) setPath(out.config, spec.name, value);
    }
    const chosen = metricBoxes.filter((m) => m.box.checked).map((m) => m.name);
    if (chosen.length) out.config.evaluationMetrics = chosen;
    out.config.dryRun = dryRun.checked;
    const model = modelInput.value.trim();
    if (!dryRun.checked && model) {
      if (!MODEL_NAME.test(model)) fail("model", "use provider/model, for example openai/gpt-4o-mini or sim/default");
      else out.config.model = model;
    }
    return ok ? out : null;
  }

  // After an inline create, the select points at the new object, so a retry reuses it.
  function adopt(select, sub, id, text) {
    select.insertBefore(h("option", { value: id }, text), select.querySelector(`option[value="${NEW}"]`));
    select.value = id;
    toggle(select, sub);
  }

  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    const wanted = collect();
    if (!wanted) {
      formError.textContent = "Fix the highlighted fields.";
      focusFirstError();
      return;
    }
    busy = true;
    submit.disabled = true;
    submit.textContent = "Starting…";
    try {
      if (wanted.newPrompt) {
        let prompt;
        try {
          prompt = await client.prompts.create(wanted.newPrompt);
        } catch (err) {
          showServerError(err, "prompt.");
          return;
        }
        adopt(promptSelect, promptNew, prompt.id, `${prompt.name} (v${prompt.version})`);
      }
      if (wanted.newDataset) {
        let dataset;
        try {
          dataset = await createDataset(client, wanted.newDataset);
        } catch (err) {
          showServerError(err, "dataset.");
          return;
        }
        adopt(datasetSelect, datasetNew, dataset.id, `${dataset.name} (${wanted.newDataset.items.length} items)`);
      }
      let job;
      try {
        job = await client.optimizations.start({ promptId: promptSelect.value, datasetId: datasetSelect.value, config: wanted.config });
      } catch (err) {
        showServerError(err);
        return;
      }
      ctx.navigate(`/optimizations/${job.id}`);
    } finally {
      busy = false;
      submit.disabled = false;
      submit.textContent = "Start optimization";
    }
  });

  replace(root,
    h(
      "div",
      { class: "wp-page", "data-testid": "new-job-page" },
      h("div", { class: "wp-header" }, h("h1", {}, "New optimization job")),
      form,
    ),
  );
}

// Selects `id` in `select`; an id not in the first page of the list (an older version, a
// long list) is fetched and added. An unknown id is ignored.
async function preselect(select, id, fetchOne, text) {
  if (!id) return;
  if (![...select.options].some((o) => o.value === id)) {
    let found;
    try {
      found = await fetchOne(id);
    } catch {
      return;
    }
    select.insertBefore(h("option", { value: found.id }, text(found)), select.options[1] ?? null);
  }
  select.value = id;
}
