// Line diff for prompt versions (Myers' O(ND) algorithm) and a unified-style renderer.
//
// diffLines(a, b) -> [{op: " " | "+" | "-", text}]
//   a, b: strings (split on \n) or arrays of lines.
//   Common prefix and suffix are trimmed first, so small edits to long prompts are cheap.
//   Work is bounded: when the edit distance would exceed MAX_EDITS, or the inputs exceed
//   MAX_LINES lines, the changed middle is reported as one block replace (all "-" then all "+").
//
// renderDiff(ops, opts?) -> HTMLElement (<pre data-testid="diff">) with one line per op.
//   opts.context: when a number, unchanged runs longer than 2*context lines are collapsed
//   into a "… n unchanged lines" marker (default: show everything).
//   Classes: pre.diff (+ .diff-same when nothing changed), div.diff-line with .diff-add,
//   .diff-del, .diff-ctx or .diff-gap. Their styles are in /static/pages.css, which
//   renderDiff adds to the document once if no stylesheet link for it is there yet.

export const MAX_LINES = 20000;
export const MAX_EDITS = 2000;

function toLines(x) {
  if (Array.isArray(x)) return x.map(String);
  if (x === null || x === undefined) return [];
  const s = String(x);
  return s === "" ? [] : s.split(/\r?\n/);
}

export function diffLines(a, b) {
  const A = toLines(a);
  const B = toLines(b);
  let start = 0;
  while (start < A.length && start < B.length && A[start] === B[start]) start++;
  let endA = A.length;
  let endB = B.length;
  while (endA > start && endB > start && A[endA - 1] === B[endB - 1]) {
    endA--;
    endB--;
  }
  const ops = [];
  for (let i = 0; i < start; i++) ops.push({ op: " ", text: A[i] });
  const midA = A.slice(start, endA);
  const midB = B.slice(start, endB);
  const mid =
    midA.length + midB.length > MAX_LINES ? null : myers(midA, midB, MAX_EDITS);
  if (mid === null) {
    for (const text of midA) ops.push({ op: "-", text });
    for (const text of midB) ops.push({ op: "+", text });
  } else {
    for (const o of mid) ops.push(o);
  }
  for (let i = endA; i < A.length; i++) ops.push({ op: " ", text: A[i] });
  return ops;
}

// Myers' greedy algorithm with a saved V per step for backtracking.
// Returns null when more than maxD edits would be needed.
function myers(A, B, maxD) {
  const n = A.length;
  const m = B.length;
  if (n === 0) return B.map((text) => ({ op: "+", text }));
  if (m === 0) return A.map((text) => ({ op: "-", text }));
  const limit = Math.min(n + m, maxD);
  const offset = limit + 1;
  const v = new Int32Array(2 * limit + 3);
  const trace = [];
  for (let d = 0; d <= limit; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x;
      if (k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1])) {
        x = v[offset + k + 1];
      } else {
        x = v[offset + k - 1] + 1;
      }
      let y = x - k;
      while (x < n && y < m && A[x] === B[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, A, B, d);
    }
  }
  return null;
}

function backtrack(trace, A, B, dEnd) {
  const out = [];
  let x = A.length;
  let y = B.length;
  for (let d = dEnd; d > 0; d--) {
    const saved = trace[d]; // V before step d, indexed by k + d + 1
    const at = (k) => saved[k + d + 1];
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      out.push({ op: " ", text: A[x - 1] });
      x--;
      y--;
    }
    if (x === prevX) {
      out.push({ op: "+", text: B[y - 1] });
      y--;
    } else {
      out.push({ op: "-", text: A[x - 1] });
      x--;
    }
  }
  while (x > 0 && y > 0) {
    out.push({ op: " ", text: A[x - 1] });
    x--;
    y--;
  }
  return out.reverse();
}

const CLASS = { " ": "diff-ctx", "+": "diff-add", "-": "diff-del" };

const STYLESHEET = "/static/pages.css";

function ensureStylesheet(doc) {
  if (!doc.head || typeof doc.querySelector !== "function") return;
  if (doc.querySelector(`link[href="${STYLESHEET}"]`)) return;
  const link = doc.createElement("link");
  link.rel = "stylesheet";
  link.href = STYLESHEET;
  doc.head.appendChild(link);
}

export function renderDiff(ops, opts = {}) {
  const doc = globalThis.document;
  ensureStylesheet(doc);
  const pre = doc.createElement("pre");
  pre.className = "diff";
  pre.dataset.testid = "diff";
  const added = ops.filter((o) => o.op === "+").length;
  const removed = ops.filter((o) => o.op === "-").length;
  pre.dataset.added = String(added);
  pre.dataset.removed = String(removed);
  if (added === 0 && removed === 0) {
    pre.classList.add("diff-same");
  }
  const context = typeof opts.context === "number" ? opts.context : Infinity;
  const line = (op, text) => {
    const div = doc.createElement("div");
    div.className = `diff-line ${CLASS[op]}`;
    div.textContent = `${op}${text === "" ? "" : " "}${text}`;
    pre.appendChild(div);
  };
  let i = 0;
  while (i < ops.length) {
    if (ops[i].op !== " ") {
      line(ops[i].op, ops[i].text);
      i++;
      continue;
    }
    let j = i;
    while (j < ops.length && ops[j].op === " ") j++;
    const run = j - i;
    const head = i === 0 ? 0 : context;
    const tail = j === ops.length ? 0 : context;
    if (run > head + tail + 1) {
      for (let t = i; t < i + head; t++) line(" ", ops[t].text);
      const gap = doc.createElement("div");
      gap.className = "diff-line diff-gap";
      gap.textContent = `… ${run - head - tail} unchanged lines`;
      pre.appendChild(gap);
      for (let t = j - tail; t < j; t++) line(" ", ops[t].text);
    } else {
      for (let t = i; t < j; t++) line(" ", ops[t].text);
    }
    i = j;
  }
  return pre;
}
