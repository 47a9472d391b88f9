// bestResult(): kept from new_best and job_complete events, in storage across page loads.

import assert from "node:assert/strict";
import { test } from "node:test";

import { WhetstoneClient } from "../whetstone.js";
import { ev, harness, memoryStorage } from "./fakes.mjs";

const PROMPT_A = { template: "Answer: {question}" };
const PROMPT_B = { template: "Answer briefly and exactly: {question}" };

function newBest(id, score, candidateId, prompt) {
  return ev("j", id, "new_best", {
    candidateId,
    score,
    previousScore: 0,
    improvement: score,
    prompt,
  });
}

test("new_best events are kept, stored, and survive a new client (a page refresh)", () => {
  const storage = memoryStorage();
  const { client, sockets } = harness({ storage });
  assert.equal(client.bestResult("j"), null);
  let seenInCallback = null;
  client.subscribe("j", { onEvent: () => (seenInCallback = client.bestResult("j")) });
  const ws = sockets.last();
  ws.accept();
  ws.event(newBest(1, 0.4, "baseline", PROMPT_A));
  assert.deepEqual(seenInCallback, {
    jobId: "j",
    score: 0.4,
    prompt: PROMPT_A,
    candidateId: "baseline",
    eventId: 1,
  });
  ws.event(ev("j", 2, "iteration_complete", { bestScore: 0.4 }));
  ws.event(newBest(3, 0.7, "c-7", PROMPT_B));
  const expected = { jobId: "j", score: 0.7, prompt: PROMPT_B, candidateId: "c-7", eventId: 3 };
  assert.deepEqual(client.bestResult("j"), expected);
  assert.deepEqual(JSON.parse(storage.getItem("whetstone:best:j")), expected);

  const reloaded = new WhetstoneClient({ baseUrl: "http://127.0.0.1:8000", storage });
  assert.deepEqual(reloaded.bestResult("j"), expected);
});

test("replayed older events do not overwrite a newer stored best", () => {
  const stored = { jobId: "j", score: 0.7, prompt: PROMPT_B, candidateId: "c-7", eventId: 3 };
  const storage = memoryStorage({ "whetstone:best:j": JSON.stringify(stored) });
  const { client, sockets } = harness({ storage });
  assert.deepEqual(client.bestResult("j"), stored, "shown before any event arrives");
  client.subscribe("j", {});
  sockets.last().accept();
  sockets.last().replay("j", [newBest(1, 0.4, "baseline", PROMPT_A)]);
  assert.deepEqual(client.bestResult("j"), stored);
});

test("job_complete records the final score and best prompt", () => {
  const { client, sockets, storage } = harness();
  client.subscribe("j", {});
  const ws = sockets.last();
  ws.accept();
  ws.event(newBest(1, 0.5, "c-1", PROMPT_A));
  ws.event(
    ev("j", 2, "job_complete", {
      results: { jobId: "j", finalScore: 0.8, bestPrompt: PROMPT_B, status: "completed" },
    }),
  );
  const expected = { jobId: "j", score: 0.8, prompt: PROMPT_B, candidateId: "c-1", eventId: 2 };
  assert.deepEqual(client.bestResult("j"), expected);
  assert.deepEqual(JSON.parse(storage.getItem("whetstone:best:j")), expected);
});

test("works without storage, or with storage that throws", () => {
  const throwing = {
    getItem() {
      throw new Error("SecurityError");
    },
    setItem() {
      throw new Error("QuotaExceededError");
    },
    removeItem() {
      throw new Error("SecurityError");
    },
  };
  for (const storage of [null, throwing]) {
    const { client, sockets } = harness({ storage });
    client.subscribe("j", {});
    sockets.last().accept();
    sockets.last().event(newBest(1, 0.5, "c-1", PROMPT_A));
    assert.equal(client.bestResult("j").score, 0.5);
    client.clearBestResult("j");
    assert.equal(client.bestResult("j"), null);
  }
});

test("damaged stored values are ignored", () => {
  const storage = memoryStorage({ "whetstone:best:j": "{not json", "whetstone:best:k": '{"x":1}' });
  const client = new WhetstoneClient({ baseUrl: "http://127.0.0.1:8000", storage });
  assert.equal(client.bestResult("j"), null);
  assert.equal(client.bestResult("k"), null);
});

test("the returned object is a copy", () => {
  const { client, sockets } = harness();
  client.subscribe("j", {});
  sockets.last().accept();
  sockets.last().event(newBest(1, 0.5, "c-1", PROMPT_A));
  client.bestResult("j").score = 99;
  assert.equal(client.bestResult("j").score, 0.5);
});
