// The job page's event log: newest first, at most LOG_CAP rows in the DOM (older rows are
// dropped; the page says so), appended in batches (the caller flushes once per frame).

import { h, setText } from "./dom.js";
import { time } from "./format.js";
import { summarize } from "./jobstate.js";

export const LOG_CAP = 500;

function row(event) {
  return h(
    "tr",
    { class: ["event-row", `ev-${event.eventType}`], "data-testid": "event-row", dataset: { eventId: event.id } },
    h("td", { class: "num" }, String(event.id)),
    h("td", { class: "muted nowrap" }, time(event.timestamp)),
    h("td", { class: "num" }, String(event.iteration ?? "")),
    h("td", {}, h("span", { class: "event-type" }, event.eventType)),
    h("td", { class: "summary" }, summarize(event)),
  );
}

export class EventLog {
  constructor(cap = LOG_CAP) {
    this.cap = cap;
    this.total = 0;
    this.note = h("p", { class: "muted small", "data-testid": "event-log-note" });
    this.body = h("tbody", {});
    this.el = h(
      "div",
      { class: "event-log", "data-testid": "event-log" },
      h(
        "table",
        { class: "table log-table" },
        h(
          "thead",
          {},
          h("tr", {}, h("th", { class: "num" }, "#"), h("th", {}, "time"), h("th", { class: "num" }, "iter"), h("th", {}, "event"), h("th", {}, "")),
        ),
        this.body,
      ),
    );
    this.updateNote();
  }

  /** Add a batch of events (in id order); keeps only the newest `cap` rows. */
  append(events) {
    if (!events.length) return;
    this.total += events.length;
    const fresh = events.slice(-this.cap);
    const fragment = document.createDocumentFragment();
    for (let i = fresh.length - 1; i >= 0; i--) fragment.append(row(fresh[i]));
    this.body.prepend(fragment);
    while (this.body.childElementCount > this.cap) this.body.lastElementChild.remove();
    this.updateNote();
  }

  updateNote() {
    const shown = this.body.childElementCount;
    const text =
      this.total > shown
        ? `Newest first. Showing the last ${shown} of ${this.total} events (the log keeps ${this.cap} rows; GET /api/optimizations/{id}/events has them all).`
        : `Newest first. ${this.total} event${this.total === 1 ? "" : "s"}; the log keeps the last ${this.cap}.`;
    setText(this.note, text);
  }
}
