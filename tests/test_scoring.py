"""Scoring labelled recipes, and which of them a set of known recipes already holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cuisineflow.errors import DataError
from cuisineflow.params import EvaluateParams
from cuisineflow.predict import Predictor
from cuisineflow.scoring import overlap, repeats, score
from tests.conftest import make_recipes


def test_overlap_matches_recipes_by_what_the_model_sees_of_them() -> None:
    recipes = [["Fresh Basil", "pasta"], ["basil"], ["basil", "pasta", "pine nuts"], ["rice"]]
    known = {
        "train": [["pine nuts", "Pasta", "basil"], ["basil", "pasta", "salt"]],
        "valid": [["pasta", "basil", "basil"]],  # an ingredient twice counts once
        "test": [["Basil", "pasta"], ["dried basil"]],
    }
    found = overlap(recipes, known, learnt_from=("train", "valid"))
    assert found.per_split == {"train": 1, "valid": 1, "test": 2}
    assert found.anywhere == 3  # recipe 1 is in valid and test: once
    assert (found.learnt_from, found.learnt) == (("train", "valid"), 2)
    unknown = overlap(recipes, known, learnt_from=None)
    assert (unknown.anywhere, unknown.learnt_from, unknown.learnt) == (3, None, None)
    assert overlap(recipes, {}, learnt_from=("train",)).learnt == 0  # no splits written yet


def test_repeats_are_the_same_cuisine_and_ingredients_as_the_model_sees_them() -> None:
    recipes = [["basil", "pasta"], ["Pasta", "fresh basil"], ["basil", "pasta"], ["rice"]]
    assert repeats(recipes, ["italian", " Italian", "greek", "thai"]) == 1  # records 1 and 2
    assert repeats(recipes, ["italian", "greek", "thai", "thai"]) == 0  # other cuisines
    assert repeats([*recipes, ["rice"], ["rice"]], ["a", "a", "a", "b", "b", "b"]) == 4


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
