// whetstone.js: the browser/JS client of a Whetstone server (REST + live job events over
// the WebSocket). Dependency-free ES module; works in browsers and in Node >= 20 (pass
// `WebSocket` where the runtime has none). Reference: docs/web-client.md.
//
// Live events, in one place:
// - ONE WebSocket per client carries every subscription. It is opened on the first
//   subscribe(), authenticated by its first message {"type":"auth","token":key} (the key
//   never goes into a URL) and closed once no subscription is left.
// - After every `authenticated`, each live subscription is (re)sent as
//   {"type":"subscribe","jobId","afterEventId": last id delivered}; the server replays what
//   was missed, then sends live events.
// - Each subscription delivers every event of its job exactly once and in id order: an id
//   at or below the last one is a duplicate and is dropped; an id past the next one is a
//   gap, kept aside while the missing events are asked for with a `replay` frame.
// - A drop, an abnormal close, a 4408 (too slow) or a socket silent for `deadAfterMs` is
//   retried with exponential backoff and full jitter; 4401 / `unauthorized` is fatal.

/** @typedef {"idle" | "connecting" | "connected" | "reconnecting" | "offline"} ConnectionState */

/**
 * An event as it is on the wire (passed to callbacks unchanged).
 * @typedef {object} WhetstoneEvent
 * @property {number} id per job, from 1, without gaps
 * @property {string} jobId
 * @property {string} eventType job_started, iteration_start, mutation_generated, evaluation_start,
 *   evaluation_complete, new_best, iteration_complete, job_paused, job_resumed, job_complete,
 *   job_failed or job_cancelled
 * @property {number} iteration
 * @property {string} stage
 * @property {string} timestamp ISO 8601 UTC
 * @property {Record<string, any>} data
 */

/**
 * @typedef {object} BestResult
 * @property {string} jobId
 * @property {number} score
 * @property {any} prompt `{template}` or `{messages}`
 * @property {string | null} candidateId
 * @property {number} eventId the event it was taken from
 */

/**
 * @typedef {object} Page
 * @property {any[]} items
 * @property {number} total
 * @property {number} limit
 * @property {number} offset
 * @property {boolean} hasMore
 */

/**
 * @typedef {object} SubscribeOptions
 * @property {(event: WhetstoneEvent) => void} [onEvent]
 * @property {(event: WhetstoneEvent) => void} [onComplete] job_complete or job_cancelled
 * @property {(error: WhetstoneError) => void} [onError] job_failed or a fatal error
 * @property {number} [afterEventId] the last event id already processed (0 = the whole job)
 */

/**
 * @typedef {object} ConnectionInfo
 * @property {number} attempt retries in a row so far (0 on the first connection)
 * @property {number} [delayMs] when reconnecting: the wait before the next attempt
 * @property {WhetstoneError} [error] what caused the change, if anything
 */

export const TERMINAL_EVENTS = Object.freeze(["job_complete", "job_failed", "job_cancelled"]);

export const WS_PATH = "/ws/optimization";
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_TOO_SLOW = 4408;

const STORAGE_PREFIX = "whetstone:best:";
const CONNECTING = 0;
const OPEN = 1;
const MAX_HELD = 5000; // out-of-order events kept per subscription while a gap is filled
const MAX_EMPTY_REPLAYS = 3; // replays that did not close a gap before the socket is replaced

const STATUS_CODES = {
  400: "invalid_request",
  401: "unauthorized",
  403: "unauthorized",
  404: "not_found",
  409: "invalid_transition",
  413: "payload_too_large",
  429: "rate_limited",
};

/** An error from the server (its `error.code`), or `connection_error`, or `job_failed`. */
export class WhetstoneError extends Error {
  /**
   * @param {string} message
   * @param {{code?: string, status?: number, details?: Record<string, any>,
   *   event?: WhetstoneEvent, cause?: unknown}} [options]
   */
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "WhetstoneError";
    /** @type {string} */
    this.code = options.code ?? "internal";
    /** @type {number} the HTTP status; 0 when there was no HTTP response */
    this.status = options.status ?? 0;
    /** @type {Record<string, any>} */
    this.details = options.details ?? {};
    if (options.event !== undefined) {
      /** @type {WhetstoneEvent | undefined} */
      this.event = options.event;
    }
  }
}

/** One job followed over the client's WebSocket (made by `client.subscribe`). */
export class Subscription {
  #last;
  #done = false;
  #unsubscribe;
  /** @internal */
  _handlers;
  /** @internal events past a gap, by id, until the missing ones arrive */
  _held = new Map();
  /** @internal */
  _errorReported = false;

