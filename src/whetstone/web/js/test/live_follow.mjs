// Follows one job of a real Whetstone server with whetstone.js and prints one JSON line per
// callback, for tests/web/test_js_client_live.py:
//
//   node live_follow.mjs <baseUrl> <apiKey> <jobId>
//
// Lines: {"kind":"state","state"}, {"kind":"event","id","eventType"},
// {"kind":"complete","eventType"} or {"kind":"error","code","message"}, then
// {"kind":"job","status","lastEventId"} and {"kind":"best", ...bestResult}.
// Exit status: 0 completed, 1 ended with an error, 2 timed out, 3 usage, 4 no WebSocket.
// (`node --test test/` runs every file here; without arguments this one does nothing.)

import process from "node:process";

import { WhetstoneClient } from "../whetstone.js";

const TIMEOUT_MS = 60_000;

function emit(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(argv) {
  if (argv.length === 0) return 0;
  if (argv.length !== 3) {
    process.stderr.write("usage: node live_follow.mjs <baseUrl> <apiKey> <jobId>\n");
    return 3;
  }
  const [baseUrl, apiKey, jobId] = argv;
  if (typeof globalThis.WebSocket !== "function") {
    process.stderr.write(`no global WebSocket in node ${process.version}\n`);
    return 4;
  }
  const client = new WhetstoneClient({ baseUrl, apiKey, storage: null });
  client.onConnectionChange((state) => emit({ kind: "state", state }));
  const health = await client.health();
  emit({ kind: "health", status: health.status });

  const ended = new Promise((resolve) => {
    client.subscribe(jobId, {
      afterEventId: 0,
      onEvent: (e) => emit({ kind: "event", id: e.id, eventType: e.eventType }),
      onComplete: (e) => {
        emit({ kind: "complete", eventType: e.eventType });
        resolve(0);
      },
      onError: (err) => {
        emit({ kind: "error", code: err.code, message: err.message });
        resolve(1);
      },
    });
  });
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve(2), TIMEOUT_MS);
  });
  const code = await Promise.race([ended, timedOut]);
  clearTimeout(timer);
  const job = await client.optimizations.get(jobId);
  emit({ kind: "job", status: job.status, lastEventId: job.lastEventId });
  emit({ kind: "best", ...client.bestResult(jobId) });
  client.close();
  return code;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
