"""Batch prediction: reading recipes (each bad record named by its number, in plain words),
predicting them, and writing the predictions out."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from cuisineflow.data.batch import read_batch
from cuisineflow.errors import DataError
from cuisineflow.features import Featurizer
from cuisineflow.models.artifact import save_model
from cuisineflow.models.ensemble import Ensemble
from cuisineflow.models.linear import LinearClassifier
from cuisineflow.params import FeatureBlockParams
from cuisineflow.predict import Prediction, Predictor, format_predictions
from cuisineflow.registry import read_registered
from tests.conftest import typical_recipes


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
        ({"id": True, "ingredients": ["salt"]},
         "field 'id': should be an integer or a string, not true"),
        # JSON can spell a lone surrogate, which UTF-8 (the log, a CSV) cannot write.
        ({"id": "a\ud83c", "ingredients": ["salt"]},
         "field 'id': should be text UTF-8 can encode, not a lone surrogate"),
        ({"id": 7, "ingredients": ["salt", "\udc00"]},
         "field 'ingredients': item 2 should be text UTF-8 can encode, not a lone surrogate"),
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


@pytest.mark.parametrize("name", ["my batch.json", "batch(1).json", "récettes.jsonl", "a=b.json"])
def test_a_batch_file_may_have_any_name(name: str, tmp_path: Path) -> None:
    # Only raw files name a split of the lake; a batch to predict is named as its user likes.
    batch = tmp_path / name
    batch.write_text(json.dumps([{"id": 7, "ingredients": ["salt"]}]))
    assert [r.id for r in read_batch(batch).recipes] == [7]


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
    # fsspec and pyarrow (a store's) took about 0.3 s of it, through the storage package.
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
    heavy_libraries = ("sklearn", "lightgbm", "scipy", "duckdb", "dvc", "pandas", "fastapi",
                       "fsspec", "pyarrow")  # fmt: skip
    for heavy in heavy_libraries:
        assert f"'{heavy}'" not in loaded, heavy


def test_an_output_the_system_refuses_is_one_error_line(tiny_model: Path, tmp_path: Path) -> None:
    from tests.conftest import cli

    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([{"id": 1, "ingredients": ["soy sauce", "ginger"]}]))
    too_long = tmp_path / ("a" * 300 + ".jsonl")  # over the file system's 255 bytes
    failed = cli("predict", str(batch), "--model", str(tiny_model), "--output", str(too_long),
                 cwd=tmp_path, check=False)  # fmt: skip
    assert failed.returncode == 1
    assert failed.stderr == f"error: {too_long}: File name too long\n"  # no traceback
    assert [p.name for p in tmp_path.iterdir()] == ["batch.json"]  # nor a temporary file


def test_output_to_a_pipe_is_written_to_it_not_replaced(tiny_model: Path, tmp_path: Path) -> None:
    # A FIFO (or >(...), /dev/stdout) must reach its reader: a temporary file renamed over it
    # left the reader waiting and a regular file in the pipe's place.
    import os
    import stat
    import threading

    from tests.conftest import cli

    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([{"id": 1, "ingredients": ["soy sauce", "ginger"]}]))
    expected = cli("predict", str(batch), "--model", str(tiny_model), "--format", "kaggle-csv",
                   cwd=tmp_path).stdout  # fmt: skip
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    written = cli("predict", str(batch), "--model", str(tiny_model), "--format", "kaggle-csv",
                  "--output", str(pipe), cwd=tmp_path, timeout=60)  # fmt: skip
    assert written.stderr == f"1 predictions written to {pipe}\n"
    assert stat.S_ISFIFO(pipe.lstat().st_mode)  # still the pipe
    reader.join(timeout=30)
    assert received == [expected.encode()]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.json", "pipe"]


def test_output_to_dev_stdout_goes_where_the_shell_sent_it(
    tiny_model: Path, tmp_path: Path
) -> None:
    # `--output /dev/stdout >> all.csv`: /dev/stdout leads to all.csv, which must be
    # appended to through the shell's descriptor, not replaced by a new file.
    import subprocess
    import sys

    from tests.conftest import cli

    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([{"id": 1, "ingredients": ["soy sauce", "ginger"]}]))
    expected = cli("predict", str(batch), "--model", str(tiny_model), "--format", "kaggle-csv",
                   cwd=tmp_path).stdout  # fmt: skip
    collected = tmp_path / "all.csv"
    collected.write_text("EARLIER\n")
    with collected.open("a") as sink:
        subprocess.run(
            [sys.executable, "-m", "cuisineflow", "predict", str(batch), "--model", str(tiny_model),
             "--format", "kaggle-csv", "--output", "/dev/stdout"],
            cwd=tmp_path, stdout=sink, check=True, timeout=60,
        )  # fmt: skip
    assert collected.read_text() == "EARLIER\n" + expected
    assert Path("/dev/stdout").is_symlink()  # left as it was


def test_output_through_a_symbolic_link_writes_its_target(tiny_model: Path, tmp_path: Path) -> None:
    from tests.conftest import cli

    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([{"id": 1, "ingredients": ["soy sauce", "ginger"]}]))
    expected = cli("predict", str(batch), "--model", str(tiny_model), cwd=tmp_path).stdout
    (tmp_path / "kept").mkdir()
    target = tmp_path / "kept" / "predictions.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(Path("kept") / "predictions.jsonl")  # relative, as ln -s makes it
    cli("predict", str(batch), "--model", str(tiny_model), "--output", str(link), cwd=tmp_path)
    assert link.is_symlink()
    assert target.read_text() == expected
    assert sorted(p.name for p in target.parent.iterdir()) == ["predictions.jsonl"]
    dangling = tmp_path / "dangling.jsonl"
    dangling.symlink_to("kept/new.jsonl")  # a link to a file not there yet: created
    cli("predict", str(batch), "--model", str(tiny_model), "--output", str(dangling), cwd=tmp_path)
    assert dangling.is_symlink()
    assert (tmp_path / "kept" / "new.jsonl").read_text() == expected


def test_kaggle_csv_warns_of_ids_that_differ_only_in_json_type(
    tiny_model: Path, tmp_path: Path
) -> None:
    from tests.conftest import cli

    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([{"id": 5, "ingredients": ["salt"]},
                                 {"id": "5", "ingredients": ["lime"]},
                                 {"id": "05", "ingredients": ["basil"]}]))  # fmt: skip
    result = cli("predict", str(batch), "--model", str(tiny_model), "--format", "kaggle-csv",
                 cwd=tmp_path)  # fmt: skip
    assert [row.split(",")[0] for row in result.stdout.splitlines()] == ["id", "5", "5", "05"]
    assert result.stderr == f"warning: 1 ids appear more than once in {batch}\n"


def test_a_loaded_predictor_has_built_its_term_lookups(tiny_model: Path) -> None:
    # Built at load, so that a server's or Lambda's first request does not wait for them.
    blocks = Predictor(tiny_model).featurizer.blocks
    lookup = {"word_pairs": "_pair_keys", "words_and_bigrams": "index"}
    assert [lookup[b.params.analyzer] in b.__dict__ for b in blocks] == [True, True]


PREDICTIONS = [
    Prediction("mexican", 0.9, [{"cuisine": "mexican", "probability": 0.9}]),
    Prediction("italian", 0.6, [{"cuisine": "italian", "probability": 0.6}]),
]


def test_jsonl_predictions_are_one_object_a_line() -> None:
    assert format_predictions([1, None], PREDICTIONS, "jsonl") == (
        '{"id": 1, "cuisine": "mexican", "confidence": 0.9, '
        '"top": [{"cuisine": "mexican", "probability": 0.9}]}\n'
        '{"id": null, "cuisine": "italian", "confidence": 0.6, '
        '"top": [{"cuisine": "italian", "probability": 0.6}]}\n'
    )  # an id is optional in JSON Lines


def test_kaggle_csv_is_a_header_then_id_and_cuisine() -> None:
    csv = format_predictions([1, "a,b"], PREDICTIONS, "kaggle-csv")
    assert csv == 'id,cuisine\n1,mexican\n"a,b",italian\n'  # "\n", not the csv module's "\r\n"
    with pytest.raises(DataError, match=r"^kaggle-csv needs an id on every recipe$"):
        format_predictions([1, None], PREDICTIONS, "kaggle-csv")


@pytest.mark.parametrize("output_format", ["jsonl", "kaggle-csv"])
def test_more_predictions_than_ids_is_an_error(output_format: str) -> None:
    # Not a shorter output: the predictions past the last id would go missing unnoticed.
    with pytest.raises(ValueError, match=r"^1 ids for 2 predictions$"):
        format_predictions([1], PREDICTIONS, output_format)


def test_predictions_are_the_top_three_probabilities_rounded(tiny_model: Path) -> None:
    predictor = Predictor(tiny_model)
    recipes = [["soy sauce", "ginger", "sesame oil"], ["tortillas", "cumin", "black beans"]]
    recipes.append(["salt"])  # in every cuisine: probabilities far from 0 and 1 to round
    probabilities = predictor.predict_proba(recipes)
    predictions = predictor.predict(recipes)
    assert [p.cuisine for p in predictions[:2]] == ["chinese", "mexican"]
    for prediction, row in zip(predictions, probabilities, strict=True):
        top = [t["probability"] for t in prediction.top]
        assert len(top) == 3  # by default
        assert top == sorted(top, reverse=True)
        assert prediction.confidence == top[0] == round(float(row.max()), 6)
        expected = sorted(row, reverse=True)[:3]
        assert top == [round(float(p), 6) for p in expected]  # six decimals, no fewer or more
        assert [predictor.classes.index(t["cuisine"]) for t in prediction.top] == [
            list(row).index(p) for p in expected
        ]
    assert predictor.predict([]) == []


def test_threads_predict_runs_of_recipes_with_the_same_result(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    predictor = Predictor(tiny_model)
    recipes = typical_recipes(2_500, seed=3)
    alone = predictor.predict_proba(recipes)
    featurized = predictor.featurizer.rows
    runs: list[int] = []  # the runs of recipes each thread featurized (the real code runs)
    monkeypatch.setattr(
        predictor.featurizer, "rows", lambda run: runs.append(len(run)) or featurized(run)
    )
    threaded = predictor.predict_proba(recipes, threads=4)
    assert sorted(runs) == [1_250, 1_250]  # no run under 1,000 recipes
    np.testing.assert_array_equal(threaded, alone)  # the same rows, in input order
    assert predictor.predict(recipes, threads=2) == predictor.predict(recipes)
    runs.clear()
    predictor.predict_proba(recipes[:1_999], threads=4)
    assert runs == [1_999]


def test_tied_probabilities_keep_the_column_order(tmp_path: Path) -> None:
    # numpy's default sort is not stable (SIMD on some CPUs): ties would order by chance.
    featurizer = Featurizer.fit([FeatureBlockParams(analyzer="ingredients")], [["salt"]])
    linear = LinearClassifier(
        classes=("chinese", "indian", "italian", "mexican"),
        coef=np.zeros((4, 1), dtype=np.float32),
        intercept=np.log([1.0, 1.0, 2.0, 2.0]).astype(np.float32),  # p = (1, 1, 2, 2) / 6
        calibration="temperature",
        calibration_params=np.array([1.0]),
    )
    save_model(tmp_path, featurizer, Ensemble(linear))
    [prediction] = Predictor(tmp_path, top_k=4).predict([["salt"]])
    assert [t["cuisine"] for t in prediction.top] == ["italian", "mexican", "chinese", "indian"]


def test_registered_model_record_is_read_once_the_register_stage_wrote_it(tmp_path: Path) -> None:
    assert read_registered(tmp_path) is None  # before the pipeline's register stage ran
    (tmp_path / "models").mkdir()
    record = {"name": "cuisine", "version": 3, "alias": "latest"}
    (tmp_path / "models" / "registered.json").write_text(json.dumps(record))
    assert read_registered(tmp_path) == record