  /**
   * @internal use `client.subscribe(jobId, …)`
   * @param {string} jobId
   * @param {number} afterEventId
   * @param {SubscribeOptions} handlers
   * @param {(sub: Subscription) => void} unsubscribe
   */
  constructor(jobId, afterEventId, handlers, unsubscribe) {
    /** @type {string} */
    this.jobId = jobId;
    this.#last = afterEventId;
    this._handlers = handlers;
    this.#unsubscribe = unsubscribe;
  }

  /** The id of the last event delivered (or the `afterEventId` it started from). */
  get lastEventId() {
    return this.#last;
  }

  /** True once it has ended: terminal event, error, unsubscribe() or client.close(). */
  get done() {
    return this.#done;
  }

  /** Stop following: no callback runs after this returns. */
  unsubscribe() {
    if (!this.#done) this.#unsubscribe(this);
  }

  /** @internal */
  _advance(id) {
    this.#last = id;
  }

  /** @internal */
  _end() {
    this.#done = true;
    this._held.clear();
  }
}

/** One job's server-side subscription, shared by every local Subscription to it. */
class Channel {
  /** @param {string} jobId */
  constructor(jobId) {
    this.jobId = jobId;
    /** @type {Set<Subscription>} */
    this.subs = new Set();
    /** @type {number | null} afterEventId of the replay asked for and not yet finished */
    this.replayFrom = null;
    this.emptyReplays = 0;
    this.internalErrors = 0;
    /** @type {any} */
    this.retryTimer = null;
  }

  /** The lowest last-delivered id of its subscriptions: where the server must start. */
  floor() {
    let floor = Infinity;
    for (const sub of this.subs) floor = Math.min(floor, sub.lastEventId);
    return floor === Infinity ? 0 : floor;
  }

  /** The lowest last id among subscriptions waiting on a gap, or null. */
  gapFrom() {
    let from = null;
    for (const sub of this.subs) {
      if (sub._held.size > 0 && (from === null || sub.lastEventId < from)) from = sub.lastEventId;
    }
    return from;
  }
}

function storageDefault() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // e.g. a sandboxed iframe
  }
}

