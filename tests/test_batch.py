"""Reading recipes to predict: each bad record named by its number, in plain words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cuisineflow.data.batch import read_batch
from cuisineflow.errors import DataError


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": 1.5, "ingredients": ["salt"]},
         "field 'id': should be an integer or a string, not 1.5"),
        ({"id": 2, "ingredients": "salt"}, "field 'ingredients': Input should be a valid list"),
        ({"id": 3, "ingredients": ["salt", " "]}, "field 'ingredients': an ingredient is empty"),
        ({"id": 6, "ingredients": ["salt", 3]},
         "field 'ingredients.1': Input should be a valid string"),
        ({"id": 4, "ingredients": []}, "field 'ingredients': List should have at least 1 item"),
        # Of several problems, the first is named.
        ({"id": 5.5, "ingredients": "salt"},
         "field 'id': should be an integer or a string, not 5.5"),
        (["salt"], "field 'record': Input should be a valid dictionary"),
    ],
)  # fmt: skip
def test_a_bad_record_is_named_in_plain_words(
    record: dict[str, object], message: str, tmp_path: Path
) -> None:
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps({"id": 0, "ingredients": ["salt"]}) + "\n" + json.dumps(record))
    with pytest.raises(DataError, match="^" + re.escape(f"batch.jsonl: line 2: {message}")):
        read_batch(batch)
    assert read_batch(batch, skip_invalid=True).skipped[0].startswith("batch.jsonl: line 2: ")


def test_require_id_refuses_a_record_without_an_id(tmp_path: Path) -> None:
    batch = tmp_path / "batch.jsonl"
    records = [{"id": 0, "ingredients": ["salt"]}, {"ingredients": ["salt"]}]
    batch.write_text("\n".join(json.dumps(record) for record in records))
    assert [r.id for r in read_batch(batch).recipes] == [0, None]  # an id is optional
    message = "batch.jsonl: line 2: field 'id': kaggle-csv needs an id"
    with pytest.raises(DataError, match="^" + re.escape(message)):
        read_batch(batch, require_id=True)
    assert read_batch(batch, skip_invalid=True, require_id=True).skipped == [message]


def test_bytes_that_are_not_utf8_are_a_bad_record(tmp_path: Path) -> None:
    batch = tmp_path / "latin1.jsonl"
    good = json.dumps({"id": 0, "ingredients": ["salt"]}).encode()
    batch.write_bytes(good + b"\n" + '{"id": 1, "ingredients": ["crème"]}'.encode("latin-1"))
    with pytest.raises(DataError, match=r"^latin1.jsonl: line 2: invalid JSON"):
        read_batch(batch)
    skipped = read_batch(batch, skip_invalid=True)
    assert [r.id for r in skipped.recipes] == [0]
    assert len(skipped.skipped) == 1
    array = tmp_path / "latin1.json"
    array.write_bytes('[{"id": 1, "ingredients": ["crème"]}]'.encode("latin-1"))
    with pytest.raises(DataError, match=r"^latin1.json: invalid JSON \(.*utf-8"):
        read_batch(array)


def test_predict_loads_no_training_library(tiny_model: Path, tmp_path: Path) -> None:
    # scikit-learn alone takes about 2.6 s to import: predict's 3 s budget for 9,944 recipes.
    import subprocess
    import sys

    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([{"id": 1, "ingredients": ["soy sauce", "ginger"]}]))
    code = (
        "import sys; from typer.testing import CliRunner; from cuisineflow.cli import app; "
        f"result = CliRunner().invoke(app, ['predict', {str(batch)!r}, '--model', "
        f"{str(tiny_model)!r}]); assert result.exit_code == 0, result.output; "
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout
    for heavy in ("sklearn", "lightgbm", "scipy", "duckdb", "dvc", "pandas", "fastapi"):
        assert f"'{heavy}'" not in loaded, heavy


def test_a_loaded_predictor_has_built_its_term_lookups(tiny_model: Path) -> None:
    # Built at load, so that a server's or Lambda's first request does not wait for them.
    from cuisineflow.predict import Predictor

    blocks = Predictor(tiny_model).featurizer.blocks
    lookup = {"word_pairs": "_pair_keys", "words_and_bigrams": "index"}
    assert [lookup[b.params.analyzer] in b.__dict__ for b in blocks] == [True, True]
