"""The reference profile saved with a model: what its inputs and outputs looked like (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from cuisineflow.features import normalise_recipe

TOP_INGREDIENTS = 300
MAX_COUNT_BIN = 30  # ingredients per recipe: 1..29, and 30 or more
CONFIDENCE_BINS = 20


def most_common(counts: Counter[str], n: int | None = None) -> list[tuple[str, int]]:
    """The n most frequent, ties broken alphabetically (Counter's order follows set order,
    which changes from run to run)."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]


def ingredient_counts_histogram(recipes: Sequence[Sequence[str]]) -> list[int]:
    """Recipes by number of ingredients: index i counts recipes with i+1 (the last: 30+)."""
    counts = np.clip(np.array([len(r) for r in recipes], dtype=np.int64), 1, MAX_COUNT_BIN)
    return np.bincount(counts - 1, minlength=MAX_COUNT_BIN).tolist()  # type: ignore[no-any-return]


def confidence_histogram(confidence: np.ndarray) -> list[int]:
    """Predictions by top-1 probability, in equal bins over [0, 1]."""
    which = np.clip((confidence * CONFIDENCE_BINS).astype(np.int64), 0, CONFIDENCE_BINS - 1)
    return np.bincount(which, minlength=CONFIDENCE_BINS).tolist()  # type: ignore[no-any-return]


def build_profile(
    recipes: Sequence[Sequence[str]],
    probabilities: np.ndarray,
    classes: Sequence[str],
    training_recipes: Sequence[Sequence[str]],
    calibration: list[dict[str, float]] | None = None,
) -> dict[str, Any]:
    """Profile a held-out reference set against the vocabulary the model learnt from."""
    vocabulary = sorted({i for r in training_recipes for i in normalise_recipe(r)})
    known = set(vocabulary)
    normalised = [normalise_recipe(r) for r in recipes]
    total = sum(len(r) for r in normalised)
    unknown = sum(1 for r in normalised for i in r if i not in known)
    frequency = Counter(i for r in normalised for i in set(r))
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    return {
        "n": len(recipes),
        "vocabulary": vocabulary,
        "out_of_vocabulary_rate": unknown / total if total else 0.0,
        "n_ingredients": total,  # the rate's denominator: monitor tests against it as a sample
        "ingredient_share": {
            i: c / len(recipes) for i, c in most_common(frequency, TOP_INGREDIENTS)
        },
        "ingredients_per_recipe": ingredient_counts_histogram(recipes),
        "prediction_share": {c: float(np.mean(predicted == k)) for k, c in enumerate(classes)},
        "confidence_histogram": confidence_histogram(confidence),
        "mean_confidence": float(confidence.mean()),
        "calibration": calibration or [],
    }
