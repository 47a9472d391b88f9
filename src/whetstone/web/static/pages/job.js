// /optimizations/:id — one job, live: status, progress, best score, the score chart, the
// best prompt against the original, pause/resume/cancel, results, and the event log.
//
// On load it shows the best result kept in localStorage at once, then subscribes from
// event 0 and rebuilds everything from the replay, so a reload mid-job carries on where it
// was. Events are queued and drawn once per animation frame.

import { ScoreChart } from "../lib/chart.js";
import { h, replace, setText } from "../lib/dom.js";
import { EventLog } from "../lib/eventlog.js";
import * as fmt from "../lib/format.js";
import { applyEvent, initialState } from "../lib/jobstate.js";
import { JobControls } from "../lib/jobcontrols.js";
import { PromptPanel } from "../lib/promptpanel.js";

// whetstone.js connection states -> what the indicator says (docs/web.md).
const CONNECTION_TEXT = {
  connected: "connected",
  connecting: "reconnecting",
  reconnecting: "reconnecting",
  offline: "offline",
  idle: "offline",
};

function stat(label, value, attrs = {}) {
  return h("div", { class: "stat" }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value", ...attrs }, value));
}

class JobPage {
  constructor(root, ctx, jobId) {
    this.ctx = ctx;
    this.jobId = jobId;
    this.job = null;
    this.state = initialState(null);
    this.queue = [];
    this.frame = null;
    this.chart = new ScoreChart();
    this.log = new EventLog();
    this.prompt = new PromptPanel();
    this.controls = new JobControls(ctx.client, jobId, (job) => this.onJobUpdate(job));
    this.build(root);
  }

  build(root) {
    this.title = h("h1", {}, "Job ", h("span", { class: "mono" }, this.jobId));
    this.simBadge = h(
      "span",
      { class: "badge badge-sim", "data-testid": "simulated-badge", hidden: true, title: "A dry run: the simulator plays every model; nothing is paid" },
      "SIMULATED",
    );
    this.statusEl = h("span", { class: "status", "data-testid": "job-status" }, "…");
    this.connEl = h("span", { class: "conn", "data-testid": "connection-state" }, "offline");
    this.iterEl = h("span", { "data-testid": "job-progress" }, "–");
    this.progress = h("progress", { max: 1, value: 0, "aria-label": "iterations done" });
    this.stageEl = h("span", { "data-testid": "job-stage" }, "–");
    this.bestEl = h("span", { "data-testid": "best-score" }, "–");
    this.baselineEl = h("span", { "data-testid": "initial-score" }, "–");
    this.costEl = h("span", { "data-testid": "job-cost" }, "–");
    this.meta = h("p", { class: "muted small job-meta" });
    this.results = h("section", { class: "card results", "data-testid": "job-results", hidden: true });
    this.errorEl = h("div", { class: "error-box", role: "alert", "data-testid": "job-error", hidden: true });
    root.append(
      h("div", { class: "page-head" }, this.title, this.simBadge, this.statusEl, h("span", { class: "spacer" }), h("span", { class: "muted small" }, "live: "), this.connEl),
      this.meta,
      this.errorEl,
      h(
        "div",
        { class: "job-grid" },
        h(
          "section",
          { class: "card" },
          h(
            "div",
            { class: "stats" },
            stat("Best score", this.bestEl, { class: "stat-value big" }),
            stat("Baseline", this.baselineEl),
            stat("Iteration", h("span", {}, this.iterEl, this.progress)),
            stat("Stage", this.stageEl),
            stat("Cost so far", this.costEl),
          ),
          this.controls.el,
        ),
        h("section", { class: "card chart-card" }, h("h2", {}, "Scores"), this.chart.el),
      ),
      this.results,
      this.prompt.el,
      h("section", { class: "card" }, h("h2", {}, "Events"), this.log.note, this.log.el),
    );
  }

  showStoredBest(best) {
    if (!best) return;
    setText(this.bestEl, fmt.score(best.score));
    this.bestEl.title = `kept in this browser from event ${best.eventId}; updating…`;
    this.prompt.setBest(best.prompt, best.candidateId);
  }

  async load() {
    const job = await this.ctx.client.optimizations.get(this.jobId);
    this.job = job;
    this.state = initialState(job);
    this.ctx.setTitle(`Job ${fmt.shortId(job.id, 14)}`);
    this.simBadge.hidden = !fmt.isSimulated(job);
    replace(
      this.meta,
      "Prompt ",
      h("a", { href: `/prompts/${encodeURIComponent(job.promptId)}` }, fmt.shortId(job.promptId, 16)),
      " · dataset ",
      h("a", { href: `/datasets/${encodeURIComponent(job.datasetId)}` }, fmt.shortId(job.datasetId, 16)),
      ` · created ${fmt.dateTime(job.createdAt)}`,
    );
    this.draw();
    this.ctx.client.prompts.get(job.promptId).then(
      (prompt) => this.prompt.setOriginal(prompt),
      () => this.prompt.setOriginal(null),
    );
  }

  follow() {
    const client = this.ctx.client;
    this.unlisten = client.onConnectionChange((state) => this.showConnection(state));
    this.showConnection(client.connectionState);
    this.sub = client.subscribe(this.jobId, {
      afterEventId: 0,
      onEvent: (event) => this.enqueue(event),
      onComplete: () => this.schedule(),
      onError: (error) => this.onStreamError(error),
    });
  }

  showConnection(state) {
    setText(this.connEl, CONNECTION_TEXT[state] || "offline");
    this.connEl.dataset.state = state;
    this.connEl.title = state === "idle" ? "not following: the job has ended" : `whetstone.js: ${state}`;
  }

  onStreamError(error) {
    if (error && error.code === "job_failed") return this.schedule(); // the event says it all
    this.errorEl.hidden = false;
    replace(this.errorEl, h("strong", {}, "Live updates stopped"), h("p", {}, `${error.message} (${error.code})`));
  }

  enqueue(event) {
    this.queue.push(event);
    this.schedule();
  }

  schedule() {
    if (this.frame !== null) return;
    // requestAnimationFrame does not run in a hidden tab; a timer keeps the state current.
    this.frame = document.hidden
      ? { timer: setTimeout(() => this.flush(), 250) }
      : { raf: requestAnimationFrame(() => this.flush()) };
  }

  flush() {
    this.frame = null;
    const batch = this.queue;
    this.queue = [];
    for (const event of batch) applyEvent(this.state, event);
    this.log.append(batch);
    this.draw();
  }

  onJobUpdate(job) {
    // A REST answer (pause/resume/cancel): events win once the job has ended.
    if (!fmt.TERMINAL_STATUSES.has(this.state.status)) {
      this.state.status = job.status;
      this.state.pendingAction = job.pendingAction || null;
    }
    this.draw();
  }

  /** The status to show: while a long replay of an ended job is still catching up, the
   * job's final status (from the REST answer) rather than the replay's intermediate one. */
  shownStatus() {
    const s = this.state;
    const job = this.job;
    const catchingUp = job && fmt.TERMINAL_STATUSES.has(job.status) && s.lastEventId < job.lastEventId;
    return catchingUp ? job.status : s.status;
  }

  draw() {
    const s = this.state;
    const status = this.shownStatus();
    setText(this.statusEl, status);
    this.statusEl.className = `status status-${status}`;
    const max = s.maxIterations || 0;
    setText(this.iterEl, max ? `${s.iteration} / ${max}` : String(s.iteration));
    this.progress.max = Math.max(1, max);
    this.progress.value = Math.min(s.iteration, Math.max(1, max));
    setText(this.stageEl, s.pendingAction ? `${s.stage || "–"} (${s.pendingAction} requested)` : s.stage || "–");
    if (s.bestScore !== null) {
      setText(this.bestEl, fmt.score(s.bestScore));
      this.bestEl.title = "";
    }
    setText(this.baselineEl, fmt.score(s.initialScore));
    const usage = s.usage;
    setText(this.costEl, usage ? `${fmt.cost(usage.costUsd)} · ${fmt.count(usage.llmCalls)} calls` : "–");
    if (fmt.isSimulated(this.job)) this.costEl.title = "simulated calls: priced as if real, nothing is paid";
    this.controls.update(status, s.pendingAction);
    this.chart.update(s);
    if (s.bestPrompt) this.prompt.setBest(s.bestPrompt, s.bestCandidateId);
    this.drawOutcome(s);
  }

  drawOutcome(s) {
    if (s.results) {
      const r = s.results;
      this.results.hidden = false;
      replace(
        this.results,
        h("h2", {}, "Results"),
        h(
          "div",
          { class: "stats" },
          stat("Final score", fmt.score(r.finalScore)),
          stat("Improvement", r.relativeImprovement === null || r.relativeImprovement === undefined ? fmt.delta(r.improvement) : `${fmt.delta(r.improvement)} (${fmt.percent(r.relativeImprovement)})`),
          stat("Iterations", String(r.iterations)),
          stat("Stopped by", r.stopReason || "–"),
        ),
        r.resultPromptId
          ? h("p", {}, h("a", { href: `/prompts/${encodeURIComponent(r.resultPromptId)}`, class: "button", "data-testid": "result-prompt-link" }, "Open the new prompt version →"))
          : h("p", { class: "muted" }, "No better prompt was found, so no new version was made."),
      );
    } else if (s.status === "failed" || s.status === "cancelled") {
      this.results.hidden = false;
      const why = s.status === "failed" ? (s.error && s.error.message) || "the job failed" : "the job was cancelled";
      replace(this.results, h("h2", {}, "Results"), h("p", {}, `No results: ${why}.`));
    }
  }

  close() {
    if (this.sub) this.sub.unsubscribe();
    if (this.unlisten) this.unlisten();
    if (this.frame && this.frame.raf) cancelAnimationFrame(this.frame.raf);
    if (this.frame && this.frame.timer) clearTimeout(this.frame.timer);
    this.frame = null;
  }
}

export async function render(root, ctx) {
  const page = new JobPage(root, ctx, ctx.params.id);
  ctx.setTitle(`Job ${fmt.shortId(ctx.params.id, 14)}`);
  page.showStoredBest(ctx.client.bestResult(ctx.params.id));
  await page.load();
  page.follow();
  return () => page.close();
}
