"""Request bodies, validated at the boundary: camelCase on the wire, unknown fields rejected."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from whetstone.domain.config import JobConfig
from whetstone.domain.dataset import NewItem
from whetstone.domain.prompt import ROLES, Message, PromptBody
from whetstone.domain.templates import TemplateError, parse_variables

MAX_TEXT = 500_000
# The largest id, offset or afterEventId the store can compare (a signed 64-bit INTEGER);
# a larger one is a 400, not an overflow in the database driver.
MAX_INT = 2**63 - 1
Name = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=10_000)]


class Body(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
    )


class MessageIn(Body):
    role: str
    content: Annotated[str, Field(max_length=MAX_TEXT)]

    @model_validator(mode="after")
    def _role(self) -> MessageIn:
        if self.role not in ROLES:
            raise ValueError(f"role {self.role!r} is not one of {', '.join(ROLES)}")
        return self


def _check_template(text: str) -> str:
    try:
        parse_variables(text)
    except TemplateError as exc:
        raise ValueError(str(exc)) from exc
    return text


class PromptContentIn(Body):
    template: Annotated[str, Field(max_length=MAX_TEXT)] | None = None
    messages: Annotated[
        list[MessageIn] | None, Field(min_length=1, max_length=200, validate_default=True)
    ] = None
    description: Description | None = None

    @field_validator("template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return _check_template(value) if value is not None else None

    @field_validator("messages")
    @classmethod
    def _exactly_one_form(
        cls, value: list[MessageIn] | None, info: ValidationInfo
    ) -> list[MessageIn] | None:
        # Runs even when absent (validate_default) and after ``template``, so the error
        # names a field. A template that failed its own check is absent from info.data.
        template_failed = "template" not in info.data
        has_template = info.data.get("template") is not None
        if value is not None and has_template:
            raise ValueError("give exactly one of 'template' or 'messages', not both")
        if value is None and not has_template and not template_failed:
            raise ValueError("give exactly one of 'template' (a string) or 'messages' (a list)")
        for i, message in enumerate(value or []):
            try:
                _check_template(message.content)
            except ValueError as exc:
                raise ValueError(f"message {i}: {exc}") from exc
        return value

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
