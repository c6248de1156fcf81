"""A model scored on labelled recipes, through `Predictor`: the path serving takes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cuisineflow.errors import DataError
from cuisineflow.features import normalise_recipe
from cuisineflow.models.metrics import evaluate
from cuisineflow.params import EvaluateParams
from cuisineflow.predict import Predictor
from cuisineflow.schemas import known_cuisine


@dataclass(frozen=True)
class Scores:
    """Every metric of `models.metrics.evaluate`, with the probabilities and the truth."""

    metrics: dict[str, Any]
    probabilities: np.ndarray
    truth: np.ndarray


def score(
    predictor: Predictor,
    recipes: Sequence[Sequence[str]],
    cuisines: Sequence[str],
    params: EvaluateParams,
) -> Scores:
    """Score the predictor on recipes whose cuisines are known; a cuisine the model cannot
    predict is an error naming it (it would count as wrong, and no param could fix that)."""
    if not recipes:
        raise DataError("there are no labelled recipes to score")
    column = {c: i for i, c in enumerate(predictor.classes)}
    stored = [known_cuisine(c) or c for c in cuisines]
    unknown = Counter(c for c in stored if c not in column)
    if unknown:
        raise DataError(
            f"{unknown.total()} recipes have cuisines the model does not know: "
            f"{dict(unknown.most_common(5))} (it knows {', '.join(predictor.classes)})"
        )
    probabilities = predictor.predict_proba([list(r) for r in recipes])
    truth = np.array([column[c] for c in stored], dtype=np.int64)
    metrics = evaluate(
        probabilities, truth, predictor.classes, n_bins=params.calibration_bins, k=params.top_k
    )
    return Scores(metrics, probabilities, truth)


def ingredient_key(recipe: Iterable[str]) -> tuple[str, ...]:
    """What the model sees of a recipe: two recipes with the same key are the same to it."""
    return tuple(normalise_recipe(recipe))


def seen_in(
    recipes: Sequence[Sequence[str]], known: Mapping[str, Iterable[Sequence[str]]]
) -> dict[str, np.ndarray]:
    """For each named set of known recipes (e.g. the pipeline's splits), which of `recipes`
    it holds, by what the model sees of them."""
    keys = [ingredient_key(r) for r in recipes]
    found = {}
    for name, members in known.items():
        member_keys = {ingredient_key(m) for m in members}
        found[name] = np.array([k in member_keys for k in keys], dtype=bool)
    return found
