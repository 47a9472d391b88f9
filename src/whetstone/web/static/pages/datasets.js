// /datasets: every dataset of the workspace, and a form to create one from pasted
// (or loaded) JSONL or a JSON array of items. Also exports the helpers the dataset,
// prompt and new-job pages share (parseItems, createDataset, uploadItems, errorText).
// Links are plain <a href>: app.js routes same-origin clicks through the History API.
import { clear, h } from "../lib/dom.js";
import { dateTime } from "../lib/format.js";

ensureStylesheet();

export const PAGE_SIZE = 50;
export const UPLOAD_BATCH = 1000; // items per request; the server's cap is larger

function ensureStylesheet() {
  if (!document.querySelector('link[href="/static/pages.css"]')) {
    document.head.append(h("link", { rel: "stylesheet", href: "/static/pages.css" }));
  }
}

// Parses dataset items from text: a JSON array of items, or JSONL (one item per line;
// blank lines and lines starting with // are skipped). Returns {items} or {error}.
// Each item needs an object `input`; `expectedOutput` (or `expected_output`) and an
// object `metadata` are optional; anything else is reported with its line number.
export function parseItems(text) {
  const source = String(text ?? "").trim();
  if (source === "") return { error: "paste at least one item" };
  let rows;
  if (source.startsWith("[")) {
    let parsed;
    try {
      parsed = JSON.parse(source);
    } catch (err) {
      return { error: `not a valid JSON array: ${err.message}` };
    }
    rows = parsed.map((value, i) => ({ where: `item ${i + 1}`, value }));
  } else {
    rows = [];
    const lines = source.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line === "" || line.startsWith("//")) continue;
      try {
        rows.push({ where: `line ${i + 1}`, value: JSON.parse(line) });
      } catch (err) {
        return { error: `line ${i + 1} is not valid JSON: ${err.message}` };
      }
    }
  }
  const items = [];
  for (const { where, value } of rows) {
    const checked = checkItem(value);
    if (typeof checked === "string") return { error: `${where}: ${checked}` };
    items.push(checked);
  }
  if (items.length === 0) return { error: "paste at least one item" };
  return { items };
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function checkItem(value) {
  if (!isObject(value)) return 'each item must be an object like {"input": {...}}';
  if (!isObject(value.input)) return 'needs "input", an object of variable values';
  const item = { input: value.input };
  for (const [key, v] of Object.entries(value)) {
    if (key === "input") continue;
    if (key === "expectedOutput" || key === "expected_output") item.expectedOutput = v;
    else if (key === "metadata") {
      if (v !== null && !isObject(v)) return '"metadata" must be an object';
      if (v !== null) item.metadata = v;
    } else {
      return `unknown field "${key}" (allowed: input, expectedOutput, metadata)`;
    }
  }
  return item;
}

// Creates a dataset with `items`, sending them in batches. Returns the Dataset.
export async function createDataset(client, { name, description, items }) {
  const body = { name, items: items.slice(0, UPLOAD_BATCH) };
  if (description) body.description = description;
  const dataset = await client.datasets.create(body);
  await uploadItems(client, dataset.id, items.slice(UPLOAD_BATCH));
  return dataset;
}

export async function uploadItems(client, datasetId, items) {
  for (let i = 0; i < items.length; i += UPLOAD_BATCH) {
    await client.datasets.addItems(datasetId, items.slice(i, i + UPLOAD_BATCH));
  }
}

/** Previous/next buttons and the range for a paged list (`{items, total, hasMore}`) shown
 * from `offset`; `go(step)` moves by ±PAGE_SIZE. Nothing when it all fits on one page. */
export function listPager(list, offset, go) {
  if (list.total <= PAGE_SIZE) return [];
  const last = Math.min(offset + list.items.length, list.total);
  return [
    h("button", { type: "button", class: "button", disabled: offset === 0, onclick: () => go(-PAGE_SIZE) }, "← Previous"),
    h("span", { class: "wp-muted" }, `${offset + 1}–${last} of ${list.total}`),
    h("button", { type: "button", class: "button", disabled: !list.hasMore, onclick: () => go(PAGE_SIZE) }, "Next →"),
  ];
}

export function errorText(err) {
  if (!err) return "";
  const details = err.details && typeof err.details === "object" ? Object.entries(err.details) : [];
  if (details.length === 0) return err.message || String(err);
  return `${err.message}\n${details.map(([k, v]) => `• ${k}: ${v}`).join("\n")}`;
}

