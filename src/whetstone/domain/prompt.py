"""Prompts: one raw template or a list of chat messages, kept as numbered versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from whetstone.domain.templates import variables_of

ROLES = ("system", "user", "assistant")


class PromptSource(StrEnum):
    USER = "user"
    OPTIMIZATION = "optimization"


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str

    def to_wire(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class PromptBody:
    """What a prompt says: exactly one of ``template`` or ``messages``."""

    template: str | None = None
    messages: tuple[Message, ...] | None = None

    def __post_init__(self) -> None:
        if (self.template is None) == (self.messages is None):
            raise ValueError("a prompt has exactly one of 'template' or 'messages'")

    def texts(self) -> list[str]:
        if self.template is not None:
            return [self.template]
        return [m.content for m in self.messages or ()]

    @property
    def variables(self) -> list[str]:
        return variables_of(self.texts())

    def to_wire(self) -> dict[str, Any]:
        if self.template is not None:
            return {"template": self.template}
        return {"messages": [m.to_wire() for m in self.messages or ()]}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> PromptBody:
        if data.get("template") is not None:
            return cls(template=str(data["template"]))
        return cls(messages=tuple(Message(m["role"], m["content"]) for m in data["messages"]))


@dataclass(frozen=True, slots=True)
class Prompt:
    id: str
    workspace_id: str
    family_id: str
    name: str
    version: int
    is_latest: bool
    description: str | None
    tags: tuple[str, ...]
    body: PromptBody
    source: PromptSource
    job_id: str | None
    created_at: datetime

    @property
    def variables(self) -> list[str]:
        return self.body.variables
