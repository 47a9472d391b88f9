"""Expected outputs that show each hidden rule, shared by the simulator tests."""

from __future__ import annotations

from whetstone.providers.sim.rules import RULES, infer_rules

# rule id -> expected outputs that follow it (``infer_rules`` finds the rule in each)
SHOWS: dict[str, list[str]] = {
    "json": ['{"city": "Paris"}', "[1, 2, 3]"],
    "answer_prefix": ["Answer: 42", "Answer: Paris"],
    "number_only": ["42", "-3.5"],
    "iso_date": ["2024-01-05", "1999-12-31"],
    "bullets": ["- apples\n- pears", "- one\n- two\n- three"],
    "alphabetical": ["apple, banana, cherry", "Ant, bee, Cat"],
    "uppercase": ["PARIS", "NEW YORK"],
    "lowercase": ["paris", "new york"],
    "one_word": ["Paris", "Rome"],
}

# (expected, rule it needs) for every sample above
SHOW_CASES: list[tuple[str, str]] = [(e, r) for r, outs in SHOWS.items() for e in outs]


def asking_all(expected: str, but: str | None = None, tail: str = "Question: {question}") -> str:
    """A prompt carrying an instruction for every rule ``expected`` needs, except ``but``."""
    lines = [RULES[r].instructions[0] for r in infer_rules(expected) if r != but]
    return "\n".join([*lines, "", tail]) if lines else tail