// File input that loads a text file into `textarea`.
export function fileLoader(textarea) {
  const input = h("input", { type: "file", accept: ".jsonl,.json,.txt,application/json" });
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    if (file) textarea.value = await file.text();
  });
  return input;
}

export async function render(root, ctx) {
  ctx.setTitle("Datasets");
  let offset = Math.max(0, Number.parseInt(ctx.query?.offset ?? "0", 10) || 0);

  const tableBox = h("div", {});
  const pager = h("div", { class: "wp-pager" });
  const listCard = h("section", { class: "wp-card" }, h("h2", {}, "All datasets"), tableBox, pager);

  const page = h(
    "div",
    { class: "wp-page", "data-testid": "datasets-page" },
    h("div", { class: "wp-header" }, h("h1", {}, "Datasets")),
    createForm(ctx),
    listCard,
  );
  clear(root);
  root.append(page);

  async function load() {
    clear(tableBox);
    clear(pager);
    tableBox.append(h("p", { class: "wp-muted" }, "Loading…"));
    let list;
    try {
      list = await ctx.client.datasets.list({ limit: PAGE_SIZE, offset });
    } catch (err) {
      clear(tableBox);
      tableBox.append(h("p", { class: "wp-form-error" }, errorText(err)));
      return;
    }
    clear(tableBox);
    if (list.items.length === 0) {
      tableBox.append(h("p", { class: "wp-empty" }, "No datasets yet: create one above."));
      return;
    }
    const rows = list.items.map((d) =>
      h(
        "tr",
        { "data-testid": "dataset-row" },
        h("td", {}, h("a", { href: `/datasets/${d.id}` }, d.name)),
        h("td", { class: "wp-num" }, String(d.itemCount)),
        h("td", { class: "wp-muted" }, d.description || ""),
        h("td", { class: "wp-muted" }, dateTime(d.createdAt)),
      ),
    );
    tableBox.append(
      h(
        "table",
        { class: "wp-table", "data-testid": "datasets-table" },
        h(
          "thead",
          {},
          h("tr", {}, h("th", {}, "Name"), h("th", { class: "wp-num" }, "Items"), h("th", {}, "Description"), h("th", {}, "Created")),
        ),
        h("tbody", {}, ...rows),
      ),
    );
    pager.append(...listPager(list, offset, (step) => {
      offset = Math.max(0, offset + step);
      load();
    }));
  }

  await load();
}

function createForm(ctx) {
  const name = h("input", { type: "text", name: "name", "data-testid": "dataset-name", autocomplete: "off" });
  const description = h("input", { type: "text", name: "description", "data-testid": "dataset-description" });
  const items = h("textarea", {
    name: "items",
    rows: "8",
    "data-testid": "dataset-items",
    placeholder: '{"input": {"question": "2+2"}, "expectedOutput": "4"}\n{"input": {"question": "3*3"}, "expectedOutput": "9"}',
  });
  const error = h("div", { class: "wp-form-error", "data-testid": "dataset-form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "button primary", "data-testid": "create-dataset" }, "Create dataset");
  const form = h(
    "form",
    { class: "wp-form", "data-testid": "dataset-form", novalidate: true },
    h(
      "div",
      { class: "wp-inline" },
      h("div", { class: "wp-field" }, h("label", {}, "Name"), name),
      h("div", { class: "wp-field" }, h("label", {}, "Description (optional)"), description),
    ),
    h(
      "div",
      { class: "wp-field" },
      h("label", {}, "Items: JSONL (one per line) or a JSON array"),
      items,
      h("div", { class: "wp-inline wp-help" }, h("span", {}, "…or load a file:"), fileLoader(items)),
    ),
    error,
    h("div", { class: "wp-actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!name.value.trim()) {
      error.textContent = "Give the dataset a name.";
      return;
    }
    const parsed = parseItems(items.value);
    if (parsed.error) {
      error.textContent = parsed.error;
      return;
    }
    submit.disabled = true;
    try {
      const dataset = await createDataset(ctx.client, {
        name: name.value.trim(),
        description: description.value.trim(),
        items: parsed.items,
      });
      ctx.navigate(`/datasets/${dataset.id}`);
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      submit.disabled = false;
    }
  });
  return h("section", { class: "wp-card" }, h("h2", {}, "New dataset"), form);
}
