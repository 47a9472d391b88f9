"""Prompt templates: ``{name}`` variables, ``{{``/``}}`` literal braces, helpful errors."""

from __future__ import annotations

from typing import Any

import pytest

from whetstone.domain.templates import TemplateError, parse_variables, render, variables_of


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("", []),
        ("no variables here", []),
        ("{a}", ["a"]),
        ("Hello {name}, you are {age}.", ["name", "age"]),
        ("{b} then {a} then {b} again", ["b", "a"]),
        (
            "{_private} {x1} {CamelCase} {snake_case_2}",
            ["_private", "x1", "CamelCase", "snake_case_2"],
        ),
        ("{{literal}}", []),
        ("{{ not a variable }}", []),
        ('JSON like {{"key": "{value}"}}', ["value"]),
        ("{{{wrapped}}}", ["wrapped"]),
        ("{a}{b}{a}{c}", ["a", "b", "c"]),
        ("multi\nline {first}\n{second}\n", ["first", "second"]),
    ],
)
def test_parse_variables_in_order_of_first_appearance(template: str, expected: list[str]) -> None:
    assert parse_variables(template) == expected


@pytest.mark.parametrize(
    "template",
    [
        "{",
        "}",
        "lone { brace",
        "lone } brace",
        "{unclosed",
        "unopened}",
        "{a}}",
        "{{a}",
        "{}",
        "{ }",
        "{ name }",
        "{1abc}",
        "{a-b}",
        "{a.b}",
        "{a b}",
        "{name!r}",
        "{name:>10}",
        "{0}",
    ],
)
def test_malformed_templates_are_rejected(template: str) -> None:
    with pytest.raises(TemplateError):
        parse_variables(template)


@pytest.mark.parametrize("template", ["{name\n}", "{\nname}", "{name\t}"])
def test_whitespace_inside_braces_is_not_a_variable_name(template: str) -> None:
    # A variable name is an identifier; a trailing newline is not part of one.
    with pytest.raises(TemplateError):
        parse_variables(template)


@pytest.mark.parametrize(
    ("template", "offending"),
    [
        ("price: {", "'{'"),
        ("a } b", "'}'"),
        ("x {not valid} y", "'{not valid}'"),
    ],
)
def test_error_message_names_the_text_and_says_how_to_fix(template: str, offending: str) -> None:
    with pytest.raises(TemplateError) as info:
        parse_variables(template)
    message = str(info.value)
    assert offending in message
    assert "'{{'" in message
    assert "'}}'" in message


def test_error_message_gives_the_position() -> None:
    with pytest.raises(TemplateError, match="position 6"):
        parse_variables("Hello { world")


def test_template_error_is_a_value_error() -> None:
    assert issubclass(TemplateError, ValueError)


def test_variables_of_several_texts_keeps_first_appearance() -> None:
    texts = ["You are {role}.", "Answer {question} as {role}.", "{{ignored}} {format}"]
    assert variables_of(texts) == ["role", "question", "format"]


def test_variables_of_no_texts_is_empty() -> None:
    assert variables_of([]) == []


def test_variables_of_rejects_a_bad_text() -> None:
    with pytest.raises(TemplateError):
        variables_of(["{ok}", "{not ok}"])


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        ("", {}, ""),
        ("plain", {"unused": "x"}, "plain"),
        ("Hello {name}!", {"name": "Ada"}, "Hello Ada!"),
        ("{a}{b}{a}", {"a": "1", "b": "2"}, "121"),
        ("{{name}}", {"name": "Ada"}, "{name}"),
        ("{{{name}}}", {"name": "Ada"}, "{Ada}"),
        ('{{"k": "{v}"}}', {"v": "x"}, '{"k": "x"}'),
        ("n={n} f={f} none={z}", {"n": 3, "f": 0.5, "z": None}, "n=3 f=0.5 none=None"),
    ],
)
def test_render(template: str, values: dict[str, Any], expected: str) -> None:
    assert render(template, values) == expected


def test_render_does_not_substitute_inside_values() -> None:
    assert render("{a} {b}", {"a": "{b}", "b": "{{x}}"}) == "{b} {{x}}"


def test_render_missing_variable_raises_key_error() -> None:
    with pytest.raises(KeyError, match="missing"):
        render("{present} {missing}", {"present": "here"})


def test_render_fills_every_parsed_variable() -> None:
    template = "Q: {question}\nContext: {context}\n{{json}}: {question}"
    names = parse_variables(template)
    rendered = render(template, {name: f"<{name}>" for name in names})
    assert rendered == "Q: <question>\nContext: <context>\n{json}: <question>"
