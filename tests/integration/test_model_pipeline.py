"""The whole pipeline through DVC on a small data set written here, then predict and experiments."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.conftest import (
    CHROMIUM_ARGS,
    PROJECT,
    cli,
    copy_of_project,
    git,
    make_recipes,
    write_kaggle_zip,
)

pytestmark = pytest.mark.integration


def check_plots(plots: Path, accuracy: float, n: int, per_cuisine: dict[str, Any]) -> None:
    """The plot CSVs say what the metrics say."""
    with (plots / "confusion.csv").open() as handle:
        pairs = [(row["actual"], row["predicted"]) for row in csv.DictReader(handle)]
    assert len(pairs) == n
    assert sum(a == p for a, p in pairs) / n == pytest.approx(accuracy)
    with (plots / "calibration.csv").open() as handle:
        assert sum(int(row["count"]) for row in csv.DictReader(handle)) == n
    with (plots / "per_cuisine.csv").open() as handle:
        written = {row.pop("cuisine"): row for row in csv.DictReader(handle)}
    assert written == {
        c: {k: str(round(m[k], 4)) for k in ("precision", "recall", "f1")}
        | {"support": str(int(m["support"]))}
        for c, m in per_cuisine.items()
    }


def dvc(*args: str, cwd: Path) -> str:
    return subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},
    ).stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("pipeline")
    project = copy_of_project(base / "project")
    source = base / "source"
    write_kaggle_zip(source / "train.json.zip", make_recipes(240))
    unlabelled = [{**r, "id": 9000 + i} for i, r in enumerate(make_recipes(12, 5, False))]
    (source / "test.json").write_text(json.dumps(unlabelled))
    env = {"CUISINEFLOW_STORE": str(base / "store")}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        cli("run", "--source", str(source), cwd=project)
        git("add", "-A", cwd=project)
        git("commit", "-q", "-m", "pipeline run", cwd=project)
        yield project


def test_pipeline_writes_metrics_plots_and_model(project: Path) -> None:
    split = json.loads((project / "metrics" / "split.json").read_text())
    assert split == {"train": 192, "valid": 24, "test": 24}
    evaluation = json.loads((project / "metrics" / "evaluate.json").read_text())
    assert list(evaluation) == ["test"]  # valid is learnt from under the default fit_on
    test = evaluation["test"]
    assert test["n"] == 24
    assert test["accuracy"] >= 0.9  # four cuisines with distinct typical ingredients
    assert test["accuracy_ci_low"] < test["accuracy"] <= test["accuracy_ci_high"] <= 1.0
    assert 0.0 <= test["expected_calibration_error"] <= 1.0
    per_cuisine = json.loads((project / "metrics" / "per_cuisine_test.json").read_text())
    assert sorted(per_cuisine) == ["chinese", "indian", "italian", "mexican"]
    assert (project / "plots" / "confusion.csv").read_text().startswith("actual,predicted\n")
    assert len((project / "plots" / "confusion.csv").read_text().splitlines()) == 25
    check_plots(project / "plots", test["accuracy"], 24, per_cuisine)
    spec = json.loads((project / "models" / "cuisine" / "model.json").read_text())
    assert spec["classes"] == ["chinese", "indian", "italian", "mexican"]
    assert spec["trees"] == {"weight": 0.3}  # the default params blend in boosted trees
    import numpy as np

    splits = np.load(project / "models" / "cuisine" / "trees-node_feature.npy")
    assert len(splits) > 0  # the trees split on features, not single leaves


def test_plots_agree_with_the_metrics_when_predictions_are_wrong(
    tiny_model: Path, tmp_path: Path
) -> None:
    # The pipeline's test split is predicted without a mistake, where precision and recall
    # are all 1.0: here some labels are wrong, so that they differ.
    from cuisineflow.params import EvaluateParams
    from cuisineflow.predict import Predictor
    from cuisineflow.scoring import score
    from cuisineflow.stages.evaluate import _write_plots

    predictor = Predictor(tiny_model)
    recipes = [r["ingredients"] for r in make_recipes(40, seed=3)]
    labels = [r["cuisine"] for r in make_recipes(40, seed=3)]
    labels[:6] = ["italian"] * 6  # a chinese, indian, italian, mexican, chinese, indian recipe
    scores = score(predictor, recipes, labels, EvaluateParams())
    per_cuisine = scores.metrics["per_cuisine"]
    assert per_cuisine["italian"]["recall"] < per_cuisine["italian"]["precision"] == 1.0
    assert per_cuisine["chinese"]["precision"] < per_cuisine["chinese"]["recall"] == 1.0
    _write_plots(tmp_path, scores, predictor.classes)
    check_plots(tmp_path, scores.metrics["accuracy"], 40, per_cuisine)


def test_served_model_is_refit_on_every_labelled_recipe(project: Path) -> None:
    from collections import Counter

    import numpy as np

    from cuisineflow.features import normalise_recipe, words_and_bigrams
    from cuisineflow.models.artifact import load_model

    assert json.loads((project / "metrics" / "train.json").read_text())["fit_rows"] == 216
    assert json.loads((project / "metrics" / "refit.json").read_text())["fit_rows"] == 240
    served, _, _ = load_model(project / "models" / "cuisine")
    evaluated, _, _ = load_model(project / "models" / "evaluated")
    # The served vocabulary's IDF counts all 240 recipes, test split included.
    document_frequency: Counter[str] = Counter()
    for recipe in make_recipes(240):
        document_frequency.update(set(words_and_bigrams(normalise_recipe(recipe["ingredients"]))))
    block = served.blocks[0]
    expected = [np.log(241 / (1 + document_frequency[t])) + 1 for t in block.terms]
    np.testing.assert_allclose(block.idf, expected, rtol=1e-6)
    assert not np.allclose(evaluated.blocks[0].idf[: len(block.terms)], expected)


def test_predict_jsonl_and_kaggle_csv(project: Path, tmp_path: Path) -> None:
    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        '{"id": 1, "ingredients": ["soy sauce", "ginger", "scallions", "sesame oil"]}\n'
        '{"id": 2, "cuisine": "ignored", "ingredients": ["tortillas", "cumin", "black beans"]}\n'
        '{"id": 3, "ingredients": ["SESAME OIL", "Scallions", "ginger", "Soy Sauce"]}\n'
    )
    lines = [json.loads(x) for x in cli("predict", str(batch), cwd=project).stdout.splitlines()]
    assert [(p["id"], p["cuisine"]) for p in lines] == [
        (1, "chinese"),
        (2, "mexican"),
        (3, "chinese"),
    ]
    assert len(lines[0]["top"]) == 3
    assert lines[0]["top"][0] == {"cuisine": "chinese", "probability": lines[0]["confidence"]}
    # Order and letter case of ingredients change nothing.
    assert lines[0]["top"] == lines[2]["top"]
    out = tmp_path / "submission.csv"
    cli("predict", str(batch), "--format", "kaggle-csv", "--output", str(out), cwd=project)
    assert out.read_text() == "id,cuisine\n1,chinese\n2,mexican\n3,chinese\n"


def test_malformed_records_are_named_or_skipped(project: Path, tmp_path: Path) -> None:
    batch = tmp_path / "batch.json"
    batch.write_text(
        json.dumps(
            [
                {"id": 1, "ingredients": ["cumin", "lime"]},
                {"id": 2, "ingredients": []},
                {"id": 3, "ingredients": "cumin"},
                {"id": 4, "ingredients": ["basil", "pasta"]},
            ]
        )
    )
    failed = cli("predict", str(batch), cwd=project, check=False)
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: batch.json: record 2: field 'ingredients': List should")
    assert "--skip-invalid" in failed.stderr
    skipped = cli("predict", str(batch), "--skip-invalid", "--format", "kaggle-csv", cwd=project)
    assert skipped.stdout == "id,cuisine\n1,mexican\n4,italian\n"
    assert "skipped 2 invalid records, first: batch.json: record 2" in skipped.stderr
    no_threads = cli("predict", str(batch), "--threads", "0", cwd=project, check=False)
    assert no_threads.returncode == 2
    assert "Invalid value for '--threads': Input should be greater than or equal to 1" in (
        no_threads.stderr
    )


def test_score_reproduces_evaluate_on_the_test_split(project: Path, tmp_path: Path) -> None:
    test = pq.read_table(project / "data" / "split" / "test.parquet").to_pylist()
    labelled = tmp_path / "test.json"
    labelled.write_text(json.dumps(test))
    shown = cli("score", str(labelled), "--model", "models/evaluated", "--format", "json",
                cwd=project)  # fmt: skip
    scores = json.loads(shown.stdout)
    evaluated = json.loads((project / "metrics" / "evaluate.json").read_text())["test"]
    assert evaluated["n"] == len(test)
    assert {metric: scores[metric] for metric in evaluated} == evaluated
    assert scores["seen_in_splits"]["test"] == scores["seen"] == len(test)
    # models/evaluated learnt from train and valid only: a test recipe counts against it only
    # when a train or valid recipe has its ingredients (the synthetic recipes often do).
    assert scores["learnt_from"] == ["train", "valid"]
    in_train, in_valid = scores["seen_in_splits"]["train"], scores["seen_in_splits"]["valid"]
    assert max(in_train, in_valid) <= scores["seen_in_learnt"] <= in_train + in_valid
    served = json.loads(cli("score", str(labelled), "--format", "json", cwd=project).stdout)
    assert served["learnt_from"] == ["train", "valid", "test"]  # the refit learnt from all
    assert served["seen_in_learnt"] == len(test)
    shutil.copytree(project / "models" / "cuisine", tmp_path / "copy")  # same content
    copied = cli("score", str(labelled), "--model", str(tmp_path / "copy"), cwd=project)
    assert (
        f"{len(test)} of these recipes have the ingredients of recipes in train, valid and "
        "test, which this model learnt from" in copied.stderr
    )


def test_score_new_labelled_recipes_as_predict_predicts_them(project: Path, tmp_path: Path) -> None:
    recipes = make_recipes(60, seed=7)
    for i, recipe in enumerate(recipes):  # a herb of its own (letters: numbers are dropped)
        recipe["ingredients"].append("herb " + "".join(chr(97 + int(d)) for d in f"{i:03}"))
    recipes[0]["cuisine"] = " Italian"  # as validate stores it: italian
    recipes[0]["ingredients"] = ["basil", "pasta", "parmesan cheese"]
    labelled = tmp_path / "labelled.json"
    labelled.write_text(json.dumps(recipes))
    predicted = [
        json.loads(line)["cuisine"]
        for line in cli("predict", str(labelled), cwd=project).stdout.splitlines()
    ]
    truth = ["italian", *(r["cuisine"] for r in recipes[1:])]
    right = sum(p == t for p, t in zip(predicted, truth, strict=True))
    shown = cli("score", str(labelled), cwd=project)
    lines = shown.stdout.splitlines()
    assert (
        lines[0]
        == f"model cuisine@1 ({project / 'models' / 'cuisine'}), 60 labelled recipes of labelled.json"
    )
    assert lines[1].startswith(f"accuracy {right / 60:.4f} (95% interval ")
    assert lines[3].split() == ["cuisine", "precision", "recall", "F1", "recipes"]
    classes = json.loads((project / "models" / "cuisine" / "model.json").read_text())["classes"]
    assert sorted(line.split()[0] for line in lines[4:]) == sorted(classes)
    assert "note:" not in shown.stderr  # nothing the model learnt from, nothing repeated
    labelled.write_text(json.dumps([*recipes, recipes[5], recipes[5], recipes[9]]))
    repeated = cli("score", str(labelled), cwd=project)
    assert "63 labelled recipes" in repeated.stdout
    as_json = cli("score", str(labelled), "--format", "json", cwd=project).stdout
    assert json.loads(as_json)["repeated_in_file"] == 3
    assert (
        "note: 3 of these recipes repeat the cuisine and ingredients of an earlier one in the "
        "file; each counts, as given" in repeated.stderr
    )
    # After a refit (or any change) models/cuisine no longer holds what was registered as
    # cuisine@1: score must not name it so.
    record_file = project / "models" / "registered.json"
    record = record_file.read_text()
    record_file.write_text(json.dumps(json.loads(record) | {"content_sha256": "0" * 64}))
    try:
        changed = cli("score", str(labelled), cwd=project).stdout.splitlines()[0]
    finally:
        record_file.write_text(record)
    assert (
        changed == f"model {project / 'models' / 'cuisine'}, 63 labelled recipes of labelled.json"
    )


def test_score_needs_known_cuisines_on_every_recipe(project: Path, tmp_path: Path) -> None:
    recipes = make_recipes(4, seed=8)
    del recipes[2]["cuisine"]
    labelled = tmp_path / "labelled.json"
    labelled.write_text(json.dumps(recipes))
    failed = cli("score", str(labelled), cwd=project, check=False)
    assert failed.returncode == 1
    assert failed.stderr.startswith(
        "error: labelled.json: 1 of 4 recipes have no cuisine (first: record 3, id 1002)"
    )
    recipes[2]["cuisine"] = "klingon"
    labelled.write_text(json.dumps(recipes))
    failed = cli("score", str(labelled), cwd=project, check=False)
    assert failed.returncode == 1
    assert failed.stderr.startswith(
        "error: labelled.json: 1 recipe has a cuisine the model does not know: {'klingon': 1} "
        "(it knows "
    )
    recipes[2] = {"id": 7, "cuisine": "italian", "ingredients": []}
    labelled.write_text(json.dumps(recipes))
    failed = cli("score", str(labelled), cwd=project, check=False)
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: labelled.json: record 3 has no ingredients (1 such)")
    (tmp_path / "not-a-model").mkdir()
    failed = cli("score", str(labelled), "--model", str(tmp_path / "not-a-model"), cwd=project,
                 check=False)  # fmt: skip
    assert failed.returncode == 1
    assert failed.stderr.startswith(f"error: {tmp_path / 'not-a-model'}")  # the model, not the file


def test_predict_with_a_registry_reference_and_bad_paths(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUISINEFLOW_STORE", str(project.parent / "store"))  # the run's store
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([{"id": "a,b", "ingredients": ["cumin", "lime", "tortillas"]},
                                 {"id": 7, "ingredients": ["basil", "pasta"]}]))  # fmt: skip
    folder = cli("predict", str(batch), cwd=project).stdout
    assert cli("predict", str(batch), "--model", "cuisine@latest", cwd=project).stdout == folder
    csv = cli("predict", str(batch), "--format", "kaggle-csv", cwd=project)
    assert csv.stdout == 'id,cuisine\n"a,b",mexican\n7,italian\n'  # quoted: still two fields
    assert "appear more than once" not in csv.stderr
    twice = tmp_path / "twice.json"
    twice.write_text(json.dumps([{"id": 3, "ingredients": ["salt"]}] * 3))
    warned = cli("predict", str(twice), "--format", "kaggle-csv", cwd=project).stderr
    assert f"warning: 2 ids appear more than once in {twice}" in warned
    no_id = tmp_path / "no-id.json"
    no_id.write_text(json.dumps([{"id": 1, "ingredients": ["salt"]}, {"ingredients": ["salt"]},
                                 {"ingredients": []}]))  # fmt: skip
    skipped = cli("predict", str(no_id), "--format", "kaggle-csv", "--skip-invalid", cwd=project)
    assert [line.split(",")[0] for line in skipped.stdout.splitlines()] == ["id", "1"]
    assert "skipped 2 invalid records, first: no-id.json: record 2: field 'id'" in skipped.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    unnamed = tmp_path / "unnamed.json"
    unnamed.write_text(json.dumps([{"ingredients": ["salt"]}] * 2))
    failures = {
        "no-id.json: record 2: field 'id': kaggle-csv needs an id": cli(
            "predict", str(no_id), "--format", "kaggle-csv", cwd=project, check=False
        ),
        "not a folder, and not NAME@VERSION or NAME@ALIAS": cli(
            "predict", str(batch), "--model", str(batch), cwd=project, check=False
        ),
        "is a folder: give the path of a file": cli(
            "predict", str(batch), "--output", str(tmp_path), cwd=project, check=False
        ),
        f"there is no folder {tmp_path / 'typo'}": cli(
            "predict",
            str(batch),
            "--output",
            str(tmp_path / "typo" / "x.jsonl"),
            cwd=project,
            check=False,
        ),
        "empty.json: holds no recipes to predict": cli(
            "predict", str(empty), cwd=project, check=False
        ),
        # A wrong file (CSV, say) skipped whole would look like success with an empty output.
        "all 2 records are invalid, first: unnamed.json: record 1": cli(
            "predict",
            str(unnamed),
            "--skip-invalid",
            "--format",
            "kaggle-csv",
            "--output",
            str(tmp_path / "out.csv"),
            cwd=project,
            check=False,
        ),
        "is the input file: the predictions would replace the recipes": cli(
            "predict",
            str(batch),
            "--output",
            str(tmp_path / ".." / tmp_path.name / batch.name),
            cwd=project,
            check=False,
        ),
    }
    for message, failed in failures.items():
        assert failed.returncode == 1
        assert message in failed.stderr
        assert "Traceback" not in failed.stderr
    assert json.loads(batch.read_text())[1] == {"id": 7, "ingredients": ["basil", "pasta"]}
    assert not (tmp_path / "out.csv").exists()


def test_repro_with_nothing_changed_runs_no_stage(project: Path) -> None:
    output = dvc("repro", cwd=project)
    assert "Running stage" not in output
    assert "up to date" in output


def test_forced_repro_gives_identical_model_and_metrics(project: Path) -> None:
    tracked = ("metrics/train.json", "metrics/refit.json", "metrics/evaluate.json", "dvc.lock")
    before = {name: (project / name).read_text() for name in tracked}
    before_model = (project / "models" / "cuisine" / "model.json").read_text()
    before_registered = json.loads((project / "models" / "registered.json").read_text())
    output = dvc("repro", "--force", cwd=project)
    assert "Running stage 'train'" in output
    assert "Running stage 'refit'" in output
    assert (project / "models" / "cuisine" / "model.json").read_text() == before_model
    # Every output hashes the same, so the lock file (and with it every metric) is unchanged.
    assert {name: (project / name).read_text() for name in tracked} == before
    assert git("status", "--porcelain", cwd=project) == ""
    # The same model registers as the same version: no duplicate.
    assert json.loads((project / "models" / "registered.json").read_text()) == before_registered
    assert before_registered["version"] == 1


def test_experiment_reruns_only_what_depends_on_the_param(project: Path) -> None:
    output = dvc("exp", "run", "-S", "train.C=2.0", "--name", "wider-c", cwd=project)
    ran = {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}
    assert ran == {"train", "evaluate", "refit", "register", "report"}
    table = json.loads(dvc("exp", "show", "--json", cwd=project))
    names = json.dumps(table)
    assert "wider-c" in names
    assert '"C": 2.0' in names
    shown = cli("experiments", "--format", "json", cwd=project).stdout.splitlines()
    rows = {row["experiment"]: row for row in map(json.loads, shown)}
    assert rows["wider-c"]["baseline"] == "main"
    assert rows["wider-c"]["train.C"] == 2.0
    assert rows["wider-c"]["train.trees.weight"] == 0.3
    assert rows["main"]["train.C"] == 0.5  # the workspace now holds the experiment
    assert rows["wider-c"]["accuracy"] >= 0.9


def test_serving_the_evaluated_fit_reruns_only_refit_and_after(project: Path) -> None:
    output = dvc("exp", "run", "-S", "refit.recipes=none", "--name", "no-refit", cwd=project)
    ran = {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}
    assert ran == {"refit", "register", "report"}
    served, evaluated = project / "models" / "cuisine", project / "models" / "evaluated"
    assert sorted(p.name for p in served.iterdir()) == sorted(p.name for p in evaluated.iterdir())
    for path in evaluated.iterdir():
        assert (served / path.name).read_bytes() == path.read_bytes()


def test_fitting_on_train_only_scores_valid_too(project: Path) -> None:
    dvc("exp", "run", "-S", "featurize.fit_on=train", "--name", "fit-train", cwd=project)
    evaluation = json.loads((project / "metrics" / "evaluate.json").read_text())
    assert sorted(evaluation) == ["test", "valid"]
    assert evaluation["valid"]["n"] == 24
    # Only the outputs dvc.yaml declares are written: no stray per_cuisine_valid.json.
    assert sorted(p.name for p in (project / "metrics").glob("per_cuisine_*")) == [
        "per_cuisine_test.json"
    ]


def test_exploration_notebook_runs_headless(project: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(PROJECT / "notebooks" / "exploration.ipynb", as_version=4)
    # Jupyter starts the kernel in the notebook's own folder.
    (project / "notebooks").mkdir(exist_ok=True)
    where = {"metadata": {"path": str(project / "notebooks")}}
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources=where).execute()
    outputs = [
        o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    ]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert "image/png" in outputs[0]["data"]  # the plot is drawn, not "<Figure size ...>"
    answer = outputs[-1]["data"]["text/plain"]
    assert "('chinese'" in answer
    assert "('mexican'" in answer


def test_reports_in_headless_chromium(project: Path, chromium: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    cli("report", "experiments", cwd=project)
    shots = tmp_path / "screenshots"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for kind in ("data", "model", "experiments", "monitoring"):
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            errors: list[str] = []
            outside: list[str] = []
            page.on(
                "console",
                lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.on(
                "request",
                lambda r, outside=outside: (
                    outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None
                ),
            )
            page.goto((project / "reports" / f"{kind}.html").as_uri())
            page.wait_for_load_state("load")
            assert errors == [], kind
            assert outside == [], kind
            assert page.locator("h1").inner_text().startswith("cuisineflow")
            links = page.locator("nav a").evaluate_all("a => a.map(e => e.getAttribute('href'))")
            assert links == [f"{k}.html" for k in ("data", "model", "experiments", "monitoring")]
            assert all((project / "reports" / link).exists() for link in links)
            if kind in ("data", "model"):
                assert page.locator("svg").count() >= 2
            page.screenshot(path=str(shots / f"{kind}.png"), full_page=True)
            page.close()
        browser.close()
    assert all((shots / f"{k}.png").stat().st_size > 10_000 for k in ("data", "model"))


def test_run_registers_in_a_new_store_before_the_report_reads_it(
    project: Path, tmp_path: Path
) -> None:
    # A param the report reads changes, the registered model does not: `register` is
    # skipped by DVC, yet the new store must hold the model before the report looks it up.
    changed = tmp_path / "project"
    shutil.copytree(project, changed, symlinks=True)
    params = changed / "params.yaml"
    params.write_text(
        params.read_text().replace("max_rejected_fraction: 0.05", "max_rejected_fraction: 0.06")
    )
    other = tmp_path / "other-store"
    output = cli("run", cwd=changed, env={"CUISINEFLOW_STORE": str(other)}).stdout
    assert "Running stage 'report'" in output
    registered = json.loads((changed / "models" / "registered.json").read_text())
    assert registered["store"] == str(other)
    assert (other / "registry" / "cuisine" / str(registered["version"]) / "metadata.json").exists()


def test_run_publishes_the_lake_and_model_to_a_new_store(project: Path, tmp_path: Path) -> None:
    # dvc repro has nothing to do: the store is no dependency of the stages writing to it.
    other = tmp_path / "other-store"
    output = cli("run", cwd=project, env={"CUISINEFLOW_STORE": str(other)}).stdout
    assert json.loads((other / "lake" / "manifest.json").read_text())["store"] == str(other)
    registered = json.loads((project / "models" / "registered.json").read_text())
    assert registered["store"] == str(other)
    assert (other / "registry" / "cuisine" / str(registered["version"]) / "metadata.json").exists()
    assert f"store:    local store {other}" in output
    found = cli("query", "SELECT count(*) AS n FROM recipes", "--format", "csv", cwd=project,
                env={"CUISINEFLOW_STORE": str(other)})  # fmt: skip
    assert found.stdout == "n\n252\n"
    # Run again: the store is up to date, and nothing re-runs.
    again = cli("run", cwd=project, env={"CUISINEFLOW_STORE": str(other)}).stdout
    assert "Running stage" not in again
    assert "warning" not in found.stderr
    # A lake another checkout published: queries say whose data they read.
    manifest = json.loads((other / "lake" / "manifest.json").read_text())
    (other / "lake" / "manifest.json").write_text(json.dumps({**manifest, "raw_hash": "x.dir"}))
    warned = cli("query", "SELECT 1 AS one", cwd=project, env={"CUISINEFLOW_STORE": str(other)})
    assert "warning: the store's lake holds raw data x.dir, the workspace " in warned.stderr
