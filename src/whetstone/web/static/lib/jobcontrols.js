// Pause / resume / cancel buttons of the job page, enabled by the job's status.

import { h, replace } from "./dom.js";

const ACTIONS = [
  { name: "pause", label: "Pause", can: (status, pending) => status === "running" && !pending },
  { name: "resume", label: "Resume", can: (status) => status === "paused" },
  { name: "cancel", label: "Cancel", can: (status) => ["queued", "running", "paused"].includes(status) },
];

export class JobControls {
  /** `onJob(job)` gets the Job the API answers with. */
  constructor(client, jobId, onJob) {
    this.client = client;
    this.jobId = jobId;
    this.onJob = onJob;
    this.busy = false;
    this.status = null;
    this.pending = null;
    this.message = h("p", { class: "controls-message", role: "status", "data-testid": "control-message" });
    this.buttons = {};
    for (const action of ACTIONS) {
      this.buttons[action.name] = h(
        "button",
        {
          type: "button",
          class: ["button", action.name === "cancel" ? "danger" : null],
          "data-testid": `${action.name}-button`,
          disabled: true,
          onclick: () => this.run(action.name),
        },
        action.label,
      );
    }
    this.el = h("div", { class: "controls" }, h("div", { class: "button-row" }, Object.values(this.buttons)), this.message);
  }

  update(status, pending) {
    this.status = status;
    this.pending = pending;
    for (const action of ACTIONS) {
      this.buttons[action.name].disabled = this.busy || !action.can(status, pending);
    }
  }

  async run(name) {
    if (name === "cancel" && !window.confirm("Cancel this job? It cannot be resumed afterwards.")) return;
    this.busy = true;
    this.update(this.status, this.pending);
    replace(this.message, `${name === "pause" ? "Pausing" : name === "resume" ? "Resuming" : "Cancelling"}…`);
    this.message.classList.remove("error");
    try {
      const api = this.client.optimizations;
      const job =
        name === "pause"
          ? await api.pause(this.jobId, "paused from the dashboard")
          : name === "resume"
            ? await api.resume(this.jobId)
            : await api.cancel(this.jobId, "cancelled from the dashboard");
      replace(this.message);
      this.busy = false;
      this.onJob(job);
    } catch (err) {
      this.busy = false;
      this.message.classList.add("error");
      replace(this.message, err.message || String(err));
      this.update(this.status, this.pending);
    }
  }
}
