// A job's live state, folded from its events (pure: no DOM). The job page replays every
// event from id 1, so the state after a reload is the state before it.

const TERMINAL = { job_complete: "completed", job_failed: "failed", job_cancelled: "cancelled" };

/** The state before any event, from the Job object of the REST API (may be null). */
export function initialState(job) {
  const config = (job && job.config) || {};
  return {
    status: (job && job.status) || "queued",
    pendingAction: (job && job.pendingAction) || null,
    maxIterations: config.maxIterations ?? null,
    iteration: 0,
    stage: null,
    initialScore: null,
    bestScore: null,
    bestPrompt: null,
    bestCandidateId: null,
    // candidateId -> {candidateId, iteration, score, phase}: one per candidate, its full
    // evaluation when it had one, else its minibatch score.
    candidates: new Map(),
    // [{iteration, score}]: the best score after each iteration (0 = the baseline).
    bestLine: [],
    usage: (job && job.usage) || null,
    results: null,
    error: null,
    pauseReason: null,
    lastEventId: 0,
    eventCount: 0,
  };
}

function setBestPoint(state, iteration, value) {
  if (value === null || value === undefined) return;
  const last = state.bestLine[state.bestLine.length - 1];
  if (last && last.iteration === iteration) last.score = value;
  else if (!last || last.iteration < iteration) state.bestLine.push({ iteration, score: value });
}

function onEvaluation(state, event) {
  const d = event.data || {};
  if (d.score === null || d.score === undefined) return;
  const previous = state.candidates.get(d.candidateId);
  if (!previous || previous.phase !== "full" || d.phase === "full") {
    state.candidates.set(d.candidateId, {
      candidateId: d.candidateId,
      iteration: event.iteration,
      score: d.score,
      phase: d.phase || "full",
    });
  }
  if (d.phase === "baseline" || d.candidateId === "baseline") {
    state.initialScore = d.score;
    if (state.bestScore === null) state.bestScore = d.score;
    setBestPoint(state, 0, d.score);
  }
}

/** Fold one event into `state` (in place). Events must come in id order. */
export function applyEvent(state, event) {
  const d = event.data || {};
  state.lastEventId = Math.max(state.lastEventId, event.id || 0);
  state.eventCount += 1;
  if (event.stage) state.stage = event.stage;
  if (typeof event.iteration === "number") state.iteration = Math.max(state.iteration, event.iteration);
  switch (event.eventType) {
    case "job_started":
      state.status = "running";
      if (d.config && d.config.maxIterations) state.maxIterations = d.config.maxIterations;
      break;
    case "evaluation_complete":
      onEvaluation(state, event);
      break;
    case "new_best":
      state.bestScore = d.score;
      state.bestPrompt = d.prompt || state.bestPrompt;
      state.bestCandidateId = d.candidateId;
      break;
    case "iteration_complete":
      if (d.bestScore !== undefined) state.bestScore = d.bestScore;
      setBestPoint(state, event.iteration, d.bestScore);
      if (d.usage) state.usage = d.usage;
      break;
    case "job_paused":
      state.status = "paused";
      state.pendingAction = null;
      state.pauseReason = d.reason || null;
      break;
    case "job_resumed":
      state.status = "running";
      state.pendingAction = null;
      state.pauseReason = null;
      break;
    case "job_complete":
      state.results = d.results || null;
      if (state.results) {
        state.bestScore = state.results.finalScore ?? state.bestScore;
        state.bestPrompt = state.results.bestPrompt || state.bestPrompt;
        if (state.results.usage) state.usage = state.results.usage;
      }
      break;
    case "job_failed":
      state.error = d.error || null;
      break;
    case "job_cancelled":
      state.pauseReason = null;
      break;
    default:
      break;
  }
  if (TERMINAL[event.eventType]) {
    state.status = event.eventType === "job_failed" && d.willRetry ? "queued" : TERMINAL[event.eventType];
    state.pendingAction = null;
    if (state.status !== "queued") state.stage = "finished";
  }
}

/** A one-line summary of an event for the log. */
export function summarize(event) {
  const d = event.data || {};
  const score = (v) => (v === null || v === undefined ? "–" : Number(v).toFixed(3));
  switch (event.eventType) {
    case "job_started":
      return "job started";
    case "iteration_start":
      return `iteration ${event.iteration} started`;
    case "mutation_generated":
      return `${d.candidateId} by ${d.mutationType}${d.status === "discarded" ? " (discarded)" : ""}`;
    case "evaluation_start":
      return `${d.candidateId}: evaluating on ${d.itemCount} items${d.phase ? ` (${d.phase})` : ""}`;
    case "evaluation_complete":
      if (d.aborted) return `${d.candidateId}: evaluation cut short (${d.aborted})`;
      return `${d.candidateId}: ${score(d.score)}${d.phase ? ` (${d.phase})` : ""}${d.promoted ? ", promoted" : ""}`;
    case "new_best":
      return `new best ${d.candidateId}: ${score(d.score)} (+${score(d.improvement)})`;
    case "iteration_complete":
      return `iteration ${event.iteration} done, best ${score(d.bestScore)}`;
    case "job_paused":
      return `paused${d.reason ? `: ${d.reason}` : ""}`;
    case "job_resumed":
      return "resumed";
    case "job_complete":
      return d.results ? `completed: ${score(d.results.finalScore)} (${d.results.stopReason})` : "completed";
    case "job_failed":
      return `failed: ${(d.error && d.error.message) || "unknown error"}${d.willRetry ? " (will retry)" : ""}`;
    case "job_cancelled":
      return `cancelled${d.reason ? `: ${d.reason}` : ""}`;
    default:
      return event.eventType;
  }
}
