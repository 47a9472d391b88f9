// Type declarations of whetstone.js (the browser/JS client of Whetstone).
// Reference: docs/web-client.md.

export type ConnectionState = "idle" | "connecting" | "connected" | "reconnecting" | "offline";

export type EventType =
  | "job_started"
  | "iteration_start"
  | "mutation_generated"
  | "evaluation_start"
  | "evaluation_complete"
  | "new_best"
  | "iteration_complete"
  | "job_paused"
  | "job_resumed"
  | "job_complete"
  | "job_failed"
  | "job_cancelled";

/** An event exactly as it is on the wire. */
export interface WhetstoneEvent {
  id: number;
  jobId: string;
  eventType: EventType | (string & {});
  iteration: number;
  stage: string;
  timestamp: string;
  data: Record<string, any>;
}

export type PromptBody = { template: string } | { messages: { role: string; content: string }[] };

export interface BestResult {
  jobId: string;
  score: number;
  prompt: PromptBody | null;
  candidateId: string | null;
  eventId: number;
}

export interface Page<T = any> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
  hasMore: boolean;
}

export interface EventPage {
  items: WhetstoneEvent[];
  headEventId: number;
  hasMore: boolean;
}

export interface ConnectionInfo {
  /** Retries in a row so far (0 on the first connection). */
  attempt: number;
  /** When reconnecting: the wait before the next attempt. */
  delayMs?: number;
  /** What caused the change, if anything. */
  error?: WhetstoneError;
}

export interface SubscribeOptions {
  onEvent?: (event: WhetstoneEvent) => void;
  /** After the job_complete or job_cancelled event, once. */
  onComplete?: (event: WhetstoneEvent) => void;
  /** After job_failed (code "job_failed"), or a fatal error (unauthorized, not_found …), once. */
  onError?: (error: WhetstoneError) => void;
  /** The last event id already processed; 0 (the default) = the whole job. */
  afterEventId?: number;
}

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): any;
  clearTimeout(handle: any): void;
  now(): number;
}

export interface ReconnectOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  stableAfterMs?: number;
}

export interface WhetstoneClientOptions {
  /** "" (the default) = the page's own origin; may carry a path prefix. */
  baseUrl?: string;
  apiKey?: string;
  WebSocket?: any;
  fetch?: typeof globalThis.fetch;
  storage?: StorageLike | null;
  reconnect?: ReconnectOptions;
  /** Nothing received for this long = the socket is dead (default 35000). */
  deadAfterMs?: number;
  /** Per REST call; 0 = no limit (default 30000). */
  requestTimeoutMs?: number;
  random?: () => number;
  timers?: Partial<Timers>;
  logger?: { error(...args: any[]): void; warn?(...args: any[]): void } | null;
  /** Source of "online"/"offline" events (default: window in a browser). */
  network?: {
    addEventListener(type: string, cb: () => void): void;
    removeEventListener(type: string, cb: () => void): void;
  } | null;
}

export class WhetstoneError extends Error {
  constructor(
    message: string,
    options?: {
      code?: string;
      status?: number;
      details?: Record<string, any>;
      event?: WhetstoneEvent;
      cause?: unknown;
    },
  );
  /** The server's error code, or "connection_error", or "job_failed". */
  code: string;
  /** The HTTP status (401/404 for those WebSocket errors); 0 without one. */
  status: number;
  details: Record<string, any>;
  /** The job_failed event, for code "job_failed". */
  event?: WhetstoneEvent;
}

export const TERMINAL_EVENTS: readonly ["job_complete", "job_failed", "job_cancelled"];
export const WS_PATH: "/ws/optimization";
export const CLOSE_UNAUTHORIZED: 4401;
export const CLOSE_TOO_SLOW: 4408;

export class Subscription {
  private constructor();
  readonly jobId: string;
  /** The id of the last event delivered (or the afterEventId it started from). */
  get lastEventId(): number;
  get done(): boolean;
  unsubscribe(): void;
}

type Query = Record<string, string | number | boolean | null | undefined>;

export class WhetstoneClient {
  constructor(options?: WhetstoneClientOptions);

  readonly baseUrl: string;
  readonly wsUrl: string;

  request(
    method: string,
    path: string,
    body?: unknown,
    query?: Query,
  ): Promise<{ data: any; meta: Record<string, any> }>;
  health(): Promise<{ status: string; version: string; [key: string]: any }>;

  prompts: {
    list(query?: Query): Promise<Page>;
    get(id: string): Promise<any>;
    versions(id: string): Promise<any[]>;
    create(body: Record<string, any>): Promise<any>;
    createVersion(id: string, body: Record<string, any>): Promise<any>;
  };
  datasets: {
    list(query?: Query): Promise<Page>;
    get(id: string): Promise<any>;
    items(id: string, query?: Query): Promise<Page>;
    create(body: Record<string, any>): Promise<any>;
    addItems(id: string, items: Record<string, any>[]): Promise<{ added: number }>;
  };
  optimizations: {
    list(query?: Query): Promise<Page>;
    get(id: string): Promise<any>;
    start(body: {
      promptId: string;
      datasetId: string;
      config?: Record<string, any>;
    }): Promise<any>;
    pause(id: string, reason?: string): Promise<any>;
    resume(id: string): Promise<any>;
    cancel(id: string, reason?: string): Promise<any>;
    results(id: string): Promise<any>;
    events(id: string, options?: { afterEventId?: number; limit?: number }): Promise<EventPage>;
  };

  subscribe(jobId: string, options?: SubscribeOptions): Subscription;
  get connectionState(): ConnectionState;
  onConnectionChange(cb: (state: ConnectionState, info: ConnectionInfo) => void): () => void;
  bestResult(jobId: string): BestResult | null;
  clearBestResult(jobId: string): void;
  close(): void;
}
