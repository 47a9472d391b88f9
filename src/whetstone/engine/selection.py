"""Choosing parents: the Pareto front over per-item scores, so candidates that win on
different items survive, sampled by how many items each wins."""

from __future__ import annotations

import random

from whetstone.engine.state import Candidate


def pareto_front(pool: list[Candidate], positions: list[int]) -> dict[str, int]:
    """Candidate id -> number of items on which it has the best score (ties shared),
    for candidates not dominated by another on every item."""
    wins: dict[str, int] = {}
    for p in positions:
        key = str(p)
        top = max(c.item_scores[key][0] for c in pool)
        for c in pool:
            if c.item_scores[key][0] >= top:
                wins[c.id] = wins.get(c.id, 0) + 1
    front = [c for c in pool if c.id in wins]
    return {c.id: wins[c.id] for c in front if not _dominated(c, front, positions)}


def _dominated(c: Candidate, others: list[Candidate], positions: list[int]) -> bool:
    mine = [c.item_scores[str(p)][0] for p in positions]
    for o in others:
        if o.id == c.id:
            continue
        theirs = [o.item_scores[str(p)][0] for p in positions]
        if all(t >= m for t, m in zip(theirs, mine, strict=True)) and theirs != mine:
            return True
    return False


def sample_parent(front: dict[str, int], rng: random.Random) -> str:
    ids = sorted(front)
    return rng.choices(ids, weights=[front[i] for i in ids])[0]


def sample_pair(
    front: dict[str, int], pool: dict[str, Candidate], positions: list[int], rng: random.Random
) -> tuple[str, str] | None:
    """Two front members that win on different items: the second is weighted by the
    items where it beats the first."""
    if len(front) < 2:
        return None
    first = sample_parent(front, rng)
    a = pool[first]
    gains = {
        other: sum(
            1 for p in positions if pool[other].item_scores[str(p)][0] > a.item_scores[str(p)][0]
        )
        for other in sorted(front)
        if other != first
    }
    useful = {k: v for k, v in gains.items() if v > 0}
    if not useful:
        return None
    second = rng.choices(sorted(useful), weights=[useful[k] for k in sorted(useful)])[0]
    return first, second
