// Following jobs over one WebSocket: auth, delivery (in order, once), terminal events,
// unsubscribe, errors per subscription, callbacks that throw.

import assert from "node:assert/strict";
import { test } from "node:test";

import { TERMINAL_EVENTS, WhetstoneClient, WhetstoneError } from "../whetstone.js";
import { ev, evs, flush, harness, recorder } from "./fakes.mjs";

test("the socket opens lazily and authenticates with its first message", async () => {
  const { client, sockets, states } = harness();
  assert.equal(client.connectionState, "idle");
  assert.equal(sockets.sockets.length, 0);

  const rec = recorder();
  client.subscribe("job-1", rec.callbacks);
  assert.equal(client.connectionState, "connecting");
  const ws = sockets.last();
  assert.equal(ws.url, "ws://127.0.0.1:8000/ws/optimization");
  assert.ok(!ws.url.includes("wst_secret"), "the key never goes into the URL");

  ws.open();
  assert.deepEqual(ws.sent, [{ type: "auth", token: "wst_secret" }], "auth first, alone");

  ws.receive({ type: "authenticated" });
  assert.equal(client.connectionState, "connected");
  assert.deepEqual(ws.sent.slice(1), [{ type: "subscribe", jobId: "job-1", afterEventId: 0 }]);
  assert.deepEqual(
    states.map((s) => s.state),
    ["connecting", "connected"],
  );
});

test("one socket carries every subscription; later ones are sent at once", () => {
  const { client, sockets } = harness();
  client.subscribe("a", {});
  client.subscribe("b", { afterEventId: 7 });
  const ws = sockets.last();
  ws.accept();
  client.subscribe("c", { afterEventId: 2 });
  assert.equal(sockets.sockets.length, 1);
  assert.deepEqual(ws.sentOf("subscribe"), [
    { type: "subscribe", jobId: "a", afterEventId: 0 },
    { type: "subscribe", jobId: "b", afterEventId: 7 },
    { type: "subscribe", jobId: "c", afterEventId: 2 },
  ]);
});

test("events are delivered in order, once, as the wire objects", () => {
  const { client, sockets } = harness();
  const rec = recorder();
  const sub = client.subscribe("j", rec.callbacks);
  const ws = sockets.last();
  ws.accept();
  ws.receive({ type: "subscribed", jobId: "j", headEventId: 3 });
  const replayed = evs("j", 1, 3);
  ws.replay("j", replayed.slice(0, 2), true);
  ws.replay("j", replayed.slice(2), false);
  const live = ev("j", 4, "evaluation_complete", { score: 0.5, candidateId: "c1" });
  ws.event(live);
  assert.deepEqual(rec.ids(), [1, 2, 3, 4]);
  assert.deepEqual(rec.events()[3], live, "passed unchanged");
  assert.deepEqual(rec.events()[0], replayed[0]);
  assert.equal(sub.lastEventId, 4);
  assert.equal(sub.done, false);
});

test("duplicates are dropped", () => {
  const { client, sockets } = harness();
  const rec = recorder();
  client.subscribe("j", rec.callbacks);
  const ws = sockets.last();
  ws.accept();
  ws.event(ev("j", 1));
  ws.event(ev("j", 2));
  ws.event(ev("j", 2));
  ws.event(ev("j", 1));
  ws.replay("j", evs("j", 1, 3));
  ws.event(ev("j", 3));
  assert.deepEqual(rec.ids(), [1, 2, 3]);
});

test("a gap is filled with a replay before anything past it is delivered", () => {
  const { client, sockets } = harness();
  const rec = recorder();
  client.subscribe("j", rec.callbacks);
  const ws = sockets.last();
  ws.accept();
  ws.event(ev("j", 1));
  ws.event(ev("j", 2));
  ws.event(ev("j", 5));
  assert.deepEqual(rec.ids(), [1, 2], "5 is held back");
  assert.deepEqual(ws.sentOf("replay"), [{ type: "replay", jobId: "j", afterEventId: 2 }]);
  ws.event(ev("j", 6));
  assert.equal(ws.sentOf("replay").length, 1, "one replay at a time");
  ws.replay("j", evs("j", 3, 5), false);
  assert.deepEqual(rec.ids(), [1, 2, 3, 4, 5, 6]);
  ws.event(ev("j", 7));
  assert.deepEqual(rec.ids(), [1, 2, 3, 4, 5, 6, 7]);
});

