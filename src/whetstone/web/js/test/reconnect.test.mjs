// Reconnection: drops, 4408, dead sockets, backoff with full jitter, 4401, online/offline.

import assert from "node:assert/strict";
import { test } from "node:test";

import { WhetstoneError } from "../whetstone.js";
import { ev, evs, fakeNetwork, fakeRandom, harness, recorder } from "./fakes.mjs";

test("a dropped connection resumes from the last delivered id: each event once, in order", () => {
  const { client, sockets, clock, states } = harness();
  const rec = recorder();
  const sub = client.subscribe("j", rec.callbacks);
  const other = recorder();
  client.subscribe("k", { ...other.callbacks, afterEventId: 10 });
  const first = sockets.last();
  first.accept();
  first.replay("j", evs("j", 1, 2));
  first.event(ev("j", 3));
  first.event(ev("k", 11));
  first.serverClose(1006);
  assert.equal(client.connectionState, "reconnecting");
  assert.equal(states.at(-1).error.code, "connection_error");

  clock.advance(500);
  const second = sockets.last();
  assert.notEqual(second, first);
  second.open();
  assert.deepEqual(second.sent, [{ type: "auth", token: "wst_secret" }]);
  second.receive({ type: "authenticated" });
  assert.deepEqual(second.sentOf("subscribe"), [
    { type: "subscribe", jobId: "j", afterEventId: 3 },
    { type: "subscribe", jobId: "k", afterEventId: 11 },
  ]);
  // The server replays after 3; a late duplicate and the live tail overlap.
  second.replay("j", evs("j", 2, 5));
  second.event(ev("j", 5));
  second.event(ev("j", 6));
  assert.deepEqual(rec.ids(), [1, 2, 3, 4, 5, 6]);
  assert.equal(sub.lastEventId, 6);
  assert.deepEqual(
    states.map((s) => s.state),
    ["connecting", "connected", "reconnecting", "connected"],
  );
  assert.deepEqual(rec.errors(), []);
});

test("4408 (too slow) reconnects and resubscribes from the last id", () => {
  const { client, sockets, clock, states } = harness({ random: () => 0.25 });
  const rec = recorder();
  client.subscribe("j", rec.callbacks);
  const first = sockets.last();
  first.accept();
  first.replay("j", evs("j", 1, 4));
  first.serverClose(4408, "too slow: resubscribe with afterEventId = your last id");
  assert.equal(client.connectionState, "reconnecting");
  const info = states.at(-1);
  assert.equal(info.attempt, 1);
  assert.equal(info.delayMs, 125);
  assert.equal(info.error.details.closeCode, 4408);
  clock.advance(125);
  const second = sockets.last();
  second.accept();
  assert.deepEqual(second.sentOf("subscribe"), [
    { type: "subscribe", jobId: "j", afterEventId: 4 },
  ]);
  second.replay("j", evs("j", 5, 6));
  assert.deepEqual(rec.ids(), [1, 2, 3, 4, 5, 6]);
});

