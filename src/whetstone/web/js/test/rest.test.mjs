import assert from "node:assert/strict";
import { test } from "node:test";

import { WhetstoneClient, WhetstoneError } from "../whetstone.js";
import { fakeFetch, fakeTimers } from "./fakes.mjs";

function client(handler, options = {}) {
  const { fetch, calls } = fakeFetch(handler);
  const c = new WhetstoneClient({
    baseUrl: "http://127.0.0.1:8000/",
    apiKey: "wst_secret",
    fetch,
    WebSocket: undefined,
    storage: null,
    timers: fakeTimers().timers,
    ...options,
  });
  return { c, calls };
}

test("REST calls send the key as a Bearer header and return data", async () => {
  const { c, calls } = client(() => ({ status: 200, body: { data: { id: "p1" }, meta: {} } }));
  const prompt = await c.prompts.get("p 1/x");
  assert.deepEqual(prompt, { id: "p1" });
  assert.equal(calls[0].url, "http://127.0.0.1:8000/api/prompts/p%201%2Fx");
  assert.equal(calls[0].method, "GET");
  assert.equal(calls[0].headers.Authorization, "Bearer wst_secret");
  assert.equal(calls[0].body, undefined);
  assert.ok(!calls[0].url.includes("wst_secret"));
});

test("request() returns data and meta; bodies are JSON; empty query values are left out", async () => {
  const { c, calls } = client(() => ({
    status: 201,
    body: { data: { id: "j1", status: "queued" }, meta: { x: 1 } },
  }));
  const result = await c.request("POST", "/api/optimizations", { a: 1 }, { b: undefined, c: 2 });
  assert.deepEqual(result, { data: { id: "j1", status: "queued" }, meta: { x: 1 } });
  assert.equal(calls[0].url, "http://127.0.0.1:8000/api/optimizations?c=2");
  assert.equal(calls[0].headers["Content-Type"], "application/json");
  assert.equal(calls[0].body, '{"a":1}');
});

test("list calls return a page", async () => {
  const { c, calls } = client(() => ({
    body: {
      data: [{ id: "j2" }, { id: "j1" }],
      meta: { total: 7, limit: 2, offset: 4, hasMore: true },
    },
  }));
  const page = await c.optimizations.list({ status: "running", limit: 2, offset: 4 });
  assert.deepEqual(page, {
    items: [{ id: "j2" }, { id: "j1" }],
    total: 7,
    limit: 2,
    offset: 4,
    hasMore: true,
  });
  assert.equal(
    calls[0].url,
    "http://127.0.0.1:8000/api/optimizations?status=running&limit=2&offset=4",
  );
});

test("every resource method hits its endpoint", async () => {
  const { c, calls } = client((url) => ({
    status: 200,
    body: url.endsWith("/events?afterEventId=3&limit=2")
      ? { data: [{ id: 4 }], meta: { headEventId: 9, hasMore: true } }
      : { data: [], meta: { total: 0, limit: 0, offset: 0, hasMore: false } },
  }));
  await c.prompts.list({ name: "qa" });
  await c.prompts.versions("p1");
  await c.prompts.create({ name: "qa", template: "{q}" });
  await c.prompts.createVersion("p1", { template: "{q}!" });
  await c.datasets.list();
  await c.datasets.get("d1");
  await c.datasets.items("d1", { limit: 5 });
  await c.datasets.create({ name: "d" });
  await c.datasets.addItems("d1", [{ input: { q: "1" } }]);
  await c.optimizations.get("j1");
  await c.optimizations.start({ promptId: "p1", datasetId: "d1", config: { dryRun: true } });
  await c.optimizations.pause("j1", "lunch");
  await c.optimizations.resume("j1");
  await c.optimizations.cancel("j1");
  await c.optimizations.results("j1");
  const page = await c.optimizations.events("j1", { afterEventId: 3, limit: 2 });
  await c.health();
  assert.deepEqual(page, { items: [{ id: 4 }], headEventId: 9, hasMore: true });
  const seen = calls.map((x) => `${x.method} ${x.url.slice("http://127.0.0.1:8000".length)}`);
  assert.deepEqual(seen, [
    "GET /api/prompts?name=qa",
    "GET /api/prompts/p1/versions",
    "POST /api/prompts",
    "POST /api/prompts/p1/versions",
    "GET /api/datasets",
    "GET /api/datasets/d1",
    "GET /api/datasets/d1/items?limit=5",
    "POST /api/datasets",
    "POST /api/datasets/d1/items",
    "GET /api/optimizations/j1",
    "POST /api/optimizations",
    "POST /api/optimizations/j1/pause",
    "POST /api/optimizations/j1/resume",
    "POST /api/optimizations/j1/cancel",
    "GET /api/optimizations/j1/results",
    "GET /api/optimizations/j1/events?afterEventId=3&limit=2",
    "GET /api/health",
  ]);
  assert.equal(calls[8].body, '{"items":[{"input":{"q":"1"}}]}');
  assert.equal(calls[10].body, '{"promptId":"p1","datasetId":"d1","config":{"dryRun":true}}');
  assert.equal(calls[11].body, '{"reason":"lunch"}');
  assert.equal(calls[13].body, "{}");
});

