// Unit tests for ../diff.js: run with `node --test` (no dependencies, no DOM library).
import assert from "node:assert/strict";
import { test } from "node:test";

import { MAX_EDITS, diffLines, renderDiff } from "../diff.js";

const side = (ops, keep) => ops.filter((o) => o.op === " " || o.op === keep).map((o) => o.text);
const edits = (ops) => ops.filter((o) => o.op !== " ").length;

function lcsLength(a, b) {
  const dp = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
    }
  }
  return dp[0][0];
}

// Small deterministic PRNG (mulberry32) so the randomized test is reproducible.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("identical inputs give only context lines", () => {
  const ops = diffLines("a\nb\nc", "a\nb\nc");
  assert.deepEqual(ops, [
    { op: " ", text: "a" },
    { op: " ", text: "b" },
    { op: " ", text: "c" },
  ]);
});

test("empty inputs", () => {
  assert.deepEqual(diffLines("", ""), []);
  assert.deepEqual(diffLines("", "x\ny"), [
    { op: "+", text: "x" },
    { op: "+", text: "y" },
  ]);
  assert.deepEqual(diffLines("x", ""), [{ op: "-", text: "x" }]);
  assert.deepEqual(diffLines(null, undefined), []);
});

test("a changed line in the middle is a delete then an add", () => {
  const ops = diffLines("Answer: {q}\nBe brief.\nThanks", "Answer: {q}\nBe very brief.\nThanks");
  assert.deepEqual(ops, [
    { op: " ", text: "Answer: {q}" },
    { op: "-", text: "Be brief." },
    { op: "+", text: "Be very brief." },
    { op: " ", text: "Thanks" },
  ]);
});

test("insertions and deletions are minimal", () => {
  const a = ["x", "a", "b", "c", "y", "z"];
  const b = ["a", "b", "q", "c", "z", "w"];
  const ops = diffLines(a, b);
  assert.deepEqual(side(ops, "-"), a);
  assert.deepEqual(side(ops, "+"), b);
  assert.equal(edits(ops), a.length + b.length - 2 * lcsLength(a, b));
});

test("CRLF and LF split the same way", () => {
  assert.deepEqual(diffLines("a\r\nb", "a\nb"), [
    { op: " ", text: "a" },
    { op: " ", text: "b" },
  ]);
});

test("randomized: both sides reconstruct and the edit count is minimal", () => {
  const rand = rng(12345);
  for (let round = 0; round < 400; round++) {
    const alphabet = 1 + Math.floor(rand() * 5);
    const gen = () => {
      const len = Math.floor(rand() * 14);
      return Array.from({ length: len }, () => String.fromCharCode(97 + Math.floor(rand() * alphabet)));
    };
    const a = gen();
    const b = gen();
    const ops = diffLines(a, b);
    assert.deepEqual(side(ops, "-"), a, `round ${round}`);
    assert.deepEqual(side(ops, "+"), b, `round ${round}`);
    assert.equal(edits(ops), a.length + b.length - 2 * lcsLength(a, b), `round ${round}`);
  }
});

test("a few thousand lines with scattered edits is fast and exact", () => {
  const a = Array.from({ length: 5000 }, (_, i) => `line ${i}`);
  const b = a.slice();
  for (let i = 100; i < 5000; i += 500) b[i] = `changed ${i}`;
  b.splice(2500, 0, "inserted");
  const t0 = performance.now();
  const ops = diffLines(a, b);
  const ms = performance.now() - t0;
  assert.deepEqual(side(ops, "-"), a);
  assert.deepEqual(side(ops, "+"), b);
  assert.equal(edits(ops), 10 * 2 + 1);
  assert.ok(ms < 2000, `took ${ms} ms`);
});

test("huge, completely different inputs fall back to a block replace in bounded time", () => {
  const a = Array.from({ length: 30000 }, (_, i) => `a${i}`);
  const b = Array.from({ length: 30000 }, (_, i) => `b${i}`);
  const t0 = performance.now();
  const ops = diffLines(["same", ...a, "end"], ["same", ...b, "end"]);
  const ms = performance.now() - t0;
  assert.deepEqual(ops[0], { op: " ", text: "same" });
  assert.deepEqual(ops.at(-1), { op: " ", text: "end" });
  assert.deepEqual(ops.slice(1, 30001).map((o) => o.op), new Array(30000).fill("-"));
  assert.deepEqual(ops.slice(30001, 60001).map((o) => o.op), new Array(30000).fill("+"));
  assert.ok(ms < 3000, `took ${ms} ms`);
});

test("more edits than MAX_EDITS fall back to a block replace that still reconstructs", () => {
  const n = MAX_EDITS + 10;
  const a = Array.from({ length: n }, (_, i) => (i % 2 ? `odd${i}` : "x"));
  const b = Array.from({ length: n }, (_, i) => (i % 2 ? `new${i}` : "x"));
  const ops = diffLines(a, b);
  assert.deepEqual(side(ops, "-"), a);
  assert.deepEqual(side(ops, "+"), b);
});

// A tiny stand-in for the DOM: enough of document/element for renderDiff.
class FakeElement {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.children = [];
    this.dataset = {};
    this.className = "";
    this.textContent = "";
    const self = this;
    this.classList = {
      add(c) {
        self.className = self.className ? `${self.className} ${c}` : c;
      },
    };
  }
  appendChild(child) {
    this.children.push(child);
    return child;
  }
}

function withFakeDocument(fn) {
  const saved = globalThis.document;
  globalThis.document = { createElement: (tag) => new FakeElement(tag) };
  try {
    return fn();
  } finally {
    if (saved === undefined) delete globalThis.document;
    else globalThis.document = saved;
  }
}

test("renderDiff makes one coloured line per op with a test id", () => {
  const el = withFakeDocument(() => renderDiff(diffLines("a\nb\nc", "a\nB\nc")));
  assert.equal(el.tagName, "PRE");
  assert.equal(el.dataset.testid, "diff");
  assert.equal(el.dataset.added, "1");
  assert.equal(el.dataset.removed, "1");
  assert.deepEqual(
    el.children.map((c) => [c.className, c.textContent]),
    [
      ["diff-line diff-ctx", "  a"],
      ["diff-line diff-del", "- b"],
      ["diff-line diff-add", "+ B"],
      ["diff-line diff-ctx", "  c"],
    ],
  );
});

test("renderDiff marks identical versions and can collapse long unchanged runs", () => {
  const same = withFakeDocument(() => renderDiff(diffLines("a", "a")));
  assert.match(same.className, /diff-same/);
  const a = Array.from({ length: 20 }, (_, i) => `l${i}`);
  const b = a.slice();
  b[10] = "changed";
  const el = withFakeDocument(() => renderDiff(diffLines(a, b), { context: 2 }));
  const texts = el.children.map((c) => c.textContent);
  assert.deepEqual(texts, [
    "… 8 unchanged lines",
    "  l8",
    "  l9",
    "- l10",
    "+ changed",
    "  l11",
    "  l12",
    "… 7 unchanged lines",
  ]);
});
