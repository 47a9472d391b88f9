"""enforce(): preserveVariables repairs, literal-brace escaping, preserveStructure."""

from __future__ import annotations

from whetstone.domain.templates import parse_variables, render
from whetstone.engine.checks import Checked, enforce

PARENT = "Answer the question in one word.\n\n{question}"


def check(
    new_text: str,
    parent: str = PARENT,
    *,
    allowed: set[str] | None = None,
    preserve_variables: bool = True,
    preserve_structure: bool = False,
) -> Checked:
    return enforce(
        parent,
        new_text,
        allowed_variables={"question"} if allowed is None else allowed,
        preserve_variables=preserve_variables,
        preserve_structure=preserve_structure,
    )


def test_a_candidate_that_keeps_its_variables_passes_unchanged() -> None:
    result = check("Answer with a single word.\n\n{question}\n")
    assert result.text == "Answer with a single word.\n\n{question}"
    assert result.repairs == []
    assert result.violations == []


def test_a_dropped_variable_is_restored_and_reported() -> None:
    result = check("Answer with a single word.")
    assert result.text is not None
    assert result.text.startswith("Answer with a single word.")
    assert parse_variables(result.text) == ["question"]
    assert result.repairs == ["restored the variable {question}"]


def test_every_dropped_variable_is_restored() -> None:
    parent = "Context: {context}\nQuestion: {question}"
    result = check("Be precise.", parent, allowed={"context", "question"})
    assert result.text is not None
    assert sorted(parse_variables(result.text)) == ["context", "question"]
    assert len(result.repairs) == 2


def test_without_preserve_variables_a_dropped_variable_stays_dropped() -> None:
    result = check("Answer with a single word.", preserve_variables=False)
    assert result.text == "Answer with a single word."
    assert result.repairs == []


def test_a_variable_the_dataset_cannot_fill_becomes_literal_braces() -> None:
    result = check("Use the {context} if any.\n\n{question}")
    assert result.text is not None
    assert "{{context}}" in result.text
    assert parse_variables(result.text) == ["question"]
    assert render(result.text, {"question": "Q?"}) == "Use the {context} if any.\n\nQ?"
    assert any("{context}" in r and "escaped" in r for r in result.repairs)


def test_a_renamed_variable_is_escaped_and_the_original_restored() -> None:
    result = check("Answer in one word.\n\n{query}")
    assert result.text is not None
    assert parse_variables(result.text) == ["question"]
    assert "{{query}}" in result.text
    assert "restored the variable {question}" in result.repairs


def test_lone_braces_are_escaped() -> None:
    result = check('Reply as JSON like {"answer": 1} or a set }{ .\n{question}')
    assert result.text is not None
    assert parse_variables(result.text) == ["question"]  # parses: no lone brace is left
    rendered = render(result.text, {"question": "Q?"})
    assert rendered == 'Reply as JSON like {"answer": 1} or a set }{ .\nQ?'
    assert result.repairs  # the escaping is reported


def test_literal_braces_already_escaped_are_left_alone() -> None:
    result = check("Reply as {{json}}.\n{question}")
    assert result.text == "Reply as {{json}}.\n{question}"
    assert result.repairs == []


def test_empty_text_is_discarded() -> None:
    for empty in ("", "   \n\t "):
        result = check(empty)
        assert result.text is None
        assert result.violations


STRUCTURED = "# Task\nAnswer briefly.\n\n# Input\n{question}"


def test_preserve_structure_discards_a_candidate_that_changes_the_headings() -> None:
    for changed in (
        "# Goal\nAnswer briefly.\n\n# Input\n{question}",  # renamed
        "# Task\nAnswer briefly.\n\n{question}",  # dropped
        "# Task\nBe brief.\n\n# Rules\nNo lists.\n\n# Input\n{question}",  # added
        "# Input\n{question}\n\n# Task\nAnswer briefly.",  # reordered
    ):
        result = check(changed, STRUCTURED, preserve_structure=True)
        assert result.text is None, changed
        assert any("heading" in v for v in result.violations)


def test_preserve_structure_keeps_a_candidate_with_the_same_headings() -> None:
    new = "# Task\nAnswer in one word, no punctuation.\n\n# Input\n{question}"
    result = check(new, STRUCTURED, preserve_structure=True)
    assert result.text == new
    assert result.violations == []


def test_without_preserve_structure_headings_may_change() -> None:
    new = "# Goal\nAnswer briefly.\n\n{question}"
    assert check(new, STRUCTURED, preserve_structure=False).text == new