function bindGlobal(fn, owner, name) {
  // Browsers' own setTimeout/fetch must be called on the global object.
  if (typeof fn !== "function") return fn;
  return fn === globalThis[name] ? fn.bind(globalThis) : fn.bind(owner);
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The REST API and live job events of one Whetstone server. */
export class WhetstoneClient {
  #baseUrl;
  #apiKey;
  #WebSocket;
  #fetch;
  #storage;
  #reconnect;
  #deadAfterMs;
  #requestTimeoutMs;
  #random;
  #timers;
  #logger;
  #network;

  /** @type {Map<string, Channel>} */
  #channels = new Map();
  /** @type {any} */
  #socket = null;
  #authed = false;
  /** @type {ConnectionState} */
  #state = "idle";
  #attempt = 0;
  /** @type {number | null} */
  #connectedAt = null;
  /** @type {any} */
  #retryTimer = null;
  /** @type {any} */
  #deadTimer = null;
  #browserOffline = false;
  #listening = false;
  #idleCheck = false;
  /** @type {Set<(state: ConnectionState, info: ConnectionInfo) => void>} */
  #listeners = new Set();
  /** @type {Set<Function>} */
  #reportedListeners = new Set();
  /** @type {Map<string, BestResult>} */
  #best = new Map();

  /**
   * @param {object} [options]
   * @param {string} [options.baseUrl] "" = the page's own origin
   * @param {string} [options.apiKey]
   * @param {any} [options.WebSocket]
   * @param {typeof globalThis.fetch} [options.fetch]
   * @param {{getItem(k: string): string | null, setItem(k: string, v: string): void,
   *   removeItem(k: string): void} | null} [options.storage]
   * @param {{initialDelayMs?: number, maxDelayMs?: number, stableAfterMs?: number}} [options.reconnect]
   * @param {number} [options.deadAfterMs]
   * @param {number} [options.requestTimeoutMs] per REST call; 0 = none
   * @param {() => number} [options.random]
   * @param {{setTimeout?: Function, clearTimeout?: Function, now?: () => number}} [options.timers]
   * @param {{error: Function, warn?: Function}} [options.logger]
   * @param {{addEventListener: Function, removeEventListener: Function} | null} [options.network]
   *   where "online"/"offline" events come from (default: `window` in a browser)
   */
  constructor(options = {}) {
    const {
      baseUrl = "",
      apiKey,
      WebSocket = globalThis.WebSocket,
      fetch = globalThis.fetch,
      storage = storageDefault(),
      reconnect = {},
      deadAfterMs = 35000,
      requestTimeoutMs = 30000,
      random = Math.random,
      timers = {},
      logger = globalThis.console,
      network = typeof globalThis.window === "object" ? globalThis.window : null,
    } = options;
    this.#baseUrl = String(baseUrl).replace(/\/+$/, "");
    this.#apiKey = apiKey;
    this.#WebSocket = WebSocket;
    this.#fetch = bindGlobal(fetch, undefined, "fetch");
    this.#storage = storage;
    this.#reconnect = {
      initialDelayMs: 500,
      maxDelayMs: 20000,
      stableAfterMs: 10000,
      ...reconnect,
    };
    this.#deadAfterMs = deadAfterMs;
    this.#requestTimeoutMs = requestTimeoutMs;
    this.#random = random;
    this.#timers = {
      setTimeout: bindGlobal(timers.setTimeout ?? globalThis.setTimeout, timers, "setTimeout"),
      clearTimeout: bindGlobal(
        timers.clearTimeout ?? globalThis.clearTimeout,
        timers,
        "clearTimeout",
      ),
      now: timers.now ? timers.now.bind(timers) : () => Date.now(),
    };
    this.#logger = logger;
    this.#network = network;

    const id = encodeURIComponent;
    const page = (r) => this.#page(r);
    const data = (r) => r.data;
    this.prompts = {
      list: (query) => this.request("GET", "/api/prompts", undefined, query).then(page),
      get: (promptId) => this.request("GET", `/api/prompts/${id(promptId)}`).then(data),
      versions: (promptId) =>
        this.request("GET", `/api/prompts/${id(promptId)}/versions`).then(data),
      create: (body) => this.request("POST", "/api/prompts", body).then(data),
      createVersion: (promptId, body) =>
        this.request("POST", `/api/prompts/${id(promptId)}/versions`, body).then(data),
    };
    this.datasets = {
      list: (query) => this.request("GET", "/api/datasets", undefined, query).then(page),
      get: (datasetId) => this.request("GET", `/api/datasets/${id(datasetId)}`).then(data),
      items: (datasetId, query) =>
        this.request("GET", `/api/datasets/${id(datasetId)}/items`, undefined, query).then(page),
      create: (body) => this.request("POST", "/api/datasets", body).then(data),
      addItems: (datasetId, items) =>
        this.request("POST", `/api/datasets/${id(datasetId)}/items`, { items }).then(data),
    };
    const job = (jobId) => `/api/optimizations/${id(jobId)}`;
    const reason = (r) => (r === undefined || r === null ? {} : { reason: r });
    this.optimizations = {
      list: (query) => this.request("GET", "/api/optimizations", undefined, query).then(page),
      get: (jobId) => this.request("GET", job(jobId)).then(data),
      start: ({ promptId, datasetId, config } = /** @type {any} */ ({})) =>
        this.request("POST", "/api/optimizations", { promptId, datasetId, config }).then(data),
      pause: (jobId, why) => this.request("POST", `${job(jobId)}/pause`, reason(why)).then(data),
      resume: (jobId) => this.request("POST", `${job(jobId)}/resume`, {}).then(data),
      cancel: (jobId, why) => this.request("POST", `${job(jobId)}/cancel`, reason(why)).then(data),
      results: (jobId) => this.request("GET", `${job(jobId)}/results`).then(data),
      events: (jobId, { afterEventId, limit } = /** @type {any} */ ({})) =>
        this.request("GET", `${job(jobId)}/events`, undefined, { afterEventId, limit }).then(
          (r) => ({
            items: r.data,
            headEventId: r.meta.headEventId,
            hasMore: Boolean(r.meta.hasMore),
          }),
        ),
    };
  }

  // -- REST ----------------------------------------------------------------------------

  /** The server's origin (and path prefix), "" resolved to the page's origin. */
  get baseUrl() {
    if (/^https?:\/\//i.test(this.#baseUrl)) return this.#baseUrl;
    const origin = globalThis.location?.origin;
    if (!origin || origin === "null") {
      throw new TypeError(
        "whetstone.js: no baseUrl and no page origin; pass baseUrl, e.g. http://127.0.0.1:8000",
      );
    }
    return origin + this.#baseUrl; // "" or a path prefix such as "/whetstone"
  }

  /** The WebSocket URL: the base URL with http(s) turned into ws(s), + /ws/optimization. */
  get wsUrl() {
    return this.baseUrl.replace(/^http/i, "ws") + WS_PATH;
  }

  /**
   * One REST call. Resolves with the body's `{data, meta}`; rejects with a WhetstoneError.
   * @param {string} method
   * @param {string} path e.g. "/api/prompts"
   * @param {any} [body] sent as JSON
   * @param {Record<string, any>} [query] undefined and null values are left out
   * @returns {Promise<{data: any, meta: Record<string, any>}>}
   */
  async request(method, path, body, query) {
    let url = this.baseUrl + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== undefined && v !== null) params.append(k, String(v));
      }
      const qs = params.toString();
      if (qs) url += (url.includes("?") ? "&" : "?") + qs;
    }
    const headers = { Accept: "application/json" };
    if (this.#apiKey) headers.Authorization = `Bearer ${this.#apiKey}`;
    /** @type {RequestInit} */
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let timer = null;
    let timedOut = false;
    if (this.#requestTimeoutMs > 0 && typeof AbortController === "function") {
      const abort = new AbortController();
      init.signal = abort.signal;
      timer = this.#timers.setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, this.#requestTimeoutMs);
    }
    let response;
    let text;
    try {
      if (typeof this.#fetch !== "function") {
        throw new TypeError("no fetch implementation; pass `fetch` to WhetstoneClient");
      }
      response = await this.#fetch(url, init);
      text = await response.text();
    } catch (err) {
      const why = timedOut ? `no answer within ${this.#requestTimeoutMs} ms` : errorText(err);
      throw new WhetstoneError(
        `cannot reach the Whetstone server at ${this.#origin()} (${method} ${path}): ${why}. ` +
          "Is it running (`whetstone serve`) and is baseUrl right?",
        { code: "connection_error", cause: err, details: { url } },
      );
    } finally {
      if (timer !== null) this.#timers.clearTimeout(timer);
    }
    let parsed = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (!response.ok) {
      const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : null;
      if (error && typeof error.code === "string") {
        throw new WhetstoneError(String(error.message ?? `HTTP ${response.status}`), {
          code: error.code,
          status: response.status,
          details: isObject(error.details) ? error.details : {},
        });
      }
      const status = response.status;
      throw new WhetstoneError(
        `HTTP ${status} from ${method} ${path} without a Whetstone error body ` +
          "(a proxy in between?)",
        {
          code: STATUS_CODES[status] ?? "internal",
          status,
          details: { status, body: text ? text.slice(0, 500) : "" },
        },
      );
    }
    if (!isObject(parsed)) {
      throw new WhetstoneError(
        `${method} ${path} answered ${response.status} without a JSON body`,
        {
          code: "internal",
          status: response.status,
          details: { body: text ? text.slice(0, 500) : "" },
        },
      );
    }
    return { data: parsed.data, meta: isObject(parsed.meta) ? parsed.meta : {} };
  }

  /** `GET /api/health`'s data: `{status, version}`. */
  health() {
    return this.request("GET", "/api/health").then((r) => r.data);
  }

  #page({ data, meta }) {
    const items = Array.isArray(data) ? data : [];
    return {
      items,
      total: meta.total ?? items.length,
      limit: meta.limit ?? items.length,
      offset: meta.offset ?? 0,
      hasMore: Boolean(meta.hasMore),
    };
  }

  #origin() {
    try {
      return this.baseUrl;
    } catch {
      return "(no baseUrl)";
    }
  }

  // -- live events ---------------------------------------------------------------------

  /** @returns {ConnectionState} */
  get connectionState() {
    return this.#state;
  }

  /**
   * Call `cb(state, info)` on every change of `connectionState` (and for each new retry
   * while reconnecting). Returns a function that removes it.
   * @param {(state: ConnectionState, info: ConnectionInfo) => void} cb
   */
  onConnectionChange(cb) {
    this.#listeners.add(cb);
    return () => {
      this.#listeners.delete(cb);
    };
  }

  /**
   * Follow one job. Events go to `onEvent` exactly once, in id order; the terminal one is
   * followed by `onComplete` (job_complete, job_cancelled) or `onError` (job_failed).
   * @param {string} jobId
   * @param {SubscribeOptions} [options]
   * @returns {Subscription}
   */
  subscribe(jobId, options = {}) {
    if (typeof jobId !== "string" || !jobId) {
      throw new TypeError("subscribe(jobId, …): jobId must be a non-empty string");
    }
    const { onEvent, onComplete, onError, afterEventId = 0 } = options;
    if (!Number.isInteger(afterEventId) || afterEventId < 0) {
      throw new TypeError(
        "subscribe: afterEventId must be a whole number >= 0 (the last id you processed)",
      );
    }
    void this.wsUrl; // throws a TypeError now if there is no URL to connect to
    if (typeof this.#WebSocket !== "function") {
      throw new WhetstoneError(
        "no WebSocket implementation in this runtime; pass `WebSocket` to WhetstoneClient",
        { code: "connection_error" },
      );
    }
    const sub = new Subscription(jobId, afterEventId, { onEvent, onComplete, onError }, (s) =>
      this.#endSubscription(s),
    );
    let channel = this.#channels.get(jobId);
    if (channel === undefined) {
      channel = new Channel(jobId);
      channel.subs.add(sub);
      this.#channels.set(jobId, channel);
      if (this.#authed) this.#send({ type: "subscribe", jobId, afterEventId });
    } else {
      const floor = channel.floor();
      channel.subs.add(sub);
      // The server already follows this job from `floor`: replay what this one lacks.
      if (this.#authed && afterEventId < floor) {
        if (channel.replayFrom === null) channel.replayFrom = afterEventId;
        this.#send({ type: "replay", jobId, afterEventId });
      }
    }
    this.#idleCheck = false;
    this.#ensureConnection();
    return sub;
  }

  /**
   * The best result seen for a job (from `new_best` and `job_complete` events), kept in
   * `storage` under "whetstone:best:<jobId>", so it survives a page refresh.
   * @param {string} jobId
   * @returns {BestResult | null}
   */
  bestResult(jobId) {
    const known = this.#best.get(jobId);
    if (known) return { ...known };
    const raw = this.#storageCall("getItem", STORAGE_PREFIX + jobId);
    if (typeof raw !== "string") return null;
    try {
      const value = JSON.parse(raw);
      if (isObject(value) && typeof value.score === "number" && Number.isInteger(value.eventId)) {
        const best = {
          jobId,
          score: value.score,
          prompt: value.prompt ?? null,
          candidateId: value.candidateId ?? null,
          eventId: value.eventId,
        };
        this.#best.set(jobId, best);
        return { ...best };
      }
    } catch {
      // not ours, or damaged: ignore it
    }
    return null;
  }

  /** Forget a job's stored best result. */
  clearBestResult(jobId) {
    this.#best.delete(jobId);
    this.#storageCall("removeItem", STORAGE_PREFIX + jobId);
  }

  /**
   * End every subscription (no callbacks), close the socket and stop reconnecting; state
   * "offline". REST calls keep working, and a later subscribe() opens a new socket.
   */
  close() {
    for (const channel of this.#channels.values()) {
      this.#clearChannelTimer(channel);
      for (const sub of channel.subs) sub._end();
    }
    this.#channels.clear();
    this.#dropSocket(1000, "client closed");
    this.#clearRetry();
    this.#unlisten();
    this.#browserOffline = false;
    this.#attempt = 0;
    this.#setState("offline", { attempt: 0 });
  }

  // -- the connection ------------------------------------------------------------------

  #ensureConnection() {
    this.#listen();
    if (this.#socket !== null || this.#retryTimer !== null || this.#browserOffline) return;
    this.#attempt = 0;
    this.#setState("connecting", { attempt: 0 });
    this.#open();
  }

  #open() {
    this.#retryTimer = null;
    let ws;
    try {
      ws = new this.#WebSocket(this.wsUrl);
    } catch (err) {
      this.#lost(
        new WhetstoneError(`cannot open ${this.#safeWsUrl()}: ${errorText(err)}`, {
          code: "connection_error",
          cause: err,
        }),
      );
      return;
    }
    this.#socket = ws;
    this.#authed = false;
    this.#connectedAt = null;
    this.#armDeadTimer();
    ws.onopen = () => {
      if (ws !== this.#socket) return;
      this.#armDeadTimer();
      this.#send({ type: "auth", token: this.#apiKey ?? "" });
    };
    ws.onmessage = (message) => {
      if (ws !== this.#socket) return;
      this.#armDeadTimer();
      let frame;
      try {
        frame = JSON.parse(typeof message.data === "string" ? message.data : String(message.data));
      } catch {
        return; // not JSON: nothing the server sends
      }
      if (isObject(frame)) this.#onFrame(frame);
    };
    ws.onerror = () => {
      // a close event follows; nothing to do here
    };
    ws.onclose = (event) => {
      if (ws !== this.#socket) return;
      this.#socket = null;
      this.#authed = false;
      this.#clearDeadTimer();
      const code = event?.code ?? 1006;
      const reason = event?.reason ?? "";
      if (code === CLOSE_UNAUTHORIZED) {
        this.#fatal(reason && reason !== "unauthorized" ? reason : "invalid API key");
        return;
      }
      const why =
        code === CLOSE_TOO_SLOW
          ? "the server dropped this client for falling behind (4408)"
          : `the connection closed (${code}${reason ? ` ${reason}` : ""})`;
      this.#lost(
        new WhetstoneError(why, { code: "connection_error", details: { closeCode: code } }),
      );
    };
  }

  /** The link is gone (and was not fatal): retry with backoff while there is a subscription. */
  #lost(error) {
    this.#socket = null;
    this.#authed = false;
    this.#clearDeadTimer();
    if (this.#channels.size === 0) {
      this.#goIdle();
      return;
    }
    if (this.#browserOffline) {
      this.#setState("offline", { attempt: this.#attempt, error });
      return;
    }
    const { initialDelayMs, maxDelayMs, stableAfterMs } = this.#reconnect;
    if (this.#connectedAt !== null && this.#timers.now() - this.#connectedAt >= stableAfterMs) {
      this.#attempt = 0;
    }
    this.#connectedAt = null;
    const cap = Math.min(maxDelayMs, initialDelayMs * 2 ** this.#attempt);
    const delayMs = Math.max(0, Math.min(cap, this.#random() * cap));
    this.#attempt += 1;
    this.#setState("reconnecting", { attempt: this.#attempt, delayMs, error }, true);
    this.#retryTimer = this.#timers.setTimeout(() => this.#open(), delayMs);
  }

  #fatal(message) {
    const error = new WhetstoneError(message, { code: "unauthorized", status: 401 });
    this.#dropSocket(CLOSE_UNAUTHORIZED, "unauthorized");
    this.#clearRetry();
    const channels = [...this.#channels.values()];
    this.#channels.clear();
    this.#attempt = 0;
    // The state first: an onError callback may subscribe again (a new attempt).
    this.#setState("offline", { attempt: 0, error });
    for (const channel of channels) {
      this.#clearChannelTimer(channel);
      for (const sub of channel.subs) this.#fail(sub, error);
    }
  }

  #goIdle() {
    this.#dropSocket(1000, "no subscriptions left");
    this.#clearRetry();
    this.#unlisten();
    this.#attempt = 0;
    this.#setState("idle", { attempt: 0 });
  }

  /** Detach the current socket (its events are ignored from now on) and close it. */
  #dropSocket(code, reason) {
    const ws = this.#socket;
    this.#socket = null;
    this.#authed = false;
    this.#clearDeadTimer();
    if (ws === null) return;
    if (ws.readyState === CONNECTING) {
      // Closing a socket that is still connecting makes browsers log a warning: let it
      // open (or fail) first. Its events are ignored either way (it is not #socket).
      ws.onopen = () => closeSocket(ws, code, reason);
      return;
    }
    closeSocket(ws, code, reason);
  }

  #armDeadTimer() {
    this.#clearDeadTimer();
    const ws = this.#socket;
    this.#deadTimer = this.#timers.setTimeout(() => {
      this.#deadTimer = null;
      if (ws !== this.#socket) return;
      this.#dropSocket(4000, "no frame received");
      this.#lost(
        new WhetstoneError(`nothing received for ${this.#deadAfterMs} ms; the link is dead`, {
          code: "connection_error",
        }),
      );
    }, this.#deadAfterMs);
  }

  #clearDeadTimer() {
    if (this.#deadTimer !== null) {
      this.#timers.clearTimeout(this.#deadTimer);
      this.#deadTimer = null;
    }
  }

  #clearRetry() {
    if (this.#retryTimer !== null) {
      this.#timers.clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
  }

  #send(frame) {
    const ws = this.#socket;
    if (ws === null || (ws.readyState !== undefined && ws.readyState !== OPEN)) return false;
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch (err) {
      this.#dropSocket(4000, "send failed");
      this.#lost(
        new WhetstoneError(`sending failed: ${errorText(err)}`, {
          code: "connection_error",
          cause: err,
        }),
      );
      return false;
    }
  }

  #safeWsUrl() {
    try {
      return this.wsUrl;
    } catch {
      return WS_PATH;
    }
  }

  // -- browser online / offline --------------------------------------------------------

  #onOffline = () => {
    this.#browserOffline = true;
    if (this.#channels.size === 0) return;
    this.#dropSocket(1000, "browser offline");
    this.#clearRetry();
    this.#setState("offline", {
      attempt: this.#attempt,
      error: new WhetstoneError("the browser is offline", { code: "connection_error" }),
    });
  };

  #onOnline = () => {
    const was = this.#browserOffline;
    this.#browserOffline = false;
    if (!was || this.#channels.size === 0 || this.#socket !== null) return;
    this.#clearRetry();
    this.#attempt = 0;
    this.#setState("reconnecting", { attempt: 0, delayMs: 0 }, true);
    this.#open();
  };

  #listen() {
    const net = this.#network;
    if (this.#listening || !net || typeof net.addEventListener !== "function") return;
    net.addEventListener("offline", this.#onOffline);
    net.addEventListener("online", this.#onOnline);
    this.#listening = true;
  }

  #unlisten() {
    const net = this.#network;
    if (!this.#listening || !net) return;
    net.removeEventListener?.("offline", this.#onOffline);
    net.removeEventListener?.("online", this.#onOnline);
    this.#listening = false;
    this.#browserOffline = false; // not watched any more: the next attempt finds out
  }

  // -- frames --------------------------------------------------------------------------

  #onFrame(frame) {
    switch (frame.type) {
      case "authenticated":
        if (this.#authed) return; // answer to a later auth
        this.#authed = true;
        this.#connectedAt = this.#timers.now();
        this.#setState("connected", { attempt: this.#attempt });
        for (const channel of [...this.#channels.values()]) this.#subscribeChannel(channel);
        return;
      case "event": {
        const channel = this.#channels.get(frame.jobId);
        if (channel && isObject(frame.event)) this.#receive(channel, [frame.event]);
        return;
      }
      case "replay": {
        const channel = this.#channels.get(frame.jobId);
        if (!channel) return;
        const events = Array.isArray(frame.data) ? frame.data.filter(isObject) : [];
        this.#receive(channel, events);
        if (!frame.hasMore && this.#channels.get(frame.jobId) === channel) {
          const asked = channel.replayFrom;
          channel.replayFrom = null;
          if (asked !== null) this.#replayFinished(channel, asked);
        }
        return;
      }
      case "error":
        this.#onErrorFrame(frame);
        return;
      default:
        // subscribed, unsubscribed, heartbeat, pong: the dead-socket timer is re-armed
        // by any frame; nothing else to do
        return;
    }
  }

  #onErrorFrame(frame) {
    const code = typeof frame.code === "string" ? frame.code : "internal";
    const message = typeof frame.error === "string" ? frame.error : code;
    if (code === "unauthorized") {
      this.#fatal(message);
      return;
    }
    const channel = typeof frame.jobId === "string" ? this.#channels.get(frame.jobId) : undefined;
    if (channel === undefined) {
      this.#logger?.warn?.(`whetstone.js: the server refused a frame: ${code}: ${message}`);
      return;
    }
    if (code === "internal") {
      // The server's stream of this job failed: resubscribe it after a backoff delay.
      const { initialDelayMs, maxDelayMs } = this.#reconnect;
      const cap = Math.min(maxDelayMs, initialDelayMs * 2 ** channel.internalErrors);
      channel.internalErrors += 1;
      this.#clearChannelTimer(channel);
      channel.retryTimer = this.#timers.setTimeout(() => {
        channel.retryTimer = null;
        if (this.#channels.get(channel.jobId) === channel && this.#authed) {
          this.#subscribeChannel(channel);
        }
      }, this.#random() * cap);
      return;
    }
    // not_found, invalid_field, too_many_subscriptions, …: this job's subscriptions end.
    this.#channels.delete(channel.jobId);
    this.#clearChannelTimer(channel);
    const error = new WhetstoneError(message, {
      code,
      status: code === "not_found" ? 404 : 0,
      details: { jobId: channel.jobId },
    });
    for (const sub of channel.subs) this.#fail(sub, error);
    this.#scheduleIdleCheck();
  }

  #subscribeChannel(channel) {
    channel.replayFrom = null;
    channel.emptyReplays = 0;
    this.#send({ type: "subscribe", jobId: channel.jobId, afterEventId: channel.floor() });
  }

  #clearChannelTimer(channel) {
    if (channel.retryTimer !== null) {
      this.#timers.clearTimeout(channel.retryTimer);
      channel.retryTimer = null;
    }
  }

  /** Offer events (in the order received) to every subscription of the job. */
  #receive(channel, events) {
    for (const event of events) {
      if (!Number.isInteger(event.id)) continue;
      for (const sub of [...channel.subs]) {
        if (!sub.done) this.#offer(channel, sub, event);
      }
    }
    if (this.#channels.get(channel.jobId) !== channel) return;
    if (channel.replayFrom === null) {
      const from = channel.gapFrom();
      if (from !== null) {
        channel.replayFrom = from;
        this.#send({ type: "replay", jobId: channel.jobId, afterEventId: from });
      }
    }
  }

  #offer(channel, sub, event) {
    const last = sub.lastEventId;
    if (event.id <= last) return; // a duplicate
    if (event.id > last + 1) {
      if (sub._held.size < MAX_HELD || sub._held.has(event.id)) sub._held.set(event.id, event);
      return; // a gap: held until the events before it arrive
    }
    this.#deliver(channel, sub, event);
    while (!sub.done && sub._held.size > 0) {
      const next = sub._held.get(sub.lastEventId + 1);
      for (const id of sub._held.keys()) if (id <= sub.lastEventId + 1) sub._held.delete(id);
      if (next === undefined) break;
      this.#deliver(channel, sub, next);
    }
  }

  #replayFinished(channel, asked) {
    const from = channel.gapFrom();
    if (from === null) {
      channel.emptyReplays = 0;
      return;
    }
    // Still a gap: a newer one (progress), or the same one again (nothing came).
    channel.emptyReplays = from > asked ? 0 : channel.emptyReplays + 1;
    if (channel.emptyReplays >= MAX_EMPTY_REPLAYS) {
      // The server keeps missing events it should have: start over on a fresh socket.
      channel.emptyReplays = 0;
      this.#dropSocket(4000, "events missing");
      this.#lost(
        new WhetstoneError(`events after ${from} of ${channel.jobId} did not arrive`, {
          code: "connection_error",
        }),
      );
      return;
    }
    channel.replayFrom = from;
    this.#send({ type: "replay", jobId: channel.jobId, afterEventId: from });
  }

  #deliver(channel, sub, event) {
    sub._advance(event.id);
    channel.internalErrors = 0;
    this.#noteBest(event);
    this.#call(sub, sub._handlers.onEvent, event);
    if (sub.done || !TERMINAL_EVENTS.includes(event.eventType)) return;
    this.#endSubscription(sub);
    if (event.eventType === "job_failed") {
      const error = isObject(event.data?.error) ? event.data.error : {};
      const message =
        typeof error.message === "string" && error.message
          ? error.message
          : `optimization ${event.jobId ?? sub.jobId} failed`;
      this.#call(
        sub,
        sub._handlers.onError,
        new WhetstoneError(message, {
          code: "job_failed",
          details: { jobId: sub.jobId, error },
          event,
        }),
      );
    } else {
      this.#call(sub, sub._handlers.onComplete, event);
    }
  }

  #fail(sub, error) {
    if (sub.done) return;
    sub._end();
    this.#call(sub, sub._handlers.onError, error);
  }

  /** A subscription ends: unsubscribe on the wire when it was the job's last one. */
  #endSubscription(sub) {
    sub._end();
    const channel = this.#channels.get(sub.jobId);
    if (channel === undefined || !channel.subs.delete(sub)) return;
    if (channel.subs.size === 0) {
      this.#channels.delete(sub.jobId);
      this.#clearChannelTimer(channel);
      if (this.#authed) this.#send({ type: "unsubscribe", jobId: sub.jobId });
      this.#scheduleIdleCheck();
    }
  }

  /** Close the socket once no subscription is left (a microtask later, so that an
   * unsubscribe followed at once by a subscribe keeps the socket). */
  #scheduleIdleCheck() {
    if (this.#idleCheck) return;
    this.#idleCheck = true;
    queueMicrotask(() => {
      if (!this.#idleCheck) return;
      this.#idleCheck = false;
      if (this.#channels.size > 0) return;
      if (this.#state === "offline" && !this.#browserOffline) {
        // closed, or refused (unauthorized): stay "offline" until the next subscribe()
        this.#dropSocket(1000, "no subscriptions left");
        this.#clearRetry();
        this.#unlisten();
      } else {
        this.#goIdle();
      }
    });
  }

  // -- best results --------------------------------------------------------------------

  #noteBest(event) {
    const jobId = typeof event.jobId === "string" ? event.jobId : null;
    if (jobId === null) return;
    const data = isObject(event.data) ? event.data : {};
    let best = null;
    const previous = this.bestResult(jobId);
    if (previous !== null && previous.eventId >= event.id) return;
    if (event.eventType === "new_best" && typeof data.score === "number") {
      best = {
        jobId,
        score: data.score,
        prompt: data.prompt ?? null,
        candidateId: data.candidateId ?? null,
        eventId: event.id,
      };
    } else if (event.eventType === "job_complete" && isObject(data.results)) {
      const results = data.results;
      if (typeof results.finalScore !== "number") return;
      best = {
        jobId,
        score: results.finalScore,
        prompt: results.bestPrompt ?? previous?.prompt ?? null,
        candidateId: previous?.candidateId ?? null,
        eventId: event.id,
      };
    }
    if (best === null) return;
    this.#best.set(jobId, best);
    this.#storageCall("setItem", STORAGE_PREFIX + jobId, JSON.stringify(best));
  }

  #storageCall(method, ...args) {
    const storage = this.#storage;
    if (!storage || typeof storage[method] !== "function") return null;
    try {
      return storage[method](...args);
    } catch {
      return null; // full, or disabled: the in-memory copy still works
    }
  }

  // -- callbacks -----------------------------------------------------------------------

  #call(sub, fn, arg) {
    if (typeof fn !== "function") return;
    try {
      fn(arg);
    } catch (err) {
      if (!sub._errorReported) {
        sub._errorReported = true;
        this.#logger?.error?.(
          `whetstone.js: a callback of the subscription to ${sub.jobId} threw; the client ` +
            "carries on (further errors of this subscription are not reported)",
          err,
        );
      }
    }
  }

  /**
   * @param {ConnectionState} state
   * @param {ConnectionInfo} info
   * @param {boolean} [always] notify even if the state is unchanged (a new retry)
   */
  #setState(state, info, always = false) {
    if (state === this.#state && !always) return;
    this.#state = state;
    const full = { attempt: this.#attempt, ...info };
    for (const cb of [...this.#listeners]) {
      try {
        cb(state, full);
      } catch (err) {
        if (!this.#reportedListeners.has(cb)) {
          this.#reportedListeners.add(cb);
          this.#logger?.error?.(
            "whetstone.js: an onConnectionChange callback threw; the client carries on",
            err,
          );
        }
      }
    }
  }
}

function closeSocket(ws, code, reason) {
  try {
    ws.close(code, reason);
  } catch {
    try {
      ws.close(); // a code the runtime refuses
    } catch {
      // already gone
    }
  }
}

function errorText(err) {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
