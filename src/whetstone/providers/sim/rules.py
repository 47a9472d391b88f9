"""The hidden requirements of the simulated world.

A simulated item needs some rules (an output format, a case, a label…). The
simulated task model answers an item right only when the prompt carries every
rule it needs, by an instruction (``pattern``) or by a worked example whose
output shows the rule. A missing rule bends the answer the way a real model
would get it wrong (``violate``), and the simulated judge names it (``missing``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    instructions: tuple[str, ...]  # what a mutator writes; each matches ``pattern``
    pattern: re.Pattern[str]  # in a prompt: the rule is asked for
    shows: Callable[[str], bool]  # an output that follows the rule
    violate: Callable[[str], str]  # the answer a model gives without the rule
    missing: str  # the judge's feedback when the rule was not followed

    def asked_by(self, prompt: str) -> bool:
        return self.pattern.search(prompt) is not None


def _is_json(s: str) -> bool:
    try:
        return isinstance(json.loads(s), dict | list)
    except ValueError:
        return False


def _json_as_text(s: str) -> str:
    value = json.loads(s)
    if isinstance(value, dict):
        return "; ".join(f"{k} is {v}" for k, v in value.items())
    return ", ".join(map(str, value))


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_LETTERS = re.compile(r"[A-Za-z]")


def _calendar_date(s: str) -> date | None:
    found = _DATE.fullmatch(s)
    if found is None:
        return None
    try:
        return date(*(int(x) for x in found.groups()))
    except ValueError:  # 2023-02-30 looks like a date and is none
        return None


def _human_date(s: str) -> str:
    """How a model writes a date it was not told the format of; a date-shaped answer that
    is no calendar date (2023-02-30) comes out as 2023/02/30."""
    day = _calendar_date(s)
    if day is not None:
        return day.strftime("%B %-d, %Y")
    return s.replace("-", "/") if _DATE.fullmatch(s) else s


def _other_case(s: str) -> str:
    """What a model writes without a case instruction: capitalised (a lone letter lower)."""
    bent = s.lower().capitalize()
    return bent if bent != s else s.lower()


def _bullets(s: str) -> bool:
    lines = s.splitlines()
    return len(lines) >= 2 and all(line.startswith("- ") for line in lines)


def _alphabetical(s: str) -> bool:
    parts = [p.strip() for p in s.split(",")]
    return len(parts) >= 2 and parts == sorted(parts, key=str.lower)


def _plain(s: str) -> bool:
    return bool(_LETTERS.search(s)) and not _is_json(s)


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "json",
            ("Respond with a JSON object only.", "Return the answer as valid JSON, nothing else."),
            re.compile(r"\bjson\b", re.I),
            _is_json,
            lambda s: _json_as_text(s) if _is_json(s) else s,
            "The answer must be valid JSON.",
        ),
        Rule(
            "answer_prefix",
            ("Start the reply with 'Answer: '.", "Begin your reply with the label 'Answer: '."),
            re.compile(r"answer: ?'|'answer: ?|label 'answer", re.I),
            lambda s: s.startswith("Answer: "),
            lambda s: s.removeprefix("Answer: "),
            "The reply must start with 'Answer: '.",
        ),
        Rule(
            "number_only",
            ("Reply with just the number, no words.", "Give only the number as the answer."),
            re.compile(r"just the number|only the number|digits only", re.I),
            lambda s: _NUMBER.fullmatch(s.removeprefix("Answer: ")) is not None,
            lambda s: f"The result is {s}.",
            "The answer must be the number alone, without words.",
        ),
        Rule(
            "iso_date",
            ("Write dates in ISO format (YYYY-MM-DD).", "Give dates as YYYY-MM-DD (ISO 8601)."),
            re.compile(r"yyyy-mm-dd|\biso\b", re.I),
            lambda s: _DATE.fullmatch(s.removeprefix("Answer: ")) is not None,
            _human_date,
            "Dates must be written as YYYY-MM-DD.",
        ),
        Rule(
            "bullets",
            ("Format the answer as a bulleted list, one '- ' item per line.",),
            re.compile(r"bullet", re.I),
            _bullets,
            lambda s: ", ".join(line.removeprefix("- ") for line in s.splitlines()),
            "The answer must be a bulleted list with one '- ' item per line.",
        ),
        Rule(
            "alphabetical",
            ("List the items in alphabetical order.", "Sort the items alphabetically."),
            re.compile(r"alphabetical", re.I),
            _alphabetical,
            lambda s: ", ".join(reversed([p.strip() for p in s.split(",")])),
            "The items must be in alphabetical order.",
        ),
        Rule(
            "uppercase",
            ("Write the answer in uppercase letters.", "Answer in ALL CAPS (uppercase)."),
            re.compile(r"upper[- ]?case|all caps|capital letters", re.I),
            lambda s: _plain(s) and s == s.upper(),
            _other_case,
            "The answer must be in uppercase letters.",
        ),
        Rule(
            "lowercase",
            ("Write the answer in lowercase letters.", "Use only lowercase letters."),
            re.compile(r"lower[- ]?case", re.I),
            lambda s: _plain(s) and s == s.lower(),
            lambda s: s.title(),
            "The answer must be in lowercase letters.",
        ),
        Rule(
            "one_word",
            ("Answer with a single word.", "Reply with one word only, no explanation."),
            re.compile(r"\b(single|one)[- ]word\b", re.I),
            lambda s: _plain(s) and len(s.split()) == 1,
            lambda s: f"The answer is {s}.",
            "The answer must be a single word, without explanation.",
        ),
    )
}

# Instructions that sound useful and change nothing: what a mutator writes when it misses.
FILLER: tuple[str, ...] = (
    "Be accurate and careful.",
    "Think about the question before answering.",
    "Be helpful and precise.",
    "Double-check the answer.",
)

# Asking for one of these while an item needs the other bends the answer the wrong way.
CONFLICTS: dict[str, tuple[str, Callable[[str], str]]] = {
    "uppercase": ("lowercase", str.upper),
    "lowercase": ("uppercase", str.lower),
}


def infer_rules(expected: str) -> list[str]:
    """The rules an expected output shows, for datasets that do not name them."""
    if _is_json(expected):
        return ["json"]
    found: list[str] = []
    rest = expected
    if expected.startswith("Answer: "):
        found.append("answer_prefix")
        rest = expected.removeprefix("Answer: ")
    for rule_id in ("number_only", "iso_date", "bullets", "alphabetical", "uppercase"):
        if RULES[rule_id].shows(rest):
            found.append(rule_id)
    if "uppercase" not in found and RULES["lowercase"].shows(rest) and rest != rest.upper():
        found.append("lowercase")
    if RULES["one_word"].shows(rest) and "number_only" not in found:
        found.append("one_word")
    return found


# An example's output runs to the end of its block: bullets span several lines.
_EXAMPLE_OUTPUT = re.compile(r"^Output: ?(.+?)(?=\n\s*\n|\nExample:|\Z)", re.M | re.S)


def satisfied(rule_ids: Iterable[str], prompt: str) -> set[str]:
    """The rules among ``rule_ids`` that ``prompt`` asks for or demonstrates by an example."""
    examples = [m.group(1).strip() for m in _EXAMPLE_OUTPUT.finditer(prompt)]
    found = set()
    for rule_id in rule_ids:
        rule = RULES[rule_id]
        if rule.asked_by(prompt) or any(rule.shows(x) for x in examples):
            found.add(rule_id)
    return found
