"""preserveVariables and preserveStructure: a candidate is repaired where that is safe, or
discarded; either way the event log says what happened."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whetstone.domain.templates import TemplateError, parse_variables

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|[{}]")
_HEADING = re.compile(r"^#{1,6} .*$", re.M)


@dataclass
class Checked:
    text: str | None  # None: discarded
    repairs: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


def _escape_unknown(text: str, allowed: set[str], repairs: list[str]) -> str:
    """Lone braces and variables the dataset cannot fill become literal braces."""

    def fix(m: re.Match[str]) -> str:
        token = m.group(0)
        if token in ("{{", "}}"):
            return token
        name = m.group(1)
        if name is not None and name in allowed:
            return token
        repairs.append(f"escaped {token!r}")
        return token.replace("{", "{{").replace("}", "}}")

    return _TOKEN.sub(fix, text)


def enforce(
    parent_text: str,
    new_text: str,
    *,
    allowed_variables: set[str],
    preserve_variables: bool,
    preserve_structure: bool,
) -> Checked:
    repairs: list[str] = []
    text = new_text.strip()
    if not text:
        return Checked(None, violations=["the proposal is empty"])
    text = _escape_unknown(text, allowed_variables, repairs)
    try:
        have = set(parse_variables(text))
    except TemplateError as exc:  # pragma: no cover - _escape_unknown leaves none
        return Checked(None, violations=[str(exc)])
    if preserve_variables:
        missing = [v for v in parse_variables(parent_text) if v not in have]
        if missing:
            text += "\n\n" + "\n".join(f"{{{v}}}" for v in missing)
            repairs.extend(f"restored the variable {{{v}}}" for v in missing)
    if preserve_structure and _HEADING.findall(text) != _HEADING.findall(parent_text):
        return Checked(None, repairs, ["changed the section layout (its # headings)"])
    return Checked(text, repairs)
