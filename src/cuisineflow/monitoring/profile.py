"""The reference profile saved with a model: what its inputs and outputs looked like (pure)."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
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


def profile_problem(profile: Mapping[str, Any]) -> str | None:
    """What makes a reference profile unfit to compare a window with, in words, or None.

    A profile edited by hand or written by another version can hold NaN, null or negative
    values: monitor's statistics would be NaN (report.json refuses it) or a traceback.
    """
    for field in ("n", "vocabulary", "out_of_vocabulary_rate", "ingredient_share",
                  "ingredients_per_recipe", "prediction_share", "confidence_histogram",
                  "mean_confidence"):  # fmt: skip
        if field not in profile:
            return f"no {field!r}"
    n = profile["n"]
    if _value_problem(n, math.inf) is not None or n != int(n) or n < 1:
        return f"'n' is {_shown(n)}, not a number of recipes (1 or more)"
    vocabulary = profile["vocabulary"]
    if not isinstance(vocabulary, list) or not all(isinstance(i, str) for i in vocabulary):
        return f"'vocabulary' is {_shown(vocabulary)}, not a list of ingredients"
    fields: list[tuple[str, Any, float]] = [
        ("out_of_vocabulary_rate", {"": profile["out_of_vocabulary_rate"]}, 1),
        ("mean_confidence", {"": profile["mean_confidence"]}, 1),
        ("ingredient_share", profile["ingredient_share"], 1),
        ("prediction_share", profile["prediction_share"], 1),
    ]
    if "n_ingredients" in profile:  # older profiles lack it: drift tests the rate alone
        fields.append(("n_ingredients", {"": profile["n_ingredients"]}, math.inf))
    for field, values, high in fields:
        if not isinstance(values, dict) or (field == "prediction_share" and not values):
            return f"{field!r} is {_shown(values)}, not an object of shares by name"
        for key, value in values.items():
            problem = _value_problem(value, high, f" for {key!r}" if key else "")
            if problem is not None:
                return f"{field!r} holds {problem}"
    for field, bins in (("ingredients_per_recipe", MAX_COUNT_BIN),
                        ("confidence_histogram", CONFIDENCE_BINS)):  # fmt: skip
        histogram = profile[field]
        if not isinstance(histogram, list) or len(histogram) != bins:
            return f"{field!r} is {_shown(histogram)}, not a list of {bins} counts"
        problem = next(filter(None, (_value_problem(v, math.inf) for v in histogram)), None)
        if problem is not None:
            return f"{field!r} holds {problem}"
    return None


def _value_problem(value: Any, high: float, where: str = "") -> str | None:
    """What is wrong with a value that should be a number in [0, high], or None: the value,
    `where` it is, and why."""
    if not _is_number(value):
        return f"{_shown(value)}{where}, not a number"
    if math.isnan(value) or math.isinf(value):
        return f"{_shown(value)}{where}"
    if value < 0:
        return f"{value}{where}, below 0"
    if value > high + 1e-9:  # a mean of probabilities can pass 1 by rounding
        return f"{value}{where}, over {high:g}"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    """A value as metadata.json spells it (NaN, null, "600"), cut short."""
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
