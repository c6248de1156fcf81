"""The validate and lake stages through DVC, in a copy of the project, on data with bad rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from cuisineflow.data import query
from cuisineflow.storage import Store
from tests.conftest import S3Endpoint, cli, copy_of_project, make_recipes

pytestmark = pytest.mark.integration

BAD_LINES = [
    '{"id": 9001, "ingredients": ["salt"',  # not_json
    '{"id": "9002", "ingredients": ["salt"]}',  # id_not_integer
    '{"id": 9003, "cuisine": "martian", "ingredients": ["salt"]}',  # unknown_cuisine
    '{"id": 9004, "ingredients": []}',  # no_ingredients
    '{"id": 9005, "cuisine": "italian", "ingredients": ["salt|pepper"]}',  # forbidden_character
]


def write_sources(folder: Path) -> Path:
    """Raw files with bad rows. `data import` refuses schema breaks, so tests that need them
    in data/raw put the files there directly, as a collaborator's `dvc add` would."""
    folder.mkdir(parents=True, exist_ok=True)
    good = [json.dumps(r) for r in make_recipes(40)]
    duplicate = json.dumps({**make_recipes(1)[0], "id": 9006})  # duplicate_recipe
    (folder / "train.jsonl").write_text("\n".join([*good, *BAD_LINES, duplicate]) + "\n")
    (folder / "test.jsonl").write_text(
        "\n".join(
            json.dumps({**r, "id": 5000 + i}) for i, r in enumerate(make_recipes(8, 1, False))
        )
    )
    return folder


def set_params(project: Path, **sections: dict[str, object]) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    for name, values in sections.items():
        params[name].update(values)
    (project / "params.yaml").write_text(yaml.safe_dump(params))


@pytest.fixture
def pipeline_project(tmp_path: Path) -> Path:
    return copy_of_project(tmp_path / "project")


def test_validate_and_lake_through_dvc(
    pipeline_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = pipeline_project
    set_params(project, validate={"max_rejected_fraction": 0.2})
    store_dir = tmp_path / "store"
    monkeypatch.setenv("CUISINEFLOW_STORE", str(store_dir))
    write_sources(project / "data" / "raw")
    subprocess.run([sys.executable, "-m", "dvc", "add", "-q", "data/raw"], cwd=project, check=True)
    cli("run", cwd=project)

    metrics = json.loads((project / "metrics" / "validation.json").read_text())
    assert metrics["records"] == 40 + 6 + 8
    assert metrics["valid"] == 48
    assert metrics["rejected"] == 6
    assert {k: v for k, v in metrics["rejected_by_rule"].items() if v} == {
        "not_json": 1,
        "id_not_integer": 1,
        "unknown_cuisine": 1,
        "no_ingredients": 1,
        "forbidden_character": 1,
        "duplicate_recipe": 1,
    }
    # Nothing silently dropped: every raw id is either validated or quarantined.
    validated = pq.read_table(project / "data" / "validated" / "recipes.parquet")
    quarantined = [
        json.loads(line)
        for line in (project / "data" / "quarantine" / "rejected.jsonl").read_text().splitlines()
    ]
    assert validated.num_rows + len(quarantined) == metrics["records"]
    assert sorted(validated.column("id").to_pylist()) == [*range(1000, 1040), *range(5000, 5008)]
    assert quarantined[0]["reason"] == "not_json"
    assert quarantined[0]["record"] == BAD_LINES[0]

    # The lake in the store traces back to the raw data's DVC hash.
    store = Store.open(str(store_dir))
    manifest = json.loads(store.read_bytes("lake/manifest.json"))
    raw_dvc = yaml.safe_load((project / "data" / "raw.dvc").read_text())
    assert manifest["raw_hash"] == raw_dvc["outs"][0]["md5"] == metrics["raw_hash"]
    counts = query(
        "SELECT split, count(*) AS n FROM recipes GROUP BY split ORDER BY split", store=store
    )
    assert counts.to_pylist() == [{"split": "test", "n": 8}, {"split": "train", "n": 40}]
    shown = cli("query", "SELECT count(*) AS n FROM recipe_ingredients WHERE ingredient = 'salt'",
                "--format", "csv", cwd=project)  # fmt: skip
    assert shown.stdout == "n\n48\n"

    # A second run with nothing changed re-runs no stage.
    again = cli("run", cwd=project)
    assert "Running stage" not in again.stdout


def test_too_many_rejects_fail_the_pipeline(
    pipeline_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUISINEFLOW_STORE", str(tmp_path / "store"))
    write_sources(pipeline_project / "data" / "raw")
    result = cli("run", cwd=pipeline_project, check=False)
    assert result.returncode == 1
    assert (
        "validation quarantined 6 of 54 records (11.11%), over validate.max_rejected_fraction"
        in (result.stdout + result.stderr)
    )
    assert not (tmp_path / "store" / "lake" / "manifest.json").exists()


def test_both_engines_on_the_s3_endpoint(
    pipeline_project: Path, tmp_path: Path, s3_endpoint: S3Endpoint
) -> None:
    set_params(pipeline_project, validate={"max_rejected_fraction": 0.2})
    env = s3_endpoint.store_env("query-engines")
    write_sources(pipeline_project / "data" / "raw")
    cli("run", cwd=pipeline_project, env=env)
    sql_duck = "SELECT id FROM recipes WHERE cuisine = 'thai' ORDER BY id"
    sql_select = "SELECT s.id FROM s3object s WHERE s.cuisine = 'italian'"
    duck = cli("query", sql_duck, "--format", "json", cwd=pipeline_project, env=env)
    assert duck.stdout == ""  # the tiny set has no Thai recipes
    duck = cli("query", "SELECT id FROM recipes WHERE cuisine = 'italian' ORDER BY id",
               "--format", "json", cwd=pipeline_project, env=env)  # fmt: skip
    italian = [json.loads(line)["id"] for line in duck.stdout.splitlines()]
    assert italian == list(range(1002, 1040, 4))
    selected = cli("query", sql_select, "--engine", "s3select", "--format", "json",
                   cwd=pipeline_project, env=env)  # fmt: skip
    assert sorted(json.loads(line)["id"] for line in selected.stdout.splitlines()) == italian
    from_csv = cli("query", sql_select, "--engine", "s3select", "--s3select-input", "csv",
                   "--format", "json", cwd=pipeline_project, env=env)  # fmt: skip
    assert sorted(int(json.loads(line)["id"]) for line in from_csv.stdout.splitlines()) == italian
    bad = cli("query", "SELEC nothing", "--engine", "s3select", cwd=pipeline_project, env=env,
              check=False)  # fmt: skip
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: S3 Select failed (")
    assert "Its SQL is limited" in bad.stderr
    assert "Traceback" not in bad.stderr
