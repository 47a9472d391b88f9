// /prompts/:id: a prompt's version history (every version; optimization versions link to
// their job), any version's text, a diff between any two versions, and a new-version form.
import { diffLines, renderDiff } from "../lib/diff.js";
import { h, replace } from "../lib/dom.js";
import { dateTime, promptText } from "../lib/format.js";
import { errorText } from "./datasets.js";
import { sourceCell } from "./prompts.js";

ensureStylesheet();

function ensureStylesheet() {
  if (!document.querySelector('link[href="/static/pages.css"]')) {
    document.head.append(h("link", { rel: "stylesheet", href: "/static/pages.css" }));
  }
}

const label = (v) => `v${v.version}${v.isLatest ? " (latest)" : ""} · ${v.source === "optimization" ? "optimization" : v.source || "user"}`;

export async function render(root, ctx) {
  const id = ctx.params.id;
  // A failure here (404, 401) goes to app.js, which shows "not found" or signs out.
  let versions = await ctx.client.prompts.versions(id);
  const latest = () => versions.find((v) => v.isLatest) || versions[versions.length - 1];
  const byId = (vid) => versions.find((v) => v.id === vid);

  const wanted = Number.parseInt(ctx.query?.version ?? "", 10);
  let selected = versions.find((v) => v.version === wanted) || byId(id) || latest();
  let diffA = versions.length > 1 ? versions[versions.length - 2].id : versions[0].id;
  let diffB = latest().id;

  const heading = h("h1", {});
  const optimize = h("a", { class: "button", "data-testid": "optimize-prompt" }, "Optimize…");
  const meta = h("p", { class: "wp-muted" });
  const historyBox = h("div", {});
  const viewBox = h("section", { class: "wp-card", "data-testid": "version-view" });
  const selectA = h("select", { "data-testid": "version-a", "aria-label": "Older version" });
  const selectB = h("select", { "data-testid": "version-b", "aria-label": "Newer version" });
  const diffBox = h("div", {});
  const form = newVersionForm(ctx, () => selected, async (created) => {
    const previous = latest();
    versions = await ctx.client.prompts.versions(id);
    selected = byId(created.id) || latest();
    diffA = previous.id;
    diffB = selected.id;
    update();
  });

  selectA.addEventListener("change", () => {
    diffA = selectA.value;
    showDiff();
  });
  selectB.addEventListener("change", () => {
    diffB = selectB.value;
    showDiff();
  });

  replace(root,
    h(
      "div",
      { class: "wp-page", "data-testid": "prompt-page" },
      h("div", { class: "wp-header" }, heading, optimize),
      meta,
      h("section", { class: "wp-card" }, h("h2", {}, "Versions"), historyBox),
      viewBox,
      h(
        "section",
        { class: "wp-card" },
        h("h2", {}, "Compare versions"),
        h(
          "div",
          { class: "wp-inline" },
          h("div", { class: "wp-field" }, h("label", {}, "From"), selectA),
          h("div", { class: "wp-field" }, h("label", {}, "To"), selectB),
        ),
        h("div", { class: "wp-help" }, "Lines only in “From” are marked −, lines only in “To” are marked +."),
        diffBox,
      ),
      h("section", { class: "wp-card" }, h("h2", {}, "New version"), form.element),
    ),
  );

  function update() {
    const top = latest();
    ctx.setTitle(`Prompt ${top.name}`);
    heading.textContent = top.name;
    optimize.setAttribute("href", `/new?promptId=${encodeURIComponent(top.id)}`);
    replace(meta,
      `${versions.length} version${versions.length === 1 ? "" : "s"} · variables `,
      h("span", { class: "wp-mono" }, (top.variables || []).map((v) => `{${v}}`).join(" ") || "none"),
      top.description ? ` · ${top.description}` : "",
    );
    showHistory();
    showVersion();
    fillSelect(selectA, diffA);
    fillSelect(selectB, diffB);
    showDiff();
    form.load(selected);
  }

  function showHistory() {
    const rows = versions
      .slice()
      .reverse()
      .map((v) => {
        const view = h("button", { type: "button", class: "button small", "data-testid": `view-version-${v.version}` }, "View");
        view.addEventListener("click", () => {
          selected = v;
          showHistory();
          showVersion();
          form.load(selected);
        });
        return h(
          "tr",
          { class: v.id === selected.id ? "wp-selected" : null, "data-testid": "version-row", "data-version": String(v.version) },
          h("td", { class: "wp-num" }, `v${v.version}`),
          h("td", {}, sourceCell(ctx, v)),
          h("td", { class: "wp-muted" }, v.description || ""),
          h("td", { class: "wp-muted" }, dateTime(v.createdAt)),
          h("td", {}, view),
        );
      });
    replace(historyBox,
      h(
        "table",
        { class: "wp-table", "data-testid": "versions-table" },
        h(
          "thead",
          {},
          h("tr", {}, h("th", { class: "wp-num" }, "Version"), ["Source", "Description", "Created", ""].map((t) => h("th", {}, t))),
        ),
        h("tbody", {}, rows),
      ),
    );
  }

  function showVersion() {
    replace(viewBox,
      h("h2", {}, `Version ${selected.version}`, selected.isLatest ? " (latest)" : ""),
      h(
        "p",
        { class: "wp-muted" },
        sourceCell(ctx, selected),
        ` · ${dateTime(selected.createdAt)} · `,
        h("span", { class: "wp-mono" }, selected.id),
      ),
      h("pre", { class: "wp-prompt-text", "data-testid": "version-text" }, promptText(selected)),
    );
  }

  function fillSelect(select, value) {
    replace(select, versions.map((v) => h("option", { value: v.id }, label(v))));
    select.value = value;
  }

  function showDiff() {
    const a = byId(diffA) || versions[0];
    const b = byId(diffB) || latest();
    replace(diffBox, renderDiff(diffLines(promptText(a), promptText(b))));
  }

  update();
}

