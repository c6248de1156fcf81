"""The whole workflow on the real What's Cooking files, in a copy of this project."""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path

import pytest

from cuisineflow.schemas import CUISINES
from tests.conftest import cli, copy_of_project

# The held-out bar the default params must clear on the real data (see the README).
MIN_ACCURACY = 0.80

pytestmark = pytest.mark.slow


def real_source() -> Path:
    source = os.environ.get("CUISINEFLOW_SOURCE")
    if not source or not Path(source).is_dir():
        pytest.skip("CUISINEFLOW_SOURCE does not name the What's Cooking folder")
    return Path(source)


@pytest.fixture(scope="module")
def workflow_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    source = real_source()
    project = copy_of_project(tmp_path_factory.mktemp("e2e") / "project")
    env = {"CUISINEFLOW_STORE": str(project.parent / "store"), "CUISINEFLOW_SOURCE": str(source)}
    # The whole pipeline on the full data: about 2.5 minutes alone, far longer on a busy machine.
    result = cli("run", cwd=project, env=env, timeout=1500)
    return project, result.stdout


def test_raw_data_is_imported_unchanged_and_pushed(workflow_run: tuple[Path, str]) -> None:
    project, stdout = workflow_run
    source = real_source()
    for name in ("train.json.zip", "test.json.zip"):
        imported = (project / "data" / "raw" / name).read_bytes()
        assert (
            hashlib.sha256(imported).digest()
            == hashlib.sha256((source / name).read_bytes()).digest()
        )
    assert "raw data: test.json.zip, train.json.zip (imported from" in stdout
    status = cli(
        "data", "status", cwd=project, env={"CUISINEFLOW_STORE": str(project.parent / "store")}
    )
    assert status.stdout.splitlines() == [
        "workspace: data/raw is as data/raw.dvc records",
        f"store: the cache and local store {project.parent / 'store'} are in sync",
    ]


def test_model_is_strong_on_its_held_out_test_split(workflow_run: tuple[Path, str]) -> None:
    project, stdout = workflow_run
    test = json.loads((project / "metrics" / "evaluate.json").read_text())["test"]
    assert test["n"] > 3000
    assert test["accuracy"] >= MIN_ACCURACY
    assert test["top_3_accuracy"] >= 0.92
    assert test["expected_calibration_error"] <= 0.05
    assert f"test ({test['n']} held-out recipes): accuracy {test['accuracy']:.4f}" in stdout


def test_served_model_learns_from_every_labelled_recipe(workflow_run: tuple[Path, str]) -> None:
    project, stdout = workflow_run
    split = json.loads((project / "metrics" / "split.json").read_text())
    refit = json.loads((project / "metrics" / "refit.json").read_text())
    trained = json.loads((project / "metrics" / "train.json").read_text())
    assert refit["fit_rows"] == sum(split.values()) == trained["fit_rows"] + split["test"]
    assert f"served:   refit on all {refit['fit_rows']} labelled recipes" in stdout


UNMISTAKABLE = [
    (
        ["soy sauce", "ginger", "scallions", "sesame oil", "rice vinegar"],
        {"chinese", "korean", "japanese"},
    ),
    (["corn tortillas", "salsa", "cumin", "jalapeno chilies", "black beans"], {"mexican"}),
    (["garam masala", "turmeric", "ghee", "basmati rice", "cumin seed"], {"indian"}),
    (["spaghetti", "parmesan cheese", "fresh basil", "olive oil", "garlic"], {"italian"}),
    (["fish sauce", "lemongrass", "coconut milk", "thai basil", "lime"], {"thai"}),
]


def test_unmistakable_recipes_and_invariances(
    workflow_run: tuple[Path, str], tmp_path: Path
) -> None:
    project, _ = workflow_run
    rng = random.Random(7)
    rows = []
    for i, (ingredients, _) in enumerate(UNMISTAKABLE):
        shuffled = rng.sample(ingredients, len(ingredients))
        rows.append({"id": i, "ingredients": ingredients})
        rows.append({"id": 100 + i, "ingredients": [s.upper() for s in shuffled]})
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps(r) + "\n" for r in rows))
    predictions = {
        p["id"]: p
        for p in map(json.loads, cli("predict", str(batch), cwd=project).stdout.splitlines())
    }
    for i, (_, expected) in enumerate(UNMISTAKABLE):
        assert predictions[i]["cuisine"] in expected
        assert predictions[100 + i]["top"] == predictions[i]["top"]


def test_predicts_the_unlabelled_recipes(workflow_run: tuple[Path, str], tmp_path: Path) -> None:
    project, _ = workflow_run
    out = tmp_path / "submission.csv"
    cli(
        "predict",
        str(real_source() / "test.json.zip"),
        "--format",
        "kaggle-csv",
        "--output",
        str(out),
        cwd=project,
    )
    lines = out.read_text().splitlines()
    assert lines[0] == "id,cuisine"
    assert len(lines) == 9944 + 1
    assert {line.split(",")[1] for line in lines[1:]} <= set(CUISINES)
