// /datasets/:id: a dataset's details, its items a page (50) at a time, and a form to add items.
import { clear, h } from "../lib/dom.js";
import { dateTime } from "../lib/format.js";
import { PAGE_SIZE, errorText, fileLoader, parseItems, uploadItems } from "./datasets.js";

ensureStylesheet();

function ensureStylesheet() {
  if (!document.querySelector('link[href="/static/pages.css"]')) {
    document.head.append(h("link", { rel: "stylesheet", href: "/static/pages.css" }));
  }
}

const json = (value) => (value === undefined || value === null ? "" : JSON.stringify(value));

export async function render(root, ctx) {
  const id = ctx.params.id;
  // A failure here (404, 401) goes to app.js, which shows "not found" or signs out.
  let dataset = await ctx.client.datasets.get(id);
  ctx.setTitle(`Dataset ${dataset.name}`);
  let offset = 0;

  const info = h("dl", { class: "wp-muted" });
  const tableBox = h("div", {});
  const range = h("span", { class: "wp-muted", "data-testid": "items-range" });
  const prev = h("button", { type: "button", class: "button", "data-testid": "items-prev" }, "← Previous");
  const next = h("button", { type: "button", class: "button", "data-testid": "items-next" }, "Next →");
  const pager = h("div", { class: "wp-pager" }, prev, range, next);
  const heading = h("h1", {}, dataset.name);

  clear(root);
  root.append(
    h(
      "div",
      { class: "wp-page", "data-testid": "dataset-page" },
      h(
        "div",
        { class: "wp-header" },
        heading,
        h("span", { class: "wp-muted wp-mono" }, dataset.id),
        h("a", { class: "button", href: `/new?datasetId=${encodeURIComponent(id)}`, "data-testid": "optimize-dataset" }, "Use in a new job…"),
      ),
      info,
      h("section", { class: "wp-card" }, h("h2", {}, "Items"), tableBox, pager),
      addForm(ctx, id, async (added) => {
        dataset = await ctx.client.datasets.get(id);
        showInfo();
        offset = Math.max(0, Math.floor((dataset.itemCount - 1) / PAGE_SIZE) * PAGE_SIZE);
        await load();
        return added;
      }),
    ),
  );

  function showInfo() {
    clear(info);
    info.append(
      h("span", { "data-testid": "dataset-item-count" }, `${dataset.itemCount} items`),
      " · created ",
      dateTime(dataset.createdAt),
    );
    if (dataset.description) info.append(" · ", dataset.description);
  }

  let loading = 0;
  async function load() {
    const ticket = ++loading;
    prev.disabled = true;
    next.disabled = true;
    let page;
    try {
      page = await ctx.client.datasets.items(id, { limit: PAGE_SIZE, offset });
    } catch (err) {
      if (ticket !== loading) return;
      clear(tableBox);
      tableBox.append(h("p", { class: "wp-form-error" }, errorText(err)));
      return;
    }
    if (ticket !== loading) return; // a newer page was asked for meanwhile
    clear(tableBox);
    if (page.items.length === 0 && offset > 0 && page.total > 0) {
      offset = Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE;
      return load();
    }
    const rows = page.items.map((item, i) =>
      h(
        "tr",
        { "data-testid": "item-row" },
        h("td", { class: "wp-num" }, String(offset + i + 1)),
        h("td", {}, h("div", { class: "wp-cell-json" }, json(item.input))),
        h("td", {}, h("div", { class: "wp-cell-json" }, typeof item.expectedOutput === "string" ? item.expectedOutput : json(item.expectedOutput))),
        h("td", {}, h("div", { class: "wp-cell-json" }, json(item.metadata))),
      ),
    );
    tableBox.append(
      h(
        "table",
        { class: "wp-table", "data-testid": "items-table", "data-offset": String(offset) },
        h("thead", {}, h("tr", {}, h("th", { class: "wp-num" }, "#"), h("th", {}, "Input"), h("th", {}, "Expected output"), h("th", {}, "Metadata"))),
        h("tbody", {}, ...rows),
      ),
    );
    if (page.total === 0) {
      tableBox.append(h("p", { class: "wp-empty" }, "This dataset has no items yet: add some below."));
      range.textContent = "";
    } else {
      range.textContent = `${offset + 1}–${offset + page.items.length} of ${page.total}`;
    }
    prev.disabled = offset === 0;
    next.disabled = !page.hasMore;
  }

  prev.addEventListener("click", () => {
    offset = Math.max(0, offset - PAGE_SIZE);
    load();
  });
  next.addEventListener("click", () => {
    offset += PAGE_SIZE;
    load();
  });

  showInfo();
  await load();
}

function addForm(ctx, id, onAdded) {
  const items = h("textarea", { rows: "5", "data-testid": "add-items", placeholder: '{"input": {"question": "5-3"}, "expectedOutput": "2"}' });
  const error = h("div", { class: "wp-form-error", role: "alert", "data-testid": "add-items-error" });
  const status = h("span", { class: "wp-ok", "data-testid": "add-items-status" });
  const submit = h("button", { type: "submit", class: "button primary", "data-testid": "add-items-submit" }, "Add items");
  const form = h(
    "form",
    { class: "wp-form", novalidate: true },
    h("div", { class: "wp-field" }, h("label", {}, "JSONL (one item per line) or a JSON array"), items),
    h("div", { class: "wp-inline wp-help" }, h("span", {}, "…or load a file:"), fileLoader(items)),
    error,
    h("div", { class: "wp-actions" }, submit, status),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    status.textContent = "";
    const parsed = parseItems(items.value);
    if (parsed.error) {
      error.textContent = parsed.error;
      return;
    }
    submit.disabled = true;
    try {
      await uploadItems(ctx.client, id, parsed.items);
      items.value = "";
      status.textContent = `Added ${parsed.items.length} item${parsed.items.length === 1 ? "" : "s"}.`;
      await onAdded(parsed.items.length);
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      submit.disabled = false;
    }
  });
  return h("section", { class: "wp-card" }, h("h2", {}, "Add items"), form);
}
