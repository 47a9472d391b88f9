"""The Results object of PROTOCOL.md, derived from a job and its run summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from whetstone.domain.config import is_simulated
from whetstone.domain.job import Job
from whetstone.domain.prompt import PromptBody
from whetstone.domain.status import JobStatus


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    iteration: int
    best_score: float | None
    scores: list[float] = field(default_factory=list)

    def to_wire(self) -> dict[str, Any]:
        return {"iteration": self.iteration, "bestScore": self.best_score, "scores": self.scores}


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a run has found so far; kept with every checkpoint, so a job cancelled while
    paused still reports its best prompt."""

    best_prompt: PromptBody
    iterations: int = 0
    history: tuple[HistoryEntry, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        return {
            "bestPrompt": self.best_prompt.to_wire(),
            "iterations": self.iterations,
            "history": [h.to_wire() for h in self.history],
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> RunSummary:
        return cls(
            best_prompt=PromptBody.from_wire(data["bestPrompt"]),
            iterations=int(data.get("iterations", 0)),
            history=tuple(
                HistoryEntry(h["iteration"], h.get("bestScore"), list(h.get("scores", [])))
                for h in data.get("history", [])
            ),
        )


def build_results(
    job: Job,
    summary: RunSummary,
    *,
    status: JobStatus,
    stop_reason: str | None,
    result_prompt_id: str | None,
) -> dict[str, Any]:
    initial, final = job.initial_score, job.best_score
    improvement = final - initial if initial is not None and final is not None else None
    relative = improvement / initial if improvement is not None and initial else None
    return {
        "jobId": job.id,
        "status": status.value,
        "initialScore": initial,
        "finalScore": final,
        "improvement": improvement,
        "relativeImprovement": relative,
        "bestPrompt": summary.best_prompt.to_wire(),
        "resultPromptId": result_prompt_id,
        "iterations": summary.iterations,
        "stopReason": stop_reason,
        "history": [h.to_wire() for h in summary.history],
        "usage": job.usage.to_wire(),
        "simulated": is_simulated(job.config),
    }