test("backoff: full jitter under a cap that doubles to maxDelayMs", () => {
  const { client, sockets, clock, states } = harness({ random: () => 1 });
  client.subscribe("j", {});
  const caps = [];
  for (let i = 0; i < 8; i++) {
    sockets.last().serverClose(1006); // fails before opening
    caps.push(states.at(-1).delayMs);
    clock.advance(states.at(-1).delayMs);
  }
  assert.deepEqual(caps, [500, 1000, 2000, 4000, 8000, 16000, 20000, 20000]);
  assert.deepEqual(
    states.slice(1).map((s) => s.attempt),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.ok(states.slice(1).every((s) => s.state === "reconnecting"));
});

test("backoff: the delay is random() times the cap", () => {
  const { client, sockets, clock, states } = harness({ random: fakeRandom(0, 0.5, 0.1) });
  client.subscribe("j", {});
  const delays = [];
  for (let i = 0; i < 3; i++) {
    sockets.last().serverClose(1006);
    delays.push(states.at(-1).delayMs);
    clock.advance(states.at(-1).delayMs);
  }
  assert.deepEqual(delays, [0, 500, 200]);
  assert.equal(sockets.sockets.length, 4);
});

test("backoff: a connection that stayed up stableAfterMs resets the schedule", () => {
  const { client, sockets, clock, states } = harness({ random: () => 1 });
  client.subscribe("j", {});
  for (let i = 0; i < 3; i++) {
    sockets.last().serverClose(1006);
    clock.advance(states.at(-1).delayMs);
  }
  assert.equal(states.at(-1).delayMs, 2000);
  // Up, but not for long: no reset.
  sockets.last().accept();
  clock.advance(9999);
  sockets.last().serverClose(1006);
  assert.equal(states.at(-1).delayMs, 4000);
  clock.advance(4000);
  // Up for stableAfterMs: reset.
  sockets.last().accept();
  for (let t = 0; t < 10000; t += 5000) {
    clock.advance(5000);
    sockets.last().receive({ type: "heartbeat" });
  }
  sockets.last().serverClose(1006);
  assert.equal(states.at(-1).delayMs, 500);
  assert.equal(states.at(-1).attempt, 1);
});

test("custom reconnect settings are honoured", () => {
  const { client, sockets, clock, states } = harness({
    random: () => 1,
    reconnect: { initialDelayMs: 100, maxDelayMs: 300 },
  });
  client.subscribe("j", {});
  const delays = [];
  for (let i = 0; i < 4; i++) {
    sockets.last().serverClose(1006);
    delays.push(states.at(-1).delayMs);
    clock.advance(states.at(-1).delayMs);
  }
  assert.deepEqual(delays, [100, 200, 300, 300]);
});

test("a socket silent for deadAfterMs is closed and replaced", () => {
  const { client, sockets, clock } = harness();
  const rec = recorder();
  client.subscribe("j", rec.callbacks);
  const first = sockets.last();
  first.accept();
  first.event(ev("j", 1));
  clock.advance(34999);
  assert.equal(first.closedByClient, null);
  first.receive({ type: "heartbeat" }); // any frame proves it alive
  clock.advance(34999);
  assert.equal(first.closedByClient, null);
  assert.equal(client.connectionState, "connected");
  clock.advance(1);
  assert.ok(first.closedByClient, "dead: closed by the client");
  assert.equal(client.connectionState, "reconnecting");
  clock.advance(500);
  const second = sockets.last();
  assert.notEqual(second, first);
  second.accept();
  assert.deepEqual(second.sentOf("subscribe"), [
    { type: "subscribe", jobId: "j", afterEventId: 1 },
  ]);
  first.event(ev("j", 2)); // the old socket is ignored
  assert.deepEqual(rec.ids(), [1]);
});

test("a socket that never opens is given up after deadAfterMs", () => {
  const { client, sockets, clock } = harness({ deadAfterMs: 1000 });
  client.subscribe("j", {});
  const first = sockets.last();
  clock.advance(1000);
  assert.equal(client.connectionState, "reconnecting");
  assert.equal(first.closedByClient, null, "not closed while connecting (browsers warn)");
  first.open(); // late: closed at once, without a word sent
  assert.ok(first.closedByClient);
  assert.deepEqual(first.sent, []);
  clock.advance(500);
  assert.equal(sockets.sockets.length, 2);
});

test("4401 is fatal: every subscription errors, state offline, no retry", () => {
  const { client, sockets, clock, states } = harness();
  const a = recorder();
  const b = recorder();
  const subA = client.subscribe("a", a.callbacks);
  client.subscribe("b", b.callbacks);
  const ws = sockets.last();
  ws.open();
  ws.receive({ type: "error", code: "unauthorized", error: "invalid API key" });
  ws.serverClose(4401, "unauthorized");
  for (const rec of [a, b]) {
    assert.equal(rec.errors().length, 1);
    const [err] = rec.errors();
    assert.ok(err instanceof WhetstoneError);
    assert.equal(err.code, "unauthorized");
    assert.equal(err.message, "invalid API key");
  }
  assert.equal(subA.done, true);
  assert.equal(client.connectionState, "offline");
  assert.equal(states.at(-1).error.code, "unauthorized");
  clock.advance(10 * 60 * 1000);
  assert.equal(sockets.sockets.length, 1, "never retried");
  assert.equal(clock.pending().length, 0);
});

test("a bare 4401 close is fatal too", () => {
  const { client, sockets, clock } = harness();
  const rec = recorder();
  client.subscribe("j", rec.callbacks);
  sockets.last().open();
  sockets.last().serverClose(4401, "unauthorized");
  assert.equal(rec.errors()[0].code, "unauthorized");
  assert.equal(client.connectionState, "offline");
  clock.advance(60000);
  assert.equal(sockets.sockets.length, 1);
});

test("after a fatal error a new subscribe() tries again", () => {
  const { client, sockets } = harness();
  client.subscribe("j", {});
  sockets.last().serverClose(4401);
  client.subscribe("j", {});
  assert.equal(client.connectionState, "connecting");
  assert.equal(sockets.sockets.length, 2);
});

test("no subscription left while reconnecting: stop retrying, idle", async () => {
  const { client, sockets, clock } = harness();
  const sub = client.subscribe("j", {});
  sockets.last().serverClose(1006);
  assert.equal(client.connectionState, "reconnecting");
  sub.unsubscribe();
  await Promise.resolve();
  assert.equal(client.connectionState, "idle");
  clock.advance(60000);
  assert.equal(sockets.sockets.length, 1);
});

test("browser offline: state offline, no retries; online: reconnect at once", () => {
  const network = fakeNetwork();
  const { client, sockets, clock, states } = harness({ network });
  const rec = recorder();
  client.subscribe("j", rec.callbacks);
  const first = sockets.last();
  first.accept();
  first.event(ev("j", 1));
  network.go("offline");
  assert.equal(client.connectionState, "offline");
  assert.ok(first.closedByClient);
  clock.advance(60000);
  assert.equal(sockets.sockets.length, 1, "no attempts while offline");
  network.go("online");
  assert.equal(client.connectionState, "reconnecting");
  const second = sockets.last();
  assert.notEqual(second, first);
  second.accept();
  assert.equal(client.connectionState, "connected");
  assert.deepEqual(second.sentOf("subscribe"), [
    { type: "subscribe", jobId: "j", afterEventId: 1 },
  ]);
  assert.deepEqual(rec.errors(), [], "offline is not an error of the subscription");
  assert.deepEqual(
    states.map((s) => s.state),
    ["connecting", "connected", "offline", "reconnecting", "connected"],
  );
});

test("a connection lost while the browser is offline waits for online", () => {
  const network = fakeNetwork();
  const { client, sockets, clock } = harness({ network });
  client.subscribe("j", {});
  network.go("offline");
  assert.equal(client.connectionState, "offline");
  assert.equal(sockets.sockets.length, 1);
  sockets.last().serverClose(1006); // ignored: already dropped
  clock.advance(60000);
  assert.equal(sockets.sockets.length, 1);
  network.go("online");
  assert.equal(sockets.sockets.length, 2);
});

test("a WebSocket constructor that throws counts as a failed attempt", () => {
  let calls = 0;
  class Broken {
    constructor() {
      calls += 1;
      throw new Error("blocked");
    }
  }
  const { client, clock, states } = harness({ WebSocket: Broken, random: () => 1 });
  client.subscribe("j", {});
  assert.equal(client.connectionState, "reconnecting");
  assert.match(states.at(-1).error.message, /blocked/);
  clock.advance(500);
  assert.equal(calls, 2);
});

test("an onError callback may subscribe again after a fatal error", () => {
  const { client, sockets } = harness();
  let again = null;
  client.subscribe("j", {
    onError: () => {
      again = client.subscribe("j", {});
    },
  });
  sockets.last().serverClose(4401);
  assert.ok(again);
  assert.equal(client.connectionState, "connecting");
  assert.equal(sockets.sockets.length, 2);
});
