"""Scoring labelled recipes, and which of them a set of known recipes already holds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cuisineflow.errors import DataError
from cuisineflow.params import EvaluateParams
from cuisineflow.predict import Predictor
from cuisineflow.registry import content_hash
from cuisineflow.scoring import ingredient_key, overlap, repeats, score
from tests.conftest import make_recipes


def test_overlap_matches_recipes_by_what_the_model_sees_of_them() -> None:
    recipes = [["Fresh Basil", "pasta"], ["basil"], ["basil", "pasta", "pine nuts"], ["rice"]]
    known = {
        "train": [["pine nuts", "Pasta", "basil"], ["basil", "pasta", "salt"]],
        "valid": [["pasta", "basil", "basil"]],  # an ingredient twice counts once
        "test": [["Basil", "pasta"], ["dried basil"]],
    }
    keys = [ingredient_key(r) for r in recipes]
    found = overlap(keys, known, learnt_from=("train", "valid"))
    assert found.per_split == {"train": 1, "valid": 1, "test": 2}
    assert found.anywhere == 3  # recipe 1 is in valid and test: once
    assert (found.learnt_from, found.learnt) == (("train", "valid"), 2)
    unknown = overlap(keys, known, learnt_from=None)
    assert (unknown.anywhere, unknown.learnt_from, unknown.learnt) == (3, None, None)
    assert overlap(keys, {}, learnt_from=("train",)).learnt == 0  # no splits written yet


def test_repeats_are_the_same_cuisine_and_ingredients_as_the_model_sees_them() -> None:
    recipes = [["basil", "pasta"], ["Pasta", "fresh basil"], ["basil", "pasta"], ["rice"]]
    keys = [ingredient_key(r) for r in [*recipes, ["rice"], ["rice"]]]
    assert repeats(keys[:4], ["italian", " Italian", "greek", "thai"]) == 1  # records 1 and 2
    assert repeats(keys[:4], ["italian", "greek", "thai", "thai"]) == 0  # other cuisines
    assert repeats(keys, ["a", "a", "a", "b", "b", "b"]) == 4


def test_score_counts_what_predict_gets_right(tiny_model: Path) -> None:
    predictor = Predictor(tiny_model)
    recipes = make_recipes(30, seed=3)
    ingredients = [r["ingredients"] for r in recipes]
    cuisines = [r["cuisine"].upper() + " " for r in recipes]  # stored as lower case, trimmed
    predicted = [p.cuisine for p in predictor.predict(ingredients)]
    right = sum(p == r["cuisine"] for p, r in zip(predicted, recipes, strict=True))
    scores = score(predictor, ingredients, cuisines, EvaluateParams(top_k=2))
    assert scores.metrics["accuracy"] == right / 30
    assert scores.metrics["n"] == 30
    assert "top_2_accuracy" in scores.metrics
    assert [predictor.classes[t] for t in scores.truth] == [r["cuisine"] for r in recipes]
    np.testing.assert_array_equal(scores.probabilities, predictor.predict_proba(ingredients))


def test_score_refuses_unknown_cuisines_empty_recipes_and_no_recipes(
    tiny_model: Path,
) -> None:
    predictor = Predictor(tiny_model)
    with pytest.raises(DataError, match=r"^2 recipes have cuisines the model does not know: "
                       r"\{'klingon': 2\} \(it knows "):  # fmt: skip
        score(predictor, [["a"], ["b"], ["c"]], ["klingon", "italian", "klingon"], EvaluateParams())
    with pytest.raises(DataError, match=r"^1 recipe has a cuisine the model does not know: "):
        score(predictor, [["a"]], ["klingon"], EvaluateParams())
    with pytest.raises(DataError, match="no labelled recipes"):
        score(predictor, [], [], EvaluateParams())
    with pytest.raises(DataError, match=r"^record 2 has no ingredients \(2 such\)$"):
        score(predictor, [["a"], [], []], ["italian"] * 3, EvaluateParams())
    # A blank ingredient (predict refuses it too): the model would see a recipe it is not.
    with pytest.raises(DataError, match=r"^record 1 has an empty ingredient \(2 such\)$"):
        score(predictor, [["  ", "\t"], ["a"], ["b", ""]], ["italian"] * 3, EvaluateParams())


def test_score_reads_the_model_and_normalises_the_recipes_once(
    tiny_model: Path, tmp_path: Path
) -> None:
    """`score` of the pipeline's registered model: its files are hashed once (by the load,
    whose checksums then tell whether it is still the registered version) and each
    recipe's ingredients are normalised once, for the splits and the repeats alike."""
    project = tmp_path / "project"
    (project / ".dvc").mkdir(parents=True)
    shutil.copytree(tiny_model, project / "models" / "cuisine")
    identity = content_hash(project / "models" / "cuisine")
    record = {"name": "cuisine", "version": 3, "content_sha256": identity}
    (project / "models" / "registered.json").write_text(json.dumps(record))
    labelled = tmp_path / "labelled.json"
    recipes = make_recipes(12, seed=5)
    labelled.write_text(json.dumps([*recipes, recipes[0]]))
    code = (
        "import os, sys\n"
        "from typer.testing import CliRunner\n"
        "import cuisineflow.scoring as scoring\n"
        "from cuisineflow.cli import app\n"
        "opens = []\n"
        "sys.addaudithook(lambda event, args: opens.append(os.fspath(args[0])) "
        "if event == 'open' and str(args[0]).endswith('coef.npy') else None)\n"
        "keyed = []\n"
        "key = scoring.ingredient_key\n"
        "scoring.ingredient_key = lambda recipe: keyed.append(1) or key(recipe)\n"
        f"result = CliRunner().invoke(app, ['score', {str(labelled)!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(result.stdout.splitlines()[0], len(opens), len(keyed))\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=project
    ).stdout
    model = project.resolve() / "models" / "cuisine"
    # coef.npy: opened to hash it and to load it, nothing more; 13 recipes, 13 keys.
    assert shown == f"model cuisine@3 ({model}), 13 labelled recipes of labelled.json 2 13\n"


def test_content_hash_takes_the_checksums_a_load_verified(tiny_model: Path) -> None:
    verified = Predictor(tiny_model).spec["sha256"]
    assert content_hash(tiny_model, known=verified) == content_hash(tiny_model)
    # model.json is not among them: it is hashed from the folder, as any unlisted file
    assert "model.json" not in verified
    stale = dict.fromkeys(verified, "0" * 64)
    assert content_hash(tiny_model, known=stale) != content_hash(tiny_model)
