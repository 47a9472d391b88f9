"""Prompt templates: ``{name}`` is a variable, ``{{`` and ``}}`` are literal braces."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TemplateError(ValueError):
    """A template is not well formed; the message says where and how to fix it."""


def parse_variables(template: str) -> list[str]:
    """The variable names of ``template`` in order of first appearance.

    Raises :class:`TemplateError` for a lone brace or a ``{…}`` that is not an
    identifier, naming the offending text so the user can escape it as ``{{``/``}}``.
    """
    names: dict[str, None] = {}  # a dict keeps first-appearance order; a list was O(n²)
    for match in _TOKEN.finditer(template):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if token in ("{", "}"):
            raise TemplateError(
                f"unmatched {token!r} at position {match.start()}; "
                "write '{{' or '}}' for a literal brace"
            )
        name = match.group(1)
        if not _IDENTIFIER.fullmatch(name):
            raise TemplateError(
                f"{token!r} at position {match.start()} is not a variable name "
                "(letters, digits and '_', not starting with a digit); "
                "write '{{' and '}}' for literal braces"
            )
        names[name] = None
    return list(names)


def variables_of(texts: Iterable[str]) -> list[str]:
    """The variables of several texts (the messages of a chat prompt), in order."""
    names: dict[str, None] = {}
    for text in texts:
        names.update(dict.fromkeys(parse_variables(text)))
    return list(names)


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill ``template`` with ``values``; a missing variable raises ``KeyError``."""

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = match.group(1)
        if name is None:  # a lone brace: parse_variables rejects these at creation
            return token
        value = values[name]
        return value if isinstance(value, str) else str(value)

    return _TOKEN.sub(substitute, template)