test("a replay that does not close the gap is asked again, then the socket is replaced", () => {
  const { client, sockets, clock } = harness();
  const rec = recorder();
  client.subscribe("j", rec.callbacks);
  const ws = sockets.last();
  ws.accept();
  ws.event(ev("j", 1));
  ws.event(ev("j", 4));
  ws.replay("j", [], false);
  ws.replay("j", [], false);
  assert.equal(ws.sentOf("replay").length, 3);
  ws.replay("j", [], false);
  assert.ok(ws.closedByClient, "given up on this socket");
  assert.equal(client.connectionState, "reconnecting");
  clock.advance(500);
  const next = sockets.last();
  assert.notEqual(next, ws);
  next.accept();
  assert.deepEqual(next.sentOf("subscribe"), [{ type: "subscribe", jobId: "j", afterEventId: 1 }]);
  next.replay("j", evs("j", 2, 4));
  assert.deepEqual(rec.ids(), [1, 2, 3, 4]);
});

test("job_complete: onEvent then onComplete, once; the subscription ends", async () => {
  const { client, sockets, states } = harness();
  const rec = recorder();
  const sub = client.subscribe("j", rec.callbacks);
  const ws = sockets.last();
  ws.accept();
  const end = ev("j", 2, "job_complete", {
    results: { finalScore: 0.9, bestPrompt: { template: "x" } },
  });
  ws.replay("j", [ev("j", 1), end]);
  ws.event(end);
  ws.replay("j", [end]);
  assert.deepEqual(
    rec.log.map((x) => x.kind),
    ["event", "event", "complete"],
  );
  assert.deepEqual(rec.completes()[0], end);
  assert.equal(sub.done, true);
  assert.deepEqual(ws.sentOf("unsubscribe"), [{ type: "unsubscribe", jobId: "j" }]);
  await flush();
  assert.ok(ws.closedByClient, "no subscription left: the socket is closed");
  assert.equal(client.connectionState, "idle");
  assert.equal(states.at(-1).state, "idle");
});

test("job_cancelled completes too", () => {
  const { client, sockets } = harness();
  const rec = recorder();
  client.subscribe("j", rec.callbacks);
  sockets.last().accept();
  const end = ev("j", 1, "job_cancelled", { reason: "user" });
  sockets.last().event(end);
  assert.deepEqual(rec.completes(), [end]);
  assert.deepEqual(rec.errors(), []);
});

test("job_failed: onEvent then onError(job_failed), once", () => {
  const { client, sockets } = harness();
  const rec = recorder();
  const sub = client.subscribe("j", rec.callbacks);
  const ws = sockets.last();
  ws.accept();
  const end = ev("j", 1, "job_failed", {
    error: { code: "provider_error", message: "the model is down" },
    willRetry: false,
  });
  ws.event(end);
  ws.event(end);
  assert.deepEqual(
    rec.log.map((x) => x.kind),
    ["event", "error"],
  );
  const [err] = rec.errors();
  assert.ok(err instanceof WhetstoneError);
  assert.equal(err.code, "job_failed");
  assert.equal(err.message, "the model is down");
  assert.deepEqual(err.event, end);
  assert.deepEqual(err.details.error, { code: "provider_error", message: "the model is down" });
  assert.deepEqual(rec.completes(), []);
  assert.equal(sub.done, true);
  assert.deepEqual(TERMINAL_EVENTS, ["job_complete", "job_failed", "job_cancelled"]);
});

