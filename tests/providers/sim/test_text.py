"""How the simulated mutator reads a prompt: instructions, worked examples and the tail."""

from __future__ import annotations

import pytest

from whetstone.providers.sim.text import PromptText, example_block

PROMPT = (
    "Be helpful and precise.\n"
    "  Answer the question.  \n"
    "\n"
    "Example:\n"
    "Input: 1+1\n"
    "Output: 2\n"
    "\n"
    "Example:\n"
    "Input: 2+3\n"
    "Output: 5\n"
    "\n"
    "Question: {question}\n"
    "\n"
    "Context: {context}\n"
    "Thanks, Example: not an example here"
)


def test_parse_splits_instructions_examples_and_tail() -> None:
    text = PromptText.parse(PROMPT)
    assert text.instructions == ["Be helpful and precise.", "Answer the question."]
    assert text.examples == [
        "Example:\nInput: 1+1\nOutput: 2",
        "Example:\nInput: 2+3\nOutput: 5",
    ]
    assert text.tail == [
        "Question: {question}",
        "",
        "Context: {context}",
        "Thanks, Example: not an example here",
    ]


def test_render_keeps_the_tail_word_for_word() -> None:
    rendered = PromptText.parse(PROMPT).render()
    assert rendered.endswith(
        "Question: {question}\n\nContext: {context}\nThanks, Example: not an example here"
    )
    assert rendered.startswith("Be helpful and precise.\nAnswer the question.\n\nExample:\n")


@pytest.mark.parametrize(
    "text",
    [
        PromptText(["Do this.", "Do that."], ["Example:\nInput: a\nOutput: b"], ["Q: {q}"]),
        PromptText(["Only instructions."], [], []),
        PromptText([], ["Example:\nInput: a\nOutput: b"], ["{q}"]),
        PromptText([], [], ["{q}", "", "more tail"]),
        PromptText(["A.", "B."], ["Example:\nInput: a\nOutput: - x\n- y"], ["{a} and {b}"]),
    ],
)
def test_parse_of_render_gives_the_same_parts(text: PromptText) -> None:
    assert PromptText.parse(text.render()) == text


@pytest.mark.parametrize(
    ("prompt", "tail"),
    [
        ("No variables at all.", []),
        ("Line one.\nUse {{braces}} literally.", []),
        ("Intro.\nName: {name_1}\nAge: {age}", ["Name: {name_1}", "Age: {age}"]),
        ("{x}", ["{x}"]),
        ("Intro.\nCode {{x}} and {y}", ["Code {{x}} and {y}"]),
        ("Intro.\nnot a var {1x} or { x }", []),
    ],
)
def test_the_tail_starts_at_the_first_variable(prompt: str, tail: list[str]) -> None:
    assert PromptText.parse(prompt).tail == tail


def test_a_prompt_without_variables_is_all_head() -> None:
    text = PromptText.parse("First.\n\nSecond.")
    assert text.instructions == ["First.", "Second."]
    assert text.render() == "First.\nSecond."


def test_add_appends_once() -> None:
    text = PromptText.parse("Be brief.\n{q}")
    text.add("Sort the items alphabetically.")
    text.add("Sort the items alphabetically.")
    text.add("Be brief.")
    assert text.instructions == ["Be brief.", "Sort the items alphabetically."]
    assert text.render() == "Be brief.\nSort the items alphabetically.\n\n{q}"


def test_render_of_nothing_is_empty() -> None:
    assert PromptText().render() == ""
    assert PromptText(tail=["{q}"]).render() == "{q}"


def test_example_block_is_the_format_parse_reads() -> None:
    block = example_block("2+2", "4")
    assert block == "Example:\nInput: 2+2\nOutput: 4"
    assert PromptText.parse(f"{block}\n\n{{q}}").examples == [block]
