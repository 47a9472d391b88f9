"""The Pareto front over per-item scores, and sampling parents from it."""

from __future__ import annotations

import random
from collections import Counter

from whetstone.engine.selection import pareto_front, sample_pair, sample_parent
from whetstone.engine.state import Candidate

POSITIONS = [0, 1, 2, 3]


def cand(cid: str, scores: list[float]) -> Candidate:
    return Candidate(
        id=cid,
        body={"template": f"prompt {cid}\n{{question}}"},
        parents=[],
        mutation_type=None,
        iteration=0,
        item_scores={str(p): [s, s] for p, s in zip(POSITIONS, scores, strict=True)},
    )


A = cand("a", [1.0, 1.0, 0.0, 0.5])
B = cand("b", [0.0, 0.0, 1.0, 0.5])
C = cand("c", [1.0, 0.5, 0.0, 0.5])  # ties A on items 0 and 3, worse on 1: dominated by A
D = cand("d", [0.2, 0.2, 0.2, 0.2])  # best on no item


def test_front_counts_wins_per_item_sharing_ties() -> None:
    assert pareto_front([A, B], POSITIONS) == {"a": 3, "b": 2}  # item 3 is a tie


def test_candidates_that_win_nothing_or_are_dominated_are_left_out() -> None:
    assert pareto_front([A, B, C, D], POSITIONS) == {"a": 3, "b": 2}


def test_front_ignores_pool_order() -> None:
    assert pareto_front([D, C, B, A], POSITIONS) == pareto_front([A, B, C, D], POSITIONS)


def test_identical_candidates_both_stay_on_the_front() -> None:
    twin = cand("a2", [1.0, 1.0, 0.0, 0.5])
    assert pareto_front([A, twin, B], POSITIONS) == {"a": 3, "a2": 3, "b": 2}


def test_front_is_computed_on_the_given_positions_only() -> None:
    # On items 0 and 1 alone, B wins nothing.
    assert pareto_front([A, B, D], [0, 1]) == {"a": 2}
    # On item 2 alone, B is the only winner.
    assert pareto_front([A, B, C], [2]) == {"b": 1}


def test_a_single_candidate_is_its_own_front() -> None:
    assert pareto_front([D], POSITIONS) == {"d": 4}


def test_sample_parent_is_weighted_by_wins() -> None:
    rng = random.Random(1)
    drawn = Counter(sample_parent({"a": 9, "b": 1}, rng) for _ in range(2000))
    assert set(drawn) == {"a", "b"}
    assert 0.85 < drawn["a"] / 2000 < 0.95


def test_sample_parent_is_deterministic_for_a_seeded_rng() -> None:
    front = {"a": 3, "b": 2, "c": 1}
    rng1, rng2 = random.Random(42), random.Random(42)
    seq1 = [sample_parent(front, rng1) for _ in range(50)]
    seq2 = [sample_parent(front, rng2) for _ in range(50)]
    assert seq1 == seq2
    assert len(set(seq1)) == 3  # not constant: the draws really are random
    other = random.Random(43)
    assert [sample_parent(front, other) for _ in range(50)] != seq1


def test_sample_parent_does_not_depend_on_the_order_of_the_front() -> None:
    forward = {"a": 3, "b": 2, "c": 1}
    backward = dict(reversed(list(forward.items())))
    rng1, rng2 = random.Random(7), random.Random(7)
    assert [sample_parent(forward, rng1) for _ in range(50)] == [
        sample_parent(backward, rng2) for _ in range(50)
    ]


def test_sample_pair_returns_two_candidates_that_win_on_different_items() -> None:
    pool = {c.id: c for c in (A, B)}
    front = pareto_front(list(pool.values()), POSITIONS)
    seen = set()
    for seed in range(30):
        pair = sample_pair(front, pool, POSITIONS, random.Random(seed))
        assert pair is not None
        first, second = pair
        assert {first, second} == {"a", "b"}
        one, two = pool[first], pool[second]
        assert any(two.item_scores[str(p)][0] > one.item_scores[str(p)][0] for p in POSITIONS)
        assert any(one.item_scores[str(p)][0] > two.item_scores[str(p)][0] for p in POSITIONS)
        seen.add(pair)
    assert seen == {("a", "b"), ("b", "a")}


def test_sample_pair_second_parent_gains_over_the_first() -> None:
    e = cand("e", [0.0, 1.0, 0.0, 1.0])  # beats A only on item 3
    pool = {c.id: c for c in (A, B, e)}
    front = pareto_front(list(pool.values()), POSITIONS)
    assert set(front) == {"a", "b", "e"}
    for seed in range(30):
        pair = sample_pair(front, pool, POSITIONS, random.Random(seed))
        assert pair is not None
        first, second = pair
        assert first != second
        assert any(
            pool[second].item_scores[str(p)][0] > pool[first].item_scores[str(p)][0]
            for p in POSITIONS
        )


def test_sample_pair_is_deterministic_for_a_seeded_rng() -> None:
    e = cand("e", [0.0, 1.0, 0.0, 1.0])
    pool = {c.id: c for c in (A, B, e)}
    front = pareto_front(list(pool.values()), POSITIONS)
    runs = [
        [sample_pair(front, pool, POSITIONS, rng) for _ in range(20)]
        for rng in (random.Random(5), random.Random(5))
    ]
    assert runs[0] == runs[1]


def test_sample_pair_is_none_with_fewer_than_two_on_the_front() -> None:
    pool = {"a": A}
    assert sample_pair({"a": 4}, pool, POSITIONS, random.Random(0)) is None
    assert sample_pair({}, pool, POSITIONS, random.Random(0)) is None


def test_sample_pair_is_none_when_no_pair_helps() -> None:
    twin = cand("a2", [1.0, 1.0, 0.0, 0.5])  # identical to A: neither gains anything
    pool = {c.id: c for c in (A, twin)}
    front = pareto_front(list(pool.values()), POSITIONS)
    assert set(front) == {"a", "a2"}
    for seed in range(10):
        assert sample_pair(front, pool, POSITIONS, random.Random(seed)) is None
