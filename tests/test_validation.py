"""Validation rules: each one fires on the record built to break it, and the counts add up."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cuisineflow.data.validation import (
    REJECT_RULES,
    InvalidJson,
    RawRecord,
    ValidationResult,
    validate_records,
)
from cuisineflow.errors import DataError
from cuisineflow.features import stored_ingredient
from cuisineflow.params import ValidateParams
from cuisineflow.schemas import INT64_MAX, INT64_MIN, known_cuisine
from tests.conftest import PROJECT

GOOD = {"id": 1, "cuisine": "greek", "ingredients": ["feta cheese", "olive oil", "oregano"]}

BAD: dict[str, Any] = {
    "not_json": InvalidJson('{"id": 2, "ingredients": ['),
    "not_an_object": [2, "greek"],
    "id_not_integer": {"id": "3", "ingredients": ["salt"]},
    "id_out_of_range": {"id": 2**70, "ingredients": ["salt"]},
    "duplicate_id": {"id": 1, "ingredients": ["salt"]},
    "unknown_cuisine": {"id": 4, "cuisine": "martian", "ingredients": ["salt"]},
    "ingredients_not_list": {"id": 5, "ingredients": "salt, pepper"},
    "ingredient_not_string": {"id": 6, "ingredients": ["salt", 7]},
    "no_ingredients": {"id": 7, "ingredients": []},
    "empty_ingredient": {"id": 8, "ingredients": ["salt", "  "]},
    "forbidden_character": {"id": 9, "ingredients": ["salt|pepper"]},
    "too_many_ingredients": {"id": 10, "ingredients": [f"spice {i}" for i in range(6)]},
    "duplicate_recipe": {
        "id": 11,
        "cuisine": "greek",
        "ingredients": ["oregano", "Feta Cheese", "olive oil"],
    },
}


def records(values: list[Any]) -> list[RawRecord]:
    return [RawRecord("train.jsonl", "train", i + 1, v) for i, v in enumerate(values)]


def test_every_rule_fires_once_and_counts_add_up() -> None:
    params = ValidateParams(max_ingredients=5)
    result = validate_records(records([GOOD, *BAD.values()]), params)
    assert [row["reason"] for row in result.rejected] == list(BAD)
    assert set(BAD) == set(REJECT_RULES)
    assert result.metrics()["rejected_by_rule"] == dict.fromkeys(REJECT_RULES, 1)
    assert [row["id"] for row in result.valid] == [1]
    assert len(result.valid) + len(result.rejected) == result.total == 1 + len(BAD)
    assert result.rejected_fraction == pytest.approx(13 / 14)
    # The quarantine keeps the record as it came, with where it came from.
    unknown = result.rejected[5]
    assert unknown == {
        "source": "train.jsonl",
        "position": 7,
        "reason": "unknown_cuisine",
        "record": BAD["unknown_cuisine"],
    }
    assert result.rejected[0]["record"] == '{"id": 2, "ingredients": ['


def test_values_of_the_wrong_type_are_quarantined_not_a_crash() -> None:
    values = [
        {"id": True, "ingredients": ["salt"]},  # a bool is an int in Python, not an id
        {"id": 2, "cuisine": 5, "ingredients": ["salt"]},
    ]
    result = validate_records(records(values), ValidateParams())
    assert [row["reason"] for row in result.rejected] == ["id_not_integer", "unknown_cuisine"]


def test_the_int64_limits_themselves_are_in_range() -> None:
    values = [
        {"id": INT64_MAX, "ingredients": ["salt"]},
        {"id": INT64_MIN, "ingredients": ["pepper"]},
        {"id": INT64_MAX + 1, "ingredients": ["salt"]},
        {"id": INT64_MIN - 1, "ingredients": ["salt"]},
    ]
    result = validate_records(records(values), ValidateParams())
    assert [row["id"] for row in result.valid] == [INT64_MAX, INT64_MIN]
    assert [row["reason"] for row in result.rejected] == ["id_out_of_range"] * 2


def test_exactly_max_ingredients_is_kept() -> None:
    values = [
        {"id": 1, "ingredients": ["a", "b", "c"]},
        {"id": 2, "ingredients": ["a", "b", "c", "d"]},
    ]
    result = validate_records(records(values), ValidateParams(max_ingredients=3))
    assert [row["id"] for row in result.valid] == [1]
    assert [row["reason"] for row in result.rejected] == ["too_many_ingredients"]


def test_any_forbidden_character_and_unprintable_text_are_refused() -> None:
    values = [
        {"id": 1, "ingredients": ["salt;pepper"]},  # the second of two forbidden characters
        {"id": 2, "ingredients": ["salt\x07"]},  # a control character
    ]
    result = validate_records(records(values), ValidateParams(forbidden_characters="|;"))
    assert [row["reason"] for row in result.rejected] == ["forbidden_character"] * 2


def test_where_names_the_record_as_a_person_counts() -> None:
    # Record numbers in a JSON array and line numbers in JSON Lines, both from 1.
    assert RawRecord("a.json", "train", 1, {}).where == "record 1"
    assert RawRecord("a.jsonl", "train", 3, {}, in_lines=True).where == "line 3"


def test_metrics_of_an_empty_and_a_mixed_run() -> None:
    assert ValidationResult().rejected_fraction == 0.0  # no records: nothing quarantined
    values = [
        {"id": 1, "ingredients": ["salt"]},
        {"id": 1, "ingredients": ["salt"]},  # a duplicate id
        {"id": 2, "ingredients": ["oil"]},
    ]
    metrics = validate_records(records(values), ValidateParams()).metrics()
    assert (metrics["records"], metrics["valid"], metrics["rejected"]) == (3, 2, 1)
    assert metrics["rejected_fraction"] == 0.333333  # rounded to 6 places
    assert metrics["rejected_by_rule"]["duplicate_id"] == 1


def test_duplicates_can_be_kept() -> None:
    twin = {**GOOD, "id": 2}
    result = validate_records(records([GOOD, twin]), ValidateParams(duplicate_recipes="keep"))
    assert [row["id"] for row in result.valid] == [1, 2]


def test_unlabelled_duplicates_are_kept() -> None:
    first = {"id": 1, "ingredients": ["salt", "water"]}
    result = validate_records(records([first, {**first, "id": 2}]), ValidateParams())
    assert len(result.valid) == 2


def test_normalisation_fixes_and_counts_oddities() -> None:
    odd = {
        "id": 5,
        "cuisine": " Italian ",
        "ingredients": [
            "Parmigiano\u00a0Reggiano",
            "  olive   oil ",
            "Knorr\u00ae Bouillon",
            "olive oil",
        ],
    }
    result = validate_records(records([odd]), ValidateParams())
    assert result.valid == [
        {
            "id": 5,
            "cuisine": "italian",
            "ingredients": ["parmigiano reggiano", "olive oil", "knorr bouillon"],
            "n_ingredients": 3,
            "split": "train",
        }
    ]
    assert result.metrics()["normalised"] == {
        "whitespace": 1,
        "case": 1,
        "unicode": 1,
        "repeated_ingredient": 1,
    }


@pytest.mark.parametrize(
    ("raw", "expected", "fixes"),
    [
        ("garlic", "garlic", set()),
        ("Garlic", "garlic", {"case"}),
        ("creme\u0301 fraiche", "cremé fraiche", {"unicode"}),
        ("  sea   salt\t", "sea salt", {"whitespace"}),
        ("\uff33oy sauce", "soy sauce", {"unicode", "case"}),
        # Marks go, not spelt out as NFKC would spell ™ and ℠ ("gianttm").
        ("Green Giant™ sliced mushrooms", "green giant sliced mushrooms", {"unicode", "case"}),
        ("Betty Crocker℠ mix", "betty crocker mix", {"unicode", "case"}),
        ("™", "", {"unicode"}),  # then quarantined as an empty ingredient, as "®" is
    ],
)
def test_stored_ingredient(raw: str, expected: str, fixes: set[str]) -> None:
    assert stored_ingredient(raw) == (expected, fixes)


def test_a_failed_validation_keeps_the_last_validated_data(tmp_path: Path) -> None:
    from cuisineflow.stages import validate

    shutil.copyfile(PROJECT / "params.yaml", tmp_path / "params.yaml")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    records = [GOOD, *(value for value in BAD.values() if isinstance(value, dict))]
    lines = [json.dumps(record) for record in records]
    (tmp_path / "data" / "raw" / "extra.jsonl").write_text("\n".join(lines))
    validated = tmp_path / validate.VALIDATED_DIR / "recipes.parquet"
    validated.parent.mkdir(parents=True)
    validated.write_bytes(b"the last good data")
    with pytest.raises(DataError, match=r"quarantined (\d+) of 12 .*max_rejected") as failed:
        validate.run(tmp_path)
    assert validated.read_bytes() == b"the last good data"
    quarantined = (tmp_path / validate.QUARANTINE_DIR / "rejected.jsonl").read_text()
    reported = int(str(failed.value).split()[2])
    assert len(quarantined.splitlines()) == reported >= 9  # there to look into


def test_a_lone_surrogate_is_quarantined_and_written_back_as_its_escape(tmp_path: Path) -> None:
    from cuisineflow.stages import validate

    shutil.copyfile(PROJECT / "params.yaml", tmp_path / "params.yaml")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    lines = [
        json.dumps({**GOOD, "id": i, "ingredients": [*GOOD["ingredients"], f"herb {i}"]})
        for i in range(40)
    ]
    lines.append('{"id": 99, "cuisine": "thai", "ingredients": ["fish sauce\\ud83d", "lime"]}')
    (tmp_path / "data" / "raw" / "extra.jsonl").write_text("\n".join(lines))
    result = validate.run(tmp_path)
    assert result.rejected_by_rule == {"forbidden_character": 1}
    quarantined = (tmp_path / validate.QUARANTINE_DIR / "rejected.jsonl").read_text()
    assert json.loads(quarantined)["record"]["ingredients"] == ["fish sauce\ud83d", "lime"]


def test_known_cuisine_is_the_stored_form_or_none() -> None:
    assert known_cuisine(" Southern_US\t") == "southern_us"
    assert known_cuisine("CAJUN_CREOLE") == "cajun_creole"
    assert known_cuisine("southern us") is None  # a space is not the underscore
    assert known_cuisine("klingon") is None
    assert known_cuisine("") is None


def test_a_validation_that_keeps_no_recipe_fails(tmp_path: Path) -> None:
    from cuisineflow.stages import validate

    (tmp_path / "params.yaml").write_text("validate:\n  max_rejected_fraction: 1\n")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "train.json").write_text(
        '[{"id": 1, "cuisine": "martian", "ingredients": ["a"]}]'
    )
    with pytest.raises(
        DataError,
        match=r"^validation kept no valid recipes: 1 of 1 records quarantined; "
        r"see data/quarantine/rejected.jsonl$",
    ):
        validate.run(tmp_path)
    assert not (tmp_path / validate.VALIDATED_DIR).exists()
    quarantined = (tmp_path / validate.QUARANTINE_DIR / "rejected.jsonl").read_text()
    assert json.loads(quarantined)["reason"] == "unknown_cuisine"


def test_raw_data_of_no_records_says_so_not_that_it_was_quarantined(tmp_path: Path) -> None:
    from cuisineflow.stages import validate

    (tmp_path / "params.yaml").write_text("validate:\n  max_rejected_fraction: 1\n")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "train.json").write_text("[]")
    with pytest.raises(
        DataError,
        match=r"^data/raw holds no records: train\.json is an empty JSON array; "
        r"run `cuisineflow data import SOURCE` with recipes$",
    ):
        validate.run(tmp_path)
    (tmp_path / "data" / "raw" / "test.json").write_text("[ ]\n")
    with pytest.raises(DataError, match=r": test\.json, train\.json are empty JSON arrays; run"):
        validate.run(tmp_path)
    assert not (tmp_path / validate.VALIDATED_DIR).exists()


def test_the_quarantine_keeps_each_record_as_it_came_in_valid_json(tmp_path: Path) -> None:
    from cuisineflow.stages import validate

    (tmp_path / "params.yaml").write_text("validate:\n  max_rejected_fraction: 1\n")
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "extra.jsonl").write_bytes(
        b'{"id": 1, "cuisine": "greek", "ingredients": ["feta"]}\n'
        b'{"id": 2, "ingredients": ["cr\xe8me"]}\n'  # Latin-1, not UTF-8
        b"1e400\n"
        b'{"id": NaN, "ingredients": ["salt"]}\n'
    )
    (raw / "more.json").write_text('[{"id": 5, "ingredients": ["lime"]}, [5]]')
    validate.run(tmp_path)
    text = (tmp_path / validate.QUARANTINE_DIR / "rejected.jsonl").read_text()
    rows = [json.loads(line, parse_constant=pytest.fail) for line in text.splitlines()]
    assert [(row["source"], row["position"], row["reason"], row["record"]) for row in rows] == [
        ("extra.jsonl", 2, "not_json", '{"id": 2, "ingredients": ["cr\\xe8me"]}'),
        ("extra.jsonl", 3, "not_an_object", "1e400"),
        ("extra.jsonl", 4, "id_not_integer", '{"id": NaN, "ingredients": ["salt"]}'),
        ("more.json", 2, "not_an_object", [5]),  # record 2, as `predict` names it
    ]
