"""Request bodies, validated at the boundary: camelCase on the wire, unknown fields rejected."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from whetstone.domain.config import JobConfig
from whetstone.domain.dataset import NewItem
from whetstone.domain.prompt import ROLES, Message, PromptBody
from whetstone.domain.templates import TemplateError, parse_variables

MAX_TEXT = 500_000
Name = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=10_000)]


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class MessageIn(Body):
    role: str
    content: Annotated[str, Field(max_length=MAX_TEXT)]

    @model_validator(mode="after")
    def _role(self) -> MessageIn:
        if self.role not in ROLES:
            raise ValueError(f"role {self.role!r} is not one of {', '.join(ROLES)}")
        return self


class PromptContentIn(Body):
    template: Annotated[str, Field(max_length=MAX_TEXT)] | None = None
    messages: Annotated[list[MessageIn], Field(min_length=1, max_length=200)] | None = None
    description: Description | None = None

    @model_validator(mode="after")
    def _one_form(self) -> PromptContentIn:
        if (self.template is None) == (self.messages is None):
            raise ValueError("give exactly one of 'template' (a string) or 'messages' (a list)")
        for text in (
            [self.template]
            if self.template is not None
            else [m.content for m in self.messages or []]
        ):
            try:
                parse_variables(text)
            except TemplateError as exc:
                raise ValueError(str(exc)) from exc
        return self

    def body(self) -> PromptBody:
        if self.template is not None:
            return PromptBody(template=self.template)
        return PromptBody(messages=tuple(Message(m.role, m.content) for m in self.messages or []))


class CreatePrompt(PromptContentIn):
    name: Name
    tags: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=50)] = []


class NewPromptVersion(PromptContentIn):
    pass


class ItemIn(Body):
    input: dict[str, Any]
    expected_output: Any = None
    metadata: dict[str, Any] | None = None

    def item(self) -> NewItem:
        return NewItem(self.input, self.expected_output, self.metadata)


class CreateDataset(Body):
    name: Name
    description: Description | None = None
    items: list[ItemIn] = []


class AddItems(Body):
    items: Annotated[list[ItemIn], Field(min_length=1)]


class CreateOptimization(Body):
    prompt_id: Annotated[str, Field(min_length=1, max_length=100)]
    dataset_id: Annotated[str, Field(min_length=1, max_length=100)]
    config: JobConfig = Field(default_factory=JobConfig)


class JobActionIn(Body):
    reason: Annotated[str, Field(max_length=1000)] | None = None