// The new-version form: pre-filled with the viewed version (template, or messages as JSON).
function newVersionForm(ctx, current, onCreated) {
  const text = h("textarea", { rows: "10", "data-testid": "new-version-text" });
  const description = h("input", { type: "text", "data-testid": "new-version-description", placeholder: "What changed (optional)" });
  const hint = h("span", { class: "wp-help" });
  const error = h("div", { class: "wp-form-error", role: "alert", "data-testid": "new-version-error" });
  const submit = h("button", { type: "submit", class: "button primary", "data-testid": "create-version" }, "Save as new version");
  let kind = "template";
  const element = h(
    "form",
    { class: "wp-form", novalidate: true },
    h("div", { class: "wp-field" }, text, hint),
    h("div", { class: "wp-field" }, h("label", {}, "Description"), description),
    error,
    h("div", { class: "wp-actions" }, submit),
  );
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const body = {};
    if (kind === "messages") {
      try {
        body.messages = JSON.parse(text.value);
      } catch (err) {
        error.textContent = `messages must be a JSON array of {"role", "content"}: ${err.message}`;
        return;
      }
    } else {
      if (!text.value.trim()) {
        error.textContent = "The template is empty.";
        return;
      }
      body.template = text.value;
    }
    if (description.value.trim()) body.description = description.value.trim();
    submit.disabled = true;
    try {
      const created = await ctx.client.prompts.createVersion(current().id, body);
      description.value = "";
      await onCreated(created);
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      submit.disabled = false;
    }
  });
  return {
    element,
    load(version) {
      error.textContent = "";
      if (Array.isArray(version.messages)) {
        kind = "messages";
        text.value = JSON.stringify(version.messages, null, 2);
        hint.textContent = `Starts from v${version.version}. Messages as a JSON array of {"role", "content"}.`;
      } else {
        kind = "template";
        text.value = version.template ?? "";
        hint.textContent = `Starts from v${version.version}. Variables are {name}; {{ and }} are literal braces.`;
      }
    },
  };
}
