// A small hand-written SVG chart of a job's scores: the best-so-far line (a step line over
// iterations, from the baseline at 0) and one dot per candidate at its iteration (filled:
// full evaluation; hollow: minibatch only, it did not pass the gate).

import { clear, h, svg } from "./dom.js";

const W = 640;
const H = 240;
const PAD = { left: 40, right: 24, top: 12, bottom: 30 };
const Y_TICKS = [0, 0.25, 0.5, 0.75, 1];

function xTicks(max) {
  const step = Math.max(1, Math.ceil(max / 10));
  const ticks = [];
  for (let i = 0; i <= max; i += step) ticks.push(i);
  if (ticks[ticks.length - 1] !== max) ticks.push(max);
  return ticks;
}

/** Spread the dots of one iteration sideways so they do not hide each other. */
function spread(candidates) {
  const byIteration = new Map();
  for (const c of candidates) {
    if (!byIteration.has(c.iteration)) byIteration.set(c.iteration, []);
    byIteration.get(c.iteration).push(c);
  }
  const placed = [];
  for (const group of byIteration.values()) {
    const width = Math.min(0.4, 0.12 * (group.length - 1));
    group.forEach((c, i) => {
      const offset = group.length > 1 ? -width / 2 + (width * i) / (group.length - 1) : 0;
      placed.push({ ...c, x: c.iteration + offset });
    });
  }
  return placed;
}

export class ScoreChart {
  constructor() {
    this.svgEl = svg("svg", {
      viewBox: `0 0 ${W} ${H}`,
      class: "chart-svg",
      role: "img",
      "aria-label": "Scores by iteration",
    });
    this.empty = h("p", { class: "chart-empty muted" }, "Waiting for the first score…");
    this.el = h(
      "figure",
      { class: "chart", "data-testid": "score-chart", dataset: { points: 0 } },
      this.svgEl,
      this.empty,
      h(
        "figcaption",
        { class: "chart-legend" },
        h("span", { class: "legend-line" }, "best so far"),
        h("span", { class: "legend-dot" }, "candidate (full evaluation)"),
        h("span", { class: "legend-dot hollow" }, "minibatch only"),
      ),
    );
  }

  /** Redraw from a job state (lib/jobstate.js). */
  update(state) {
    const candidates = [...state.candidates.values()];
    const lastIteration = Math.max(0, state.iteration, ...candidates.map((c) => c.iteration));
    const maxX = Math.max(1, state.maxIterations || 0, lastIteration);
    const x = (v) => PAD.left + (v / maxX) * (W - PAD.left - PAD.right);
    const y = (v) => PAD.top + (1 - Math.max(0, Math.min(1, v))) * (H - PAD.top - PAD.bottom);
    const root = clear(this.svgEl);
    root.append(this.axes(x, y, maxX), this.bestPath(state.bestLine, x, y, state.status, lastIteration));
    const dots = svg("g", { class: "dots" });
    for (const c of spread(candidates)) {
      dots.append(
        svg(
          "circle",
          {
            cx: x(c.x).toFixed(1),
            cy: y(c.score).toFixed(1),
            r: c.phase === "minibatch" ? 3.5 : 4.5,
            class: ["dot", `dot-${c.phase}`],
            "data-testid": "chart-dot",
            dataset: { candidate: c.candidateId, iteration: c.iteration, score: c.score },
          },
          svg("title", {}, `${c.candidateId} (iteration ${c.iteration}, ${c.phase}): ${c.score.toFixed(3)}`),
        ),
      );
    }
    root.append(dots);
    this.el.dataset.points = String(candidates.length);
    this.el.dataset.best = state.bestScore === null ? "" : String(state.bestScore);
    this.empty.hidden = candidates.length > 0;
  }

  axes(x, y, maxX) {
    const g = svg("g", { class: "axes" });
    for (const t of Y_TICKS) {
      g.append(
        svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(t), y2: y(t), class: "grid" }),
        svg("text", { x: PAD.left - 6, y: y(t) + 4, class: "tick tick-y" }, t.toFixed(2)),
      );
    }
    for (const t of xTicks(maxX)) {
      g.append(svg("text", { x: x(t), y: H - PAD.bottom + 16, class: "tick tick-x" }, String(t)));
    }
    g.append(svg("text", { x: W - PAD.right, y: H - 2, class: "axis-label" }, "iteration"));
    return g;
  }

  bestPath(line, x, y, status, lastIteration) {
    if (!line.length) return svg("g", {});
    let d = `M${x(line[0].iteration).toFixed(1)},${y(line[0].score).toFixed(1)}`;
    for (let i = 1; i < line.length; i++) {
      d += ` H${x(line[i].iteration).toFixed(1)} V${y(line[i].score).toFixed(1)}`;
    }
    // While running, carry the best on to the iteration in progress.
    const end = line[line.length - 1];
    if (lastIteration > end.iteration && status !== "completed") d += ` H${x(lastIteration).toFixed(1)}`;
    return svg("path", { d, class: "best-line", "data-testid": "best-line" });
  }
}
