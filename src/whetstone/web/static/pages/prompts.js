// /prompts: every prompt of the workspace (its latest version), and a form to create one.
import { clear, h, replace } from "../lib/dom.js";
import { dateTime } from "../lib/format.js";
import { PAGE_SIZE, errorText, listPager } from "./datasets.js";

ensureStylesheet();

function ensureStylesheet() {
  if (!document.querySelector('link[href="/static/pages.css"]')) {
    document.head.append(h("link", { rel: "stylesheet", href: "/static/pages.css" }));
  }
}

// "user" or "optimization", and for an optimization version a link to its job.
export function sourceCell(ctx, prompt) {
  if (prompt.source !== "optimization") return h("span", { class: "wp-badge" }, prompt.source || "user");
  return [
    h("span", { class: "wp-badge wp-badge-optimization" }, "optimization"),
    prompt.jobId ? [" ", h("a", { href: `/optimizations/${prompt.jobId}`, "data-testid": "job-link" }, "job")] : null,
  ];
}

export async function render(root, ctx) {
  ctx.setTitle("Prompts");
  let offset = 0;
  const tableBox = h("div", {});
  const pager = h("div", { class: "wp-pager" });
  clear(root);
  root.append(
    h(
      "div",
      { class: "wp-page", "data-testid": "prompts-page" },
      h("div", { class: "wp-header" }, h("h1", {}, "Prompts")),
      createForm(ctx),
      h("section", { class: "wp-card" }, h("h2", {}, "All prompts"), tableBox, pager),
    ),
  );

  async function load() {
    clear(pager);
    let list;
    try {
      list = await ctx.client.prompts.list({ limit: PAGE_SIZE, offset });
    } catch (err) {
      replace(tableBox, h("p", { class: "wp-form-error" }, errorText(err)));
      return;
    }
    clear(tableBox);
    if (list.items.length === 0) {
      tableBox.append(h("p", { class: "wp-empty" }, "No prompts yet: create one above."));
      return;
    }
    tableBox.append(
      h(
        "table",
        { class: "wp-table", "data-testid": "prompts-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", {}, "Name"),
            h("th", { class: "wp-num" }, "Latest"),
            h("th", {}, "Source"),
            h("th", {}, "Variables"),
            h("th", {}, "Updated"),
          ),
        ),
        h(
          "tbody",
          {},
          list.items.map((p) =>
            h(
              "tr",
              { "data-testid": "prompt-row" },
              h("td", {}, h("a", { href: `/prompts/${p.id}` }, p.name)),
              h("td", { class: "wp-num" }, `v${p.version}`),
              h("td", {}, sourceCell(ctx, p)),
              h("td", { class: "wp-mono wp-muted" }, (p.variables || []).map((v) => `{${v}}`).join(" ")),
              h("td", { class: "wp-muted" }, dateTime(p.createdAt)),
            ),
          ),
        ),
      ),
    );
    pager.append(...listPager(list, offset, go));
  }

  function go(step) {
    offset = Math.max(0, offset + step);
    load();
  }

  await load();
}

function createForm(ctx) {
  const name = h("input", { type: "text", "data-testid": "prompt-name", autocomplete: "off" });
  const template = h("textarea", {
    rows: "6",
    "data-testid": "prompt-template",
    placeholder: "Answer briefly: {question}",
  });
  const error = h("div", { class: "wp-form-error", role: "alert", "data-testid": "prompt-form-error" });
  const submit = h("button", { type: "submit", class: "button primary", "data-testid": "create-prompt" }, "Create prompt");
  const form = h(
    "form",
    { class: "wp-form", novalidate: true },
    h("div", { class: "wp-field" }, h("label", {}, "Name"), name),
    h(
      "div",
      { class: "wp-field" },
      h("label", {}, "Template"),
      template,
      h("span", { class: "wp-help" }, "Variables are {name}; write {{ and }} for literal braces."),
    ),
    error,
    h("div", { class: "wp-actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!name.value.trim() || !template.value.trim()) {
      error.textContent = "Give the prompt a name and a template.";
      return;
    }
    submit.disabled = true;
    try {
      const prompt = await ctx.client.prompts.create({ name: name.value.trim(), template: template.value });
      ctx.navigate(`/prompts/${prompt.id}`);
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      submit.disabled = false;
    }
  });
  return h("details", { class: "wp-card" }, h("summary", {}, "New prompt"), form);
}
