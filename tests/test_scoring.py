"""Scoring labelled recipes, and which of them a set of known recipes already holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cuisineflow.errors import DataError
from cuisineflow.params import EvaluateParams
from cuisineflow.predict import Predictor
from cuisineflow.scoring import score, seen_in
from tests.conftest import make_recipes


def test_seen_in_matches_recipes_by_what_the_model_sees_of_them() -> None:
    recipes = [["Fresh Basil", "pasta"], ["basil"], ["basil", "pasta", "pine nuts"], []]
    known = {
        "train": [["pine nuts", "Pasta", "basil"], ["basil", "pasta", "salt"]],
        "test": [["pasta", "basil", "basil"], ["dried basil"]],  # an ingredient twice: once
    }
    found = seen_in(recipes, known)
    assert found["train"].tolist() == [False, False, True, False]
    assert found["test"].tolist() == [True, True, False, False]


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


def test_score_refuses_cuisines_the_model_cannot_predict_and_no_recipes(
    tiny_model: Path,
) -> None:
    predictor = Predictor(tiny_model)
    with pytest.raises(DataError, match=r"^2 recipes have cuisines the model does not know: "
                       r"\{'klingon': 2\} \(it knows "):  # fmt: skip
        score(predictor, [["a"], ["b"], ["c"]], ["klingon", "italian", "klingon"], EvaluateParams())
    with pytest.raises(DataError, match="no labelled recipes"):
        score(predictor, [], [], EvaluateParams())
