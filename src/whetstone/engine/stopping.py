"""Stop rules, checked between steps. Cancel is the runner's; the rest are here."""

from __future__ import annotations

from whetstone.domain.config import JobConfig
from whetstone.domain.status import StopReason
from whetstone.engine.state import EngineState


def before_step(config: JobConfig, elapsed_ms: int, budget_cap: str | None) -> StopReason | None:
    """Checked before every step: wall-clock running time (pauses excluded) and budget."""
    if elapsed_ms >= config.timeout:
        return StopReason.TIMEOUT
    if budget_cap is not None:
        return StopReason.BUDGET
    return None


def after_iteration(config: JobConfig, st: EngineState) -> StopReason | None:
    """Checked when an iteration (or the baseline) completes."""
    best = st.best.full_score if st.best else None
    if config.target_score is not None and best is not None and best >= config.target_score:
        return StopReason.TARGET_SCORE
    if config.patience is not None and st.no_gain >= config.patience:
        return StopReason.PATIENCE
    if st.iteration >= config.max_iterations:
        return StopReason.MAX_ITERATIONS
    return None
