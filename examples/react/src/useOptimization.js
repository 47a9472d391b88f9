// useOptimization(client, jobId): one job followed live with whetstone.js, as React state.
//
// Returns {status, iteration, events, bestScore, best, connectionState, error, done}:
// - status: the job's status (from its events; from GET /api/optimizations/{id} until the
//   first one arrives), e.g. "queued", "running", "paused", "completed";
// - events: the last KEEP events, oldest first (the wire objects);
// - bestScore / best: the best score so far and client.bestResult(jobId) (stored in
//   localStorage by the client, so a page refresh shows it before any event arrives);
// - connectionState: the client's ("connecting", "connected", "reconnecting", …);
// - error: a WhetstoneError (job_failed, unauthorized, not_found, …) or null;
// - done: true once the job has ended (or the subscription failed).
//
// Events can arrive by the hundred (a replay); they are folded into one pending state and
// rendered at most once per animation frame. The subscription ends on unmount, when the
// client or the job id changes, and when the job ends.
import { useEffect, useState } from "react";

export const KEEP = 50;

const STATUS_OF = {
  job_started: "running",
  iteration_start: "running",
  job_resumed: "running",
  job_paused: "paused",
  job_complete: "completed",
  job_failed: "failed",
  job_cancelled: "cancelled",
};

function initial(client, jobId) {
  const best = client && jobId ? client.bestResult(jobId) : null;
  return {
    status: null,
    iteration: null,
    events: [],
    bestScore: best?.score ?? null,
    best,
    error: null,
    done: false,
    lastEventId: 0,
  };
}

function withEvent(state, event, client) {
  const data = event.data ?? {};
  let bestScore = state.bestScore;
  if (event.eventType === "new_best" && typeof data.score === "number") bestScore = data.score;
  if (event.eventType === "iteration_complete" && typeof data.bestScore === "number") {
    bestScore = data.bestScore;
  }
  if (event.eventType === "job_complete" && typeof data.results?.finalScore === "number") {
    bestScore = data.results.finalScore;
  }
  const events = state.events.length >= KEEP ? state.events.slice(1 - KEEP) : state.events.slice();
  events.push(event);
  return {
    ...state,
    status: STATUS_OF[event.eventType] ?? state.status,
    iteration: event.iteration ?? state.iteration,
    events,
    bestScore,
    best: client.bestResult(event.jobId) ?? state.best,
    lastEventId: event.id,
  };
}

const nextFrame =
  typeof requestAnimationFrame === "function"
    ? (cb) => requestAnimationFrame(cb)
    : (cb) => setTimeout(cb, 16);
const cancelFrame =
  typeof cancelAnimationFrame === "function"
    ? (handle) => cancelAnimationFrame(handle)
    : (handle) => clearTimeout(handle);

export function useOptimization(client, jobId) {
  const [state, setState] = useState(() => initial(client, jobId));
  const [connectionState, setConnectionState] = useState(client?.connectionState ?? "idle");

  useEffect(() => {
    if (!client) return undefined;
    setConnectionState(client.connectionState);
    return client.onConnectionChange((next) => setConnectionState(next));
  }, [client]);

  useEffect(() => {
    let current = initial(client, jobId);
    setState(current);
    if (!client || !jobId) return undefined;
    let active = true;
    let frame = null;
    const render = () => {
      frame = null;
      if (active) setState(current);
    };
    const later = () => {
      if (frame === null) frame = nextFrame(render);
    };
    const now = () => {
      if (frame !== null) cancelFrame(frame);
      render();
    };

    const sub = client.subscribe(jobId, {
      afterEventId: 0,
      onEvent: (event) => {
        current = withEvent(current, event, client);
        later();
      },
      onComplete: () => {
        current = { ...current, done: true };
        now();
        sub.unsubscribe(); // already ended by the client; explicit all the same
      },
      onError: (error) => {
        current = { ...current, done: true, error };
        now();
        sub.unsubscribe();
      },
    });

    // The status before the first event arrives (e.g. "queued"), if no event is newer.
    client.optimizations.get(jobId).then(
      (job) => {
        if (!active || current.done || current.lastEventId > job.lastEventId) return;
        current = {
          ...current,
          status: job.status,
          iteration: current.iteration ?? job.currentIteration ?? null,
          bestScore: current.bestScore ?? job.bestScore ?? null,
        };
        later();
      },
      (error) => {
        if (!active || current.error) return;
        current = { ...current, error };
        later();
      },
    );

    return () => {
      active = false;
      if (frame !== null) cancelFrame(frame);
      sub.unsubscribe();
    };
  }, [client, jobId]);

  const { status, iteration, events, bestScore, best, error, done } = state;
  return { status, iteration, events, bestScore, best, connectionState, error, done };
}
