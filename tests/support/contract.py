"""The contract as the tests state it, written out from PROTOCOL.md and docs/events.md rather
than derived from the code under test."""

from __future__ import annotations

# The stage of each event type outside iteration 0 (where all but the final are baseline).
STAGES = {
    "job_started": "baseline",
    "iteration_start": "mutation",
    "mutation_generated": "mutation",
    "evaluation_start": "evaluation",
    "evaluation_complete": "evaluation",
    "new_best": "selection",
    "iteration_complete": "selection",
    "job_paused": "selection",
    "job_resumed": "selection",
    "job_complete": "finished",
    "job_failed": "finished",
    "job_cancelled": "finished",
}
USAGE_FIELDS = frozenset({"llmCalls", "inputTokens", "outputTokens", "costUsd"})
# Whetstone's additions to PROTOCOL's usage: calls answered by the response cache.
CACHE_USAGE_FIELDS = frozenset({"cachedCalls", "cachedCostUsd"})
RESULTS_FIELDS = frozenset(
    {
        "jobId",
        "status",
        "initialScore",
        "finalScore",
        "improvement",
        "relativeImprovement",
        "bestPrompt",
        "resultPromptId",
        "iterations",
        "stopReason",
        "history",
        "usage",
    }
)
