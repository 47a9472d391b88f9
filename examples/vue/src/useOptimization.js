// useOptimization(client, jobId): one job followed live with whetstone.js, as Vue refs.
//
// `client` and `jobId` may be plain values, refs or getters; a change starts over.
// Returns refs {status, iteration, events, bestScore, best, connectionState, error, done}:
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
// published to the refs at most once per animation frame. The subscription ends when the
// component (effect scope) goes away, when the client or job id changes, and when the job
// ends.
import { ref, shallowRef, toValue, watch } from "vue";

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
  const status = ref(null);
  const iteration = ref(null);
  const events = shallowRef([]);
  const bestScore = ref(null);
  const best = shallowRef(null);
  const connectionState = ref("idle");
  const error = shallowRef(null);
  const done = ref(false);

  function publish(state) {
    status.value = state.status;
    iteration.value = state.iteration;
    events.value = state.events;
    bestScore.value = state.bestScore;
    best.value = state.best;
    error.value = state.error;
    done.value = state.done;
  }

  watch(
    () => toValue(client),
    (c, _old, onCleanup) => {
      connectionState.value = c?.connectionState ?? "idle";
      if (c) onCleanup(c.onConnectionChange((next) => (connectionState.value = next)));
    },
    { immediate: true },
  );

  watch(
    [() => toValue(client), () => toValue(jobId)],
    ([c, id], _old, onCleanup) => {
      let current = initial(c, id);
      publish(current);
      if (!c || !id) return;
      let active = true;
      let frame = null;
      const render = () => {
        frame = null;
        if (active) publish(current);
      };
      const later = () => {
        if (frame === null) frame = nextFrame(render);
      };
      const now = () => {
        if (frame !== null) cancelFrame(frame);
        render();
      };

      const sub = c.subscribe(id, {
        afterEventId: 0,
        onEvent: (event) => {
          current = withEvent(current, event, c);
          later();
        },
        onComplete: () => {
          current = { ...current, done: true };
          now();
          sub.unsubscribe(); // already ended by the client; explicit all the same
        },
        onError: (err) => {
          current = { ...current, done: true, error: err };
          now();
          sub.unsubscribe();
        },
      });

      // The status before the first event arrives (e.g. "queued"), if no event is newer.
      c.optimizations.get(id).then(
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
        (err) => {
          if (!active || current.error) return;
          current = { ...current, error: err };
          later();
        },
      );

      onCleanup(() => {
        active = false;
        if (frame !== null) cancelFrame(frame);
        sub.unsubscribe();
      });
    },
    { immediate: true },
  );

  return { status, iteration, events, bestScore, best, connectionState, error, done };
}