test("unsubscribe() sends unsubscribe and stops callbacks at once", async () => {
  const { client, sockets } = harness();
  const rec = recorder();
  const other = recorder();
  const sub = client.subscribe("j", rec.callbacks);
  client.subscribe("k", other.callbacks);
  const ws = sockets.last();
  ws.accept();
  ws.event(ev("j", 1));
  sub.unsubscribe();
  sub.unsubscribe();
  assert.equal(sub.done, true);
  assert.deepEqual(ws.sentOf("unsubscribe"), [{ type: "unsubscribe", jobId: "j" }]);
  ws.event(ev("j", 2));
  ws.event(ev("j", 3, "job_complete", { results: {} }));
  ws.event(ev("k", 1));
  assert.deepEqual(rec.ids(), [1]);
  assert.deepEqual(other.ids(), [1]);
  await flush();
  assert.equal(ws.closedByClient, null, "still needed by k");
  assert.equal(client.connectionState, "connected");
});

test("unsubscribing inside onEvent stops the rest of the batch", () => {
  const { client, sockets } = harness();
  const seen = [];
  const sub = client.subscribe("j", {
    onEvent: (e) => {
      seen.push(e.id);
      if (e.id === 2) sub.unsubscribe();
    },
  });
  sockets.last().accept();
  sockets.last().replay("j", evs("j", 1, 5));
  assert.deepEqual(seen, [1, 2]);
});

test("the last unsubscribe closes the socket, unless a subscribe follows at once", async () => {
  const { client, sockets } = harness();
  const first = client.subscribe("j", {});
  const ws = sockets.last();
  ws.accept();
  first.unsubscribe();
  client.subscribe("k", {});
  await flush();
  assert.equal(ws.closedByClient, null);
  assert.equal(sockets.sockets.length, 1);
  assert.deepEqual(ws.sentOf("subscribe").at(-1), {
    type: "subscribe",
    jobId: "k",
    afterEventId: 0,
  });
});

test("not_found ends that subscription only", () => {
  const { client, sockets } = harness();
  const gone = recorder();
  const fine = recorder();
  const sub = client.subscribe("missing", gone.callbacks);
  client.subscribe("j", fine.callbacks);
  const ws = sockets.last();
  ws.accept();
  ws.receive({
    type: "error",
    code: "not_found",
    error: "optimization 'missing' not found",
    jobId: "missing",
  });
  const [err] = gone.errors();
  assert.ok(err instanceof WhetstoneError);
  assert.equal(err.code, "not_found");
  assert.equal(err.message, "optimization 'missing' not found");
  assert.equal(sub.done, true);
  ws.event(ev("j", 1));
  ws.event(ev("missing", 1));
  assert.deepEqual(fine.ids(), [1]);
  assert.deepEqual(gone.ids(), []);
  assert.equal(gone.errors().length, 1);
  assert.equal(client.connectionState, "connected");
});

test("an internal error of one job resubscribes it after a delay", () => {
  const { client, sockets, clock } = harness({ random: () => 0.5 });
  const rec = recorder();
  client.subscribe("j", rec.callbacks);
  const ws = sockets.last();
  ws.accept();
  ws.event(ev("j", 1));
  ws.receive({
    type: "error",
    code: "internal",
    error: "streaming failed; resubscribe",
    jobId: "j",
  });
  assert.equal(ws.sentOf("subscribe").length, 1);
  clock.advance(249);
  assert.equal(ws.sentOf("subscribe").length, 1);
  clock.advance(1);
  assert.deepEqual(ws.sentOf("subscribe")[1], { type: "subscribe", jobId: "j", afterEventId: 1 });
  assert.deepEqual(rec.errors(), []);
});

test("an error frame about nothing we follow is only logged", () => {
  const { client, sockets, logger } = harness();
  client.subscribe("j", {});
  sockets.last().accept();
  sockets.last().receive({ type: "error", code: "invalid_json", error: "the frame is not JSON" });
  sockets.last().receive("not json at all");
  assert.equal(logger.warnings.length, 1);
  assert.equal(client.connectionState, "connected");
});

