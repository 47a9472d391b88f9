"""Reading dataset items from JSONL, CSV and JSON files; every mistake names file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from whetstone.cli.itemfiles import ItemFileError, read_items


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_structured_and_flat_items(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "items.jsonl",
        '{"input": {"q": "2+2"}, "expectedOutput": "4", "metadata": {"k": 1}}\n'
        "\n"
        '{"q": "3+3", "expected_output": 6}\n'
        '{"q": "no answer"}\n',
    )
    assert read_items(path) == [
        {"input": {"q": "2+2"}, "expectedOutput": "4", "metadata": {"k": 1}},
        {"input": {"q": "3+3"}, "expectedOutput": 6},
        {"input": {"q": "no answer"}},
    ]


def test_csv_columns_become_variables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "items.csv",
        'question,context,expected_output\n"2+2","a ""quoted""\nline",4\nempty,,\n',
    )
    assert read_items(path) == [
        {"input": {"question": "2+2", "context": 'a "quoted"\nline'}, "expectedOutput": "4"},
        {"input": {"question": "empty", "context": ""}},
    ]
    camel = write(tmp_path, "camel.csv", "q,expectedOutput\nx,y\n")
    assert read_items(camel) == [{"input": {"q": "x"}, "expectedOutput": "y"}]


def test_json_list_and_items_object_and_an_export(tmp_path: Path) -> None:
    items = [{"input": {"q": "a"}, "expectedOutput": {"json": True}}, {"q": "b"}]
    as_list = write(tmp_path, "list.json", json.dumps(items))
    export = {"total": 2, "items": [{"id": "itm_1", **items[0]}, {"q": "b"}], "hasMore": False}
    as_object = write(tmp_path, "export.json", json.dumps(export, indent=2))
    expected = [{"input": {"q": "a"}, "expectedOutput": {"json": True}}, {"input": {"q": "b"}}]
    assert read_items(as_list) == expected
    assert read_items(as_object) == expected
    assert read_items(write(tmp_path, "items.data", json.dumps(items)), "json") == expected


BAD: list[tuple[str, str, str]] = [
    ("a.jsonl", '{"q": 1}\n{"q": 2}\n{"q": 3,}\n', "line 3: not valid JSON"),
    ("b.jsonl", '{"q": 1}\n[1, 2]\n', "line 2: an item must be a JSON object, not a list"),
    ("c.jsonl", '{"input": "2+2"}\n', 'line 1: "input" must be an object'),
    ("d.jsonl", '{"input": {"q": 1}, "answer": 2}\n', "line 1: unknown field(s) answer"),
    ("e.jsonl", '{"expectedOutput": "x"}\n', "line 1: the item has no input variables"),
    ("f.jsonl", '{"my var": "x"}\n', "line 1: 'my var' is not a variable name"),
    (
        "g.jsonl",
        '{"q": 1, "expectedOutput": 1, "expected_output": 1}\n',
        "line 1: give expectedOutput",
    ),
    ("h.jsonl", '{"q": 1, "metadata": [1]}\n', 'line 1: "metadata" must be an object'),
    (
        "i.json",
        '[\n  {"q": 1},\n  {"q": 2},\n  "three"\n]\n',
        "line 4: an item must be a JSON object",
    ),
    (
        "j.json",
        '{\n "name": "x",\n "meta": {"items": 1},\n "items": [\n'
        '  {"q": 1},\n  {"bad key": 2}\n ]\n}',
        "line 6: 'bad key' is not a variable name",
    ),
    ("k.json", '[{"q": 1},\n {"q": 2]\n', "line 2: not valid JSON"),
    (
        "l.json",
        '{"rows": []}',
        'line 1: expected a list of items, or an object with an "items" list',
    ),
    (
        "m.csv",
        'q,a\n1,2\n"multi\nline",3\n4,5,6\n',
        "line 5: 3 values, but the header has 2 columns",
    ),
    ("n.csv", "q,q\n1,2\n", "line 1: column 'q' appears twice"),
    ("o.csv", "q,,a\n1,2,3\n", "line 1: column 2 of the header has no name"),
    ("p.csv", "", "line 1: no header"),
    ("q.csv", "q,expected_output,expectedOutput\n1,2,3\n", "line 1: give an expectedOutput"),
    ("r.csv", "q\n", "no items in the file"),
    ("s.csv", 'q,a\n1,"unterminated\n', "not valid CSV"),
    ("t.txt", "q\n", "cannot tell the format from the name"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_mistakes_name_the_file_and_line(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ItemFileError) as caught:
        read_items(path)
    assert caught.value.message.startswith(str(path))
    assert message in caught.value.message


def test_not_utf8_and_missing_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"q": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(ItemFileError, match="not UTF-8 text"):
        read_items(latin)
    with pytest.raises(ItemFileError, match="cannot read it"):
        read_items(tmp_path / "missing.jsonl")
