// / — the jobs, newest first, with live statuses and scores.
//
// Live updates by polling: the list is fetched again every 2 s while a job on the page is
// queued or running, every 15 s otherwise (to notice jobs started elsewhere), and not at
// all while the tab is hidden. One request per refresh, whatever the number of jobs; the
// job page is where the WebSocket stream is followed.

import { errorBox, h, replace } from "../lib/dom.js";
import * as fmt from "../lib/format.js";

const PAGE_SIZE = 25;
const ACTIVE_POLL_MS = 2000;
const IDLE_POLL_MS = 15000;
const STATUSES = ["queued", "running", "paused", "completed", "failed", "cancelled"];

function progress(job) {
  const max = job.config && job.config.maxIterations;
  return max ? `${job.currentIteration} / ${max}` : String(job.currentIteration ?? 0);
}

function scoreCell(job) {
  if (job.bestScore === null || job.bestScore === undefined) return fmt.score(null);
  if (job.initialScore === null || job.initialScore === undefined) return fmt.score(job.bestScore);
  return `${fmt.score(job.initialScore)} → ${fmt.score(job.bestScore)}`;
}

class JobsPage {
  constructor(root, ctx) {
    this.ctx = ctx;
    this.status = STATUSES.includes(ctx.query.status) ? ctx.query.status : "";
    this.offset = Math.max(0, Number.parseInt(ctx.query.offset || "0", 10) || 0);
    this.promptNames = new Map();
    this.timer = null;
    this.closed = false;
    this.loaded = false;
    this.body = h("tbody", {});
    this.summary = h("p", { class: "muted small", "data-testid": "jobs-summary" });
    this.pager = h("div", { class: "pager" });
    this.error = h("div", {});
    this.table = h(
      "table",
      { class: "table jobs-table", "data-testid": "jobs-table" },
      h(
        "thead",
        {},
        h("tr", {}, ["Job", "Prompt", "Status", "Iteration", "Score (baseline → best)", "Cost", "Created"].map((t) => h("th", {}, t))),
      ),
      this.body,
    );
    this.empty = h(
      "div",
      { class: "empty", "data-testid": "jobs-empty", hidden: true },
      h("p", {}, "No jobs yet."),
      h("p", {}, h("a", { href: "/new", class: "button primary" }, "Start a job"), " or run ", h("code", {}, "whetstone demo"), " for a simulated one."),
    );
    const filter = h(
      "select",
      { "aria-label": "Filter by status", "data-testid": "status-filter", onchange: (e) => this.filter(e.target.value) },
      h("option", { value: "" }, "All statuses"),
      STATUSES.map((s) => h("option", { value: s, selected: s === this.status }, s)),
    );
    root.append(
      h("div", { class: "page-head" }, h("h1", {}, "Jobs"), h("span", { class: "spacer" }), filter, h("a", { href: "/new", class: "button primary", "data-testid": "new-job-link" }, "New job")),
      this.error,
      h("div", { class: "card table-card" }, this.table, this.empty),
      h("div", { class: "list-foot" }, this.summary, this.pager),
    );
  }

  filter(status) {
    const query = status ? `?status=${encodeURIComponent(status)}` : "";
    this.ctx.navigate(`/${query}`);
  }

  async refresh() {
    this.timer = null;
    if (this.closed) return;
    let active = false;
    if (!document.hidden || !this.loaded) {
      try {
        const query = { limit: PAGE_SIZE, offset: this.offset };
        if (this.status) query.status = this.status;
        const page = await this.ctx.client.optimizations.list(query);
        if (this.closed) return;
        this.loaded = true;
        replace(this.error);
        this.draw(page);
        active = page.items.some((job) => job.status === "queued" || job.status === "running");
      } catch (err) {
        if (this.closed) return;
        if (err.code === "unauthorized") throw err;
        replace(this.error, errorBox(err, "Could not refresh the jobs"));
      }
    }
    if (!this.closed) this.timer = setTimeout(() => this.refresh().catch(() => {}), active ? ACTIVE_POLL_MS : IDLE_POLL_MS);
  }

  draw(page) {
    this.table.hidden = page.items.length === 0;
    this.empty.hidden = page.items.length > 0 || page.offset > 0 || Boolean(this.status);
    replace(this.body, page.items.map((job) => this.row(job)));
    const first = page.items.length ? page.offset + 1 : 0;
    replace(this.summary, page.total ? `${first}–${page.offset + page.items.length} of ${page.total} jobs${this.status ? ` (${this.status})` : ""}` : this.status ? `No ${this.status} jobs.` : "");
    this.drawPager(page);
    this.loadPromptNames(page.items);
  }

  row(job) {
    const name = this.promptNames.get(job.promptId);
    return h(
      "tr",
      { "data-testid": "job-row", dataset: { jobId: job.id, status: job.status } },
      h("td", {}, h("a", { href: `/optimizations/${encodeURIComponent(job.id)}`, class: "mono", title: job.id }, fmt.shortId(job.id, 16)), fmt.isSimulated(job) ? h("span", { class: "badge badge-sim small-badge", title: "dry run: simulated models" }, "SIMULATED") : null),
      h("td", { dataset: { promptId: job.promptId } }, name || h("span", { class: "mono muted" }, fmt.shortId(job.promptId, 14))),
      h("td", {}, h("span", { class: `status status-${job.status}`, "data-testid": "job-row-status" }, job.status), job.pendingAction ? h("span", { class: "muted small" }, ` (${job.pendingAction} requested)`) : null),
      h("td", { class: "num" }, progress(job)),
      h("td", { class: "num", "data-testid": "job-row-score" }, scoreCell(job)),
      h("td", { class: "num" }, fmt.cost(job.usage && job.usage.costUsd)),
      h("td", { class: "nowrap", title: fmt.dateTime(job.createdAt) }, fmt.ago(job.createdAt)),
    );
  }

  drawPager(page) {
    const link = (offset, text) => {
      const params = new URLSearchParams();
      if (this.status) params.set("status", this.status);
      if (offset) params.set("offset", String(offset));
      const query = params.toString();
      return h("a", { href: `/${query ? `?${query}` : ""}`, class: "button" }, text);
    };
    replace(
      this.pager,
      page.offset > 0 ? link(Math.max(0, page.offset - PAGE_SIZE), "← Newer") : null,
      page.hasMore ? link(page.offset + PAGE_SIZE, "Older →") : null,
    );
  }

  loadPromptNames(jobs) {
    const missing = [...new Set(jobs.map((j) => j.promptId))].filter((id) => !this.promptNames.has(id));
    for (const id of missing) {
      this.promptNames.set(id, null);
      this.ctx.client.prompts.get(id).then(
        (prompt) => {
          const label = `${prompt.name} v${prompt.version}`;
          this.promptNames.set(id, label);
          for (const cell of this.body.querySelectorAll(`td[data-prompt-id="${CSS.escape(id)}"]`)) replace(cell, label);
        },
        () => {},
      );
    }
  }

  close() {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
  }
}

export async function render(root, ctx) {
  ctx.setTitle("Jobs");
  const page = new JobsPage(root, ctx);
  await page.refresh();
  return () => page.close();
}
