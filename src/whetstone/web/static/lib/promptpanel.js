// The job page's "best prompt" card: the current best against the original, as a line diff.

import { diffLines, renderDiff } from "./diff.js";
import { h, replace, setText } from "./dom.js";
import { promptText } from "./format.js";

export class PromptPanel {
  constructor() {
    this.original = undefined; // undefined: not loaded yet; null: could not be loaded
    this.bestText = null;
    this.candidateId = null;
    this.drawn = null;
    this.caption = h("p", { class: "muted small" }, "No candidate has beaten the original prompt yet.");
    this.body = h("div", { class: "prompt-body", "data-testid": "best-prompt" });
    this.el = h("section", { class: "card" }, h("h2", {}, "Best prompt"), this.caption, this.body);
  }

  setOriginal(prompt) {
    this.original = prompt ? promptText(prompt) : null;
    this.draw();
  }

  setBest(body, candidateId) {
    const text = promptText(body);
    if (!text || (text === this.bestText && candidateId === this.candidateId)) return;
    this.bestText = text;
    this.candidateId = candidateId;
    this.draw();
  }

  draw() {
    if (this.bestText === null) {
      if (this.original) replace(this.body, h("pre", { class: "prompt-text" }, this.original));
      return;
    }
    const key = `${this.original}\u0000${this.bestText}`;
    if (key === this.drawn) return;
    this.drawn = key;
    const who = this.candidateId ? ` (${this.candidateId})` : "";
    if (typeof this.original === "string") {
      setText(this.caption, `The best prompt so far${who}, line by line against the original: + added, − removed.`);
      replace(this.body, renderDiff(diffLines(this.original, this.bestText)));
    } else {
      setText(this.caption, `The best prompt so far${who}.`);
      replace(this.body, h("pre", { class: "prompt-text" }, this.bestText));
    }
  }
}
