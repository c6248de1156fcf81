"""Raw files: Kaggle's zip and JSON array, JSON Lines, and every way they can be wrong."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from cuisineflow.data.rawfiles import parse_recipes, read_raw_file
from cuisineflow.errors import DataError
from tests.conftest import make_recipes, write_kaggle_zip


def test_reads_kaggle_zip_with_labels(tmp_path: Path) -> None:
    recipes = read_raw_file(write_kaggle_zip(tmp_path / "train.json.zip", make_recipes(12)))
    assert len(recipes) == 12
    assert recipes[0].id == 1000
    assert recipes[0].cuisine == "chinese"
    assert recipes[0].ingredients[-2:] == ["salt", "garnish 0-0"]


def test_a_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(make_recipes(3)).encode())
    assert [r.id for r in read_raw_file(path)] == [1000, 1001, 1002]


@pytest.mark.parametrize("name", ["my recipes%20=v2.jsonl", "a=b.json", "x%41.json"])
def test_a_name_the_lake_cannot_partition_by_is_refused(tmp_path: Path, name: str) -> None:
    from cuisineflow.data.rawfiles import split_name

    with pytest.raises(DataError, match="use letters, digits, - and _ only"):
        split_name(tmp_path / name)
    assert split_name(tmp_path / "extra-2026_b.jsonl") == "extra-2026_b"


def test_reads_json_lines_without_cuisine(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    lines = [json.dumps(r) for r in make_recipes(5, labelled=False)]
    path.write_text("\n".join(lines) + "\n\n")
    recipes = read_raw_file(path)
    assert [r.id for r in recipes] == [1000, 1001, 1002, 1003, 1004]
    assert all(r.cuisine is None for r in recipes)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            b'[{"id": "7", "ingredients": ["a"]}]',
            "x.json: not in the What's Cooking schema: record 1: field 'id': "
            "Input should be a valid integer",
        ),
        (
            b'[{"id": 1, "ingredients": ["a"]}, {"id": 2, "cuisine": "greek"}]',
            "x.json: not in the What's Cooking schema: record 2: field 'ingredients' is missing",
        ),
        (
            b'[{"id": 1, "ingredients": "salt"}]',
            "x.json: not in the What's Cooking schema: record 1: field 'ingredients': "
            "Input should be a valid array",
        ),
        (
            b'[{"id": 1, "ingredients": ["salt", 3]}]',
            "x.json: not in the What's Cooking schema: record 1: field 'ingredients.1': "
            "Input should be a valid string",
        ),
        (
            b'{"id": 1, "ingredients": ["a"]}\n{"id": 2, "ingredients": [null]}\n',
            "x.json: not in the What's Cooking schema: line 2: field 'ingredients.0': "
            "Input should be a valid string",
        ),
        (
            b'[{"id": 1180591620717411303424, "ingredients": ["salt"]}]',
            "x.json: not in the What's Cooking schema: record 1: field 'id': "
            "Input should be less than or equal to 9223372036854775807",
        ),
        (
            b"id,ingredients\n1,salt\n",
            'x.json: not recipe data; expected a JSON array of {"id", "cuisine", "ingredients"} '
            "objects, or JSON Lines of them",
        ),
    ],
)
def test_schema_errors_name_the_record_and_field(payload: bytes, message: str) -> None:
    with pytest.raises(DataError) as caught:
        parse_recipes(payload, "x.json")
    assert str(caught.value) == message


def test_many_errors_are_summarised() -> None:
    payload = json.dumps([{"id": i, "ingredients": [i]} for i in range(8)]).encode()
    with pytest.raises(DataError, match=r"record 4: .*\(and 3 more\)$"):
        parse_recipes(payload, "x.json")


def test_truncated_json_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "train.json"
    path.write_text('[{"id": 1, "ingredients": ["a"]')
    with pytest.raises(DataError, match=r"^train.json: .*invalid JSON"):
        read_raw_file(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.json", b"", "the file is empty"),
        ("none.json", b"[]", "none.json: holds no recipes"),
        ("bad.zip", b"PK\x03\x04 not really a zip", "not a valid zip archive"),
    ],
)
def test_empty_and_corrupt_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_raw_file(path)


def test_zip_must_hold_one_json_file(tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.json", "[]")
        archive.writestr("b.json", "[]")
    with pytest.raises(DataError, match=r"exactly one JSON or JSON Lines file; it holds a.json, b"):
        read_raw_file(path)
