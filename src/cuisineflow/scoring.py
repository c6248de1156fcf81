"""A model scored on labelled recipes, through `Predictor`: the path serving takes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cuisineflow.data.split_tables import read_splits
from cuisineflow.errors import DataError
from cuisineflow.features import normalise_recipe
from cuisineflow.models.metrics import evaluate
from cuisineflow.params import EvaluateParams, Params
from cuisineflow.paths import EVALUATED_MODEL_DIR, PIPELINE_MODEL_DIR, SPLIT_DIR, SPLITS
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
    empty = [i for i, r in enumerate(recipes) if not r or any(not item.strip() for item in r)]
    if empty:  # as `predict` and `validate` refuse them
        what = "an empty ingredient" if recipes[empty[0]] else "no ingredients"
        raise DataError(f"record {empty[0] + 1} has {what} ({len(empty)} such)")
    column = {c: i for i, c in enumerate(predictor.classes)}
    stored = [known_cuisine(c) or c for c in cuisines]
    unknown = Counter(c for c in stored if c not in column)
    if unknown:
        count = unknown.total()
        raise DataError(
            f"{count} {'recipe has a cuisine' if count == 1 else 'recipes have cuisines'} the "
            f"model does not know: {dict(unknown.most_common(5))} (it knows "
            f"{', '.join(predictor.classes)})"
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


def repeats(recipes: Sequence[Sequence[str]], cuisines: Sequence[str]) -> int:
    """How many recipes repeat an earlier one of the same sequence: the same cuisine and,
    as the model sees them, the same ingredients (Kaggle's data holds such copies)."""
    keys = {
        (ingredient_key(r), known_cuisine(c) or c) for r, c in zip(recipes, cuisines, strict=True)
    }
    return len(recipes) - len(keys)


@dataclass(frozen=True)
class Overlap:
    """Scored recipes that known recipes (the project's splits) already hold, by what the
    model sees of them: per split, in any split, and in the splits the model learnt from."""

    per_split: dict[str, int]
    anywhere: int
    learnt_from: tuple[str, ...] | None  # None: not known (not one of the project's models)
    learnt: int | None


def overlap(
    recipes: Sequence[Sequence[str]],
    splits: Mapping[str, Iterable[Sequence[str]]],
    learnt_from: Sequence[str] | None,
) -> Overlap:
    """How many of `recipes` each split holds, any split holds, and the learnt splits hold."""
    keys = [ingredient_key(r) for r in recipes]
    held = {}
    for name, members in splits.items():
        member_keys = {ingredient_key(m) for m in members}
        held[name] = np.array([k in member_keys for k in keys], dtype=bool)
    none = np.zeros(len(keys), dtype=bool)
    learnt = None
    if learnt_from is not None:
        learnt = int(np.logical_or.reduce([held.get(n, none) for n in learnt_from] or [none]).sum())
    return Overlap(
        per_split={name: int(rows.sum()) for name, rows in held.items()},
        anywhere=int(np.logical_or.reduce([*held.values(), none]).sum()),
        learnt_from=tuple(learnt_from) if learnt_from is not None else None,
        learnt=learnt,
    )


def project_overlap(
    root: Path, folder: Path, recipes: Sequence[Sequence[str]], params: Params | None
) -> Overlap:
    """`overlap` with the project's splits, for a model folder: the splits it learnt from are
    known when it is the pipeline's evaluated fit or its served model (same model.json) and
    the project's params are given."""
    splits = {
        name: read_splits(root, [name])["ingredients"].to_pylist()
        for name in SPLITS
        if (root / SPLIT_DIR / f"{name}.parquet").exists()
    }
    learnt_from = _splits_learnt_from(root, folder, params) if params else None
    return overlap(recipes, splits, learnt_from)


def _splits_learnt_from(root: Path, folder: Path, params: Params) -> tuple[str, ...] | None:
    spec = (folder / "model.json").read_bytes()  # lists every file's sha256: the content
    evaluated = root / EVALUATED_MODEL_DIR / "model.json"
    served = root / PIPELINE_MODEL_DIR / "model.json"
    if evaluated.exists() and evaluated.read_bytes() == spec:
        return params.featurize.fit_splits
    refit = root / "metrics" / "refit.json"
    if served.exists() and served.read_bytes() == spec:
        all_labelled = refit.exists() and json.loads(refit.read_text()).get("recipes") == (
            "all_labelled"
        )
        return SPLITS if all_labelled else params.featurize.fit_splits
    return None