test("a server error becomes a WhetstoneError with its code, message, details and status", async () => {
  const { c } = client(() => ({
    status: 409,
    body: {
      error: {
        code: "invalid_transition",
        message: "only a running job can be paused",
        details: { status: "paused" },
      },
    },
  }));
  await assert.rejects(c.optimizations.pause("j1"), (err) => {
    assert.ok(err instanceof WhetstoneError);
    assert.ok(err instanceof Error);
    assert.equal(err.code, "invalid_transition");
    assert.equal(err.status, 409);
    assert.equal(err.message, "only a running job can be paused");
    assert.deepEqual(err.details, { status: "paused" });
    return true;
  });
});

test("400 details name the fields; 404 and 401 keep their codes", async () => {
  const answers = [
    {
      status: 400,
      body: {
        error: {
          code: "invalid_request",
          message: "bad",
          details: { fields: ["config.maxIterations"] },
        },
      },
    },
    { status: 404, body: { error: { code: "not_found", message: "optimization j9 not found" } } },
    { status: 401, body: { error: { code: "unauthorized", message: "invalid API key" } } },
  ];
  const { c } = client(() => answers.shift());
  await assert.rejects(c.optimizations.start({ promptId: "p", datasetId: "d" }), {
    code: "invalid_request",
    status: 400,
    details: { fields: ["config.maxIterations"] },
  });
  await assert.rejects(c.optimizations.get("j9"), { code: "not_found", status: 404, details: {} });
  await assert.rejects(c.health(), { code: "unauthorized", status: 401 });
});

test("an error without a Whetstone body maps by status", async () => {
  const answers = [
    { status: 502, body: "<html>Bad Gateway</html>", headers: { "content-type": "text/html" } },
    { status: 404, body: "" },
    { status: 429, body: "slow down" },
  ];
  const { c } = client(() => answers.shift());
  await assert.rejects(c.health(), (err) => {
    assert.equal(err.code, "internal");
    assert.equal(err.status, 502);
    assert.match(err.message, /HTTP 502/);
    assert.equal(err.details.status, 502);
    return true;
  });
  await assert.rejects(c.health(), { code: "not_found", status: 404 });
  await assert.rejects(c.health(), { code: "rate_limited", status: 429 });
});

test("a network failure is a connection_error naming the server", async () => {
  const { c } = client(() => {
    throw new TypeError("fetch failed");
  });
  await assert.rejects(c.prompts.list(), (err) => {
    assert.ok(err instanceof WhetstoneError);
    assert.equal(err.code, "connection_error");
    assert.equal(err.status, 0);
    assert.match(err.message, /http:\/\/127\.0\.0\.1:8000/);
    assert.match(err.message, /fetch failed/);
    assert.match(err.message, /whetstone serve/);
    return true;
  });
});

test("a request that gets no answer in time is aborted as a connection_error", async () => {
  const clock = fakeTimers();
  const fetch = (url, init) =>
    new Promise((_, reject) => {
      init.signal.addEventListener("abort", () => reject(new Error("aborted")));
    });
  const c = new WhetstoneClient({
    baseUrl: "http://127.0.0.1:8000",
    fetch,
    timers: clock.timers,
    requestTimeoutMs: 1000,
    storage: null,
  });
  const pending = c.health();
  clock.advance(1000);
  await assert.rejects(pending, { code: "connection_error", message: /no answer within 1000 ms/ });
  assert.equal(clock.pending().length, 0);
});

test("a 2xx answer that is not JSON is an internal error", async () => {
  const { c } = client(() => ({
    status: 200,
    body: "<html>",
    headers: { "content-type": "text/html" },
  }));
  await assert.rejects(c.health(), { code: "internal", status: 200 });
});

test("no key: no Authorization header", async () => {
  const { c, calls } = client(() => ({ body: { data: { status: "ok", version: "1" } } }), {
    apiKey: undefined,
  });
  assert.deepEqual(await c.health(), { status: "ok", version: "1" });
  assert.equal(calls[0].headers.Authorization, undefined);
});

test("baseUrl '' means the page's origin; the ws URL follows its scheme", () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, "location");
  try {
    Object.defineProperty(globalThis, "location", {
      value: { origin: "https://whetstone.example.test" },
      configurable: true,
    });
    const c = new WhetstoneClient({ storage: null });
    assert.equal(c.baseUrl, "https://whetstone.example.test");
    assert.equal(c.wsUrl, "wss://whetstone.example.test/ws/optimization");
    const prefixed = new WhetstoneClient({ baseUrl: "/whetstone/", storage: null });
    assert.equal(prefixed.wsUrl, "wss://whetstone.example.test/whetstone/ws/optimization");
  } finally {
    if (saved) Object.defineProperty(globalThis, "location", saved);
    else delete globalThis.location;
  }
  const plain = new WhetstoneClient({ baseUrl: "http://127.0.0.1:8000", storage: null });
  assert.equal(plain.wsUrl, "ws://127.0.0.1:8000/ws/optimization");
  assert.throws(() => new WhetstoneClient({ storage: null }).baseUrl, /pass baseUrl/);
});