test("a callback that throws is reported once and does not stop delivery", () => {
  const { client, sockets, logger } = harness();
  const seen = [];
  client.subscribe("j", {
    onEvent: (e) => {
      seen.push(e.id);
      throw new Error("bug in the page");
    },
    onComplete: () => {
      throw new Error("another bug");
    },
  });
  const other = recorder();
  client.subscribe("k", other.callbacks);
  const ws = sockets.last();
  ws.accept();
  ws.replay("j", [...evs("j", 1, 3), ev("j", 4, "job_complete", { results: {} })]);
  ws.event(ev("k", 1));
  assert.deepEqual(seen, [1, 2, 3, 4]);
  assert.deepEqual(other.ids(), [1]);
  assert.equal(logger.errors.length, 1);
  assert.match(logger.errors[0][0], /threw/);
  assert.equal(logger.errors[0][1].message, "bug in the page");
});

test("an onConnectionChange callback that throws is reported once", () => {
  const { client, sockets, logger } = harness();
  const off = client.onConnectionChange(() => {
    throw new Error("listener bug");
  });
  client.subscribe("j", {});
  sockets.last().accept();
  assert.equal(client.connectionState, "connected");
  assert.equal(logger.errors.length, 1);
  off();
});

test("onConnectionChange returns an unsubscribe function", () => {
  const { client, sockets } = harness();
  const seen = [];
  const off = client.onConnectionChange((state) => seen.push(state));
  client.subscribe("j", {});
  off();
  sockets.last().accept();
  assert.deepEqual(seen, ["connecting"]);
});

test("a second subscription to a followed job replays what it lacks", () => {
  const { client, sockets } = harness();
  const first = recorder();
  const second = recorder();
  client.subscribe("j", { ...first.callbacks, afterEventId: 0 });
  const ws = sockets.last();
  ws.accept();
  ws.replay("j", evs("j", 1, 3));
  client.subscribe("j", { ...second.callbacks, afterEventId: 1 });
  assert.deepEqual(ws.sentOf("replay"), [{ type: "replay", jobId: "j", afterEventId: 1 }]);
  ws.event(ev("j", 4)); // may arrive before the replay: held
  ws.replay("j", evs("j", 2, 4));
  ws.event(ev("j", 5));
  assert.deepEqual(first.ids(), [1, 2, 3, 4, 5]);
  assert.deepEqual(second.ids(), [2, 3, 4, 5]);
  assert.equal(ws.sentOf("subscribe").length, 1);
});

test("close() ends everything without callbacks; state offline; subscribe reopens", () => {
  const { client, sockets } = harness();
  const rec = recorder();
  const sub = client.subscribe("j", rec.callbacks);
  const ws = sockets.last();
  ws.accept();
  client.close();
  assert.equal(client.connectionState, "offline");
  assert.equal(sub.done, true);
  assert.ok(ws.closedByClient);
  ws.event(ev("j", 1));
  assert.deepEqual(rec.log, []);
  client.subscribe("j", {});
  assert.equal(client.connectionState, "connecting");
  assert.equal(sockets.sockets.length, 2);
});

test("subscribe() checks its arguments and the runtime", () => {
  const { client } = harness();
  assert.throws(() => client.subscribe("", {}), TypeError);
  assert.throws(() => client.subscribe("j", { afterEventId: -1 }), TypeError);
  assert.throws(() => client.subscribe("j", { afterEventId: 1.5 }), TypeError);
  const bare = new WhetstoneClient({
    baseUrl: "http://127.0.0.1:1",
    WebSocket: null,
    storage: null,
  });
  assert.throws(() => bare.subscribe("j", {}), { code: "connection_error" });
});

test("replays that each fill part of a gap are not counted as fruitless", () => {
  const { client, sockets } = harness();
  const rec = recorder();
  client.subscribe("j", rec.callbacks);
  const ws = sockets.last();
  ws.accept();
  ws.event(ev("j", 1));
  ws.event(ev("j", 10)); // 2..9 missing
  for (let last = 1; last < 6; last++) ws.replay("j", [ev("j", last + 1)], false);
  assert.equal(ws.closedByClient, null, "progress every time: the socket is kept");
  assert.deepEqual(ws.sentOf("replay").at(-1), { type: "replay", jobId: "j", afterEventId: 6 });
  ws.replay("j", evs("j", 7, 10), false);
  assert.deepEqual(rec.ids(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});
