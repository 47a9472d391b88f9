// Test doubles for whetstone.js: a scriptable WebSocket, manual timers, a random source,
// storage, fetch and a network event source. No real network and no real time.
// (node --test runs every .mjs under test/ as a test file: importing this one does nothing.)

import { WhetstoneClient } from "../whetstone.js";

/** A WebSocket class whose instances the test drives from the "server" side. */
export function fakeSockets() {
  /** @type {FakeSocket[]} */
  const sockets = [];

  class FakeSocket {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;

    constructor(url) {
      this.url = url;
      this.readyState = 0;
      /** @type {any[]} frames the client sent, parsed */
      this.sent = [];
      /** @type {{code?: number, reason?: string} | null} set when the client closed it */
      this.closedByClient = null;
      this.onopen = null;
      this.onmessage = null;
      this.onclose = null;
      this.onerror = null;
      sockets.push(this);
    }

    send(text) {
      if (this.readyState !== 1) throw new Error("send on a socket that is not open");
      this.sent.push(JSON.parse(text));
    }

    close(code, reason) {
      if (this.readyState === 3) return;
      this.closedByClient = { code, reason };
      this.readyState = 3;
      // Like a browser, still report the close; the client must ignore a socket it dropped.
      this.onclose?.({ code: code ?? 1005, reason: reason ?? "", wasClean: true });
    }

    // -- the server's side --

    open() {
      this.readyState = 1;
      this.onopen?.({ type: "open" });
    }

    receive(frame) {
      this.onmessage?.({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
    }

    /** Open, answer the auth message with `authenticated`. */
    accept() {
      this.open();
      this.receive({ type: "authenticated" });
    }

    serverClose(code = 1006, reason = "") {
      this.readyState = 3;
      this.onclose?.({ code, reason, wasClean: code !== 1006 });
    }

    /** Frames sent of one type. */
    sentOf(type) {
      return this.sent.filter((f) => f.type === type);
    }

    event(event) {
      this.receive({ type: "event", jobId: event.jobId, event });
    }

    replay(jobId, events, hasMore = false) {
      this.receive({ type: "replay", jobId, data: events, hasMore });
    }
  }

  return {
    WebSocket: FakeSocket,
    sockets,
    last: () => sockets[sockets.length - 1],
  };
}

/** setTimeout/clearTimeout/now driven by `advance(ms)`. */
export function fakeTimers() {
  let now = 0;
  let seq = 0;
  /** @type {Map<number, {at: number, fn: () => void, seq: number, ms: number}>} */
  const pending = new Map();
  const timers = {
    setTimeout(fn, ms = 0) {
      const id = ++seq;
      pending.set(id, { at: now + Math.max(0, ms), fn, seq: id, ms });
      return id;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    now: () => now,
  };
  return {
    timers,
    get now() {
      return now;
    },
    /** Timers pending, earliest first: [{at, ms}]. */
    pending() {
      return [...pending.values()].sort((a, b) => a.at - b.at || a.seq - b.seq);
    },
    /** Run every timer due within `ms`, in order, moving the clock as they fire. */
    advance(ms) {
      const target = now + ms;
      for (;;) {
        const next = this.pending().find((t) => t.at <= target);
        if (!next) break;
        pending.delete(next.seq);
        now = next.at;
        next.fn();
      }
      now = target;
    },
  };
}

/** A random source returning `values` in turn (the last one repeats). */
export function fakeRandom(...values) {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)];
}

export function memoryStorage(initial = {}) {
  const map = new Map(Object.entries(initial));
  return {
    map,
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => {
      map.set(k, String(v));
    },
    removeItem: (k) => {
      map.delete(k);
    },
  };
}

/** A fetch that answers from `handler(url, init)` -> {status, body} | throws; records calls. */
export function fakeFetch(handler) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    calls.push({ url: String(url), ...init, headers: { ...(init.headers ?? {}) } });
    const answer = await handler(String(url), init);
    const { status = 200, body = "", headers = { "content-type": "application/json" } } = answer;
    const text = typeof body === "string" ? body : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status, headers });
  };
  return { fetch, calls };
}

/** An EventTarget standing in for `window` ("online"/"offline"). */
export function fakeNetwork() {
  const target = new EventTarget();
  return {
    addEventListener: target.addEventListener.bind(target),
    removeEventListener: target.removeEventListener.bind(target),
    go(type) {
      target.dispatchEvent(new Event(type));
    },
  };
}

/** A logger that keeps what it was given. */
export function fakeLogger() {
  const errors = [];
  const warnings = [];
  return {
    errors,
    warnings,
    error: (...args) => errors.push(args),
    warn: (...args) => warnings.push(args),
  };
}

/** An event as the server sends it. */
export function ev(jobId, id, eventType = "iteration_start", data = {}) {
  return {
    id,
    jobId,
    eventType,
    iteration: 0,
    stage: "selection",
    timestamp: "2025-01-01T00:00:00Z",
    data,
  };
}

/** Events `from`..`to` (inclusive) of a job. */
export function evs(jobId, from, to) {
  const out = [];
  for (let id = from; id <= to; id++) out.push(ev(jobId, id));
  return out;
}

/** Let queued microtasks run (the client closes an unused socket a microtask later). */
export async function flush() {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** A client on fakes; returns it with the fakes and a record of its state changes. */
export function harness(options = {}) {
  const sockets = fakeSockets();
  const clock = fakeTimers();
  const storage = options.storage ?? memoryStorage();
  const logger = fakeLogger();
  const client = new WhetstoneClient({
    baseUrl: "http://127.0.0.1:8000",
    apiKey: "wst_secret",
    WebSocket: sockets.WebSocket,
    fetch: async () => {
      throw new Error("no REST in this test");
    },
    storage,
    timers: clock.timers,
    random: () => 1,
    logger,
    network: null,
    ...options,
  });
  const states = [];
  client.onConnectionChange((state, info) => states.push({ state, ...info }));
  return { client, sockets, clock, storage, logger, states };
}

/** Callbacks of one subscription, recorded in order. */
export function recorder() {
  const log = [];
  return {
    log,
    events: () => log.filter((x) => x.kind === "event").map((x) => x.value),
    ids: () => log.filter((x) => x.kind === "event").map((x) => x.value.id),
    completes: () => log.filter((x) => x.kind === "complete").map((x) => x.value),
    errors: () => log.filter((x) => x.kind === "error").map((x) => x.value),
    callbacks: {
      onEvent: (value) => log.push({ kind: "event", value }),
      onComplete: (value) => log.push({ kind: "complete", value }),
      onError: (value) => log.push({ kind: "error", value }),
    },
  };
}
