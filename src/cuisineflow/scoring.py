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
from cuisineflow.errors import CuisineflowError, DataError
from cuisineflow.features import normalise_recipe
from cuisineflow.models.metrics import evaluate
from cuisineflow.params import EvaluateParams, Params, load_params
from cuisineflow.paths import EVALUATED_MODEL_DIR, PIPELINE_MODEL_DIR, SPLIT_DIR, SPLITS
from cuisineflow.predict import Predictor
from cuisineflow.schemas import RawRecipe, known_cuisine


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


def repeats(keys: Sequence[tuple[str, ...]], cuisines: Sequence[str]) -> int:
    """How many recipes (by `ingredient_key`) repeat an earlier one of the same sequence: the
    same cuisine and, as the model sees them, the same ingredients (Kaggle's data holds such
    copies)."""
    pairs = {(key, known_cuisine(c) or c) for key, c in zip(keys, cuisines, strict=True)}
    return len(keys) - len(pairs)


@dataclass(frozen=True)
class Overlap:
    """Scored recipes that known recipes (the project's splits) already hold, by what the
    model sees of them: per split, in any split, and in the splits the model learnt from."""

    per_split: dict[str, int]
    anywhere: int
    learnt_from: tuple[str, ...] | None  # None: not known (not one of the project's models)
    learnt: int | None


def overlap(
    keys: Sequence[tuple[str, ...]],
    splits: Mapping[str, Iterable[Sequence[str]]],
    learnt_from: Sequence[str] | None,
) -> Overlap:
    """How many of the recipes (by `ingredient_key`) each split holds, any split holds, and
    the learnt splits hold."""
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
    root: Path, folder: Path, keys: Sequence[tuple[str, ...]], params: Params | None
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
    return overlap(keys, splits, learnt_from)


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


@dataclass(frozen=True)
class Labelled:
    """The recipes of a labelled file: ingredients and cuisines, in file order."""

    name: str  # the file's, for messages
    ingredients: list[list[str]]
    cuisines: list[str]


def labelled_recipes(recipes: Sequence[RawRecipe], file_name: str) -> Labelled:
    """The recipes read from a file, which must all be labelled: a recipe without a cuisine
    is an error naming it."""
    unlabelled = [i for i, r in enumerate(recipes) if r.cuisine is None]
    if unlabelled:
        raise DataError(
            f"{file_name}: {len(unlabelled)} of {len(recipes)} recipes have no cuisine "
            f"(first: record {unlabelled[0] + 1}, id {recipes[unlabelled[0]].id}): `score` "
            "needs labelled recipes; `predict` takes unlabelled ones"
        )
    return Labelled(file_name, [r.ingredients for r in recipes], [str(r.cuisine) for r in recipes])


@dataclass(frozen=True)
class FileScores:
    """`score` of a file's recipes, with how many the project's splits hold and how many
    repeat an earlier recipe of the file."""

    scores: Scores
    seen: Overlap
    repeated: int
    top_k: int


def score_file(root: Path, folder: Path, predictor: Predictor, labelled: Labelled) -> FileScores:
    """Score the model of `folder` (loaded as `predictor`) on a labelled file, with the
    project's params (or the defaults) and splits; a bad recipe is named with the file."""
    params_file = root / "params.yaml"
    project_params = load_params(params_file) if params_file.exists() else None
    params = project_params.evaluate if project_params else EvaluateParams()
    try:
        scores = score(predictor, labelled.ingredients, labelled.cuisines, params)
    except CuisineflowError as error:  # a recipe of the file
        raise CuisineflowError(f"{labelled.name}: {error}") from None
    keys = [ingredient_key(r) for r in labelled.ingredients]  # once: splits and repeats
    seen = project_overlap(root, folder, keys, project_params)
    return FileScores(scores, seen, repeats(keys, labelled.cuisines), params.top_k)


def scores_json(result: FileScores, model: str) -> str:
    """`score --format json`: the model, the overlap counts and every metric, one line."""
    seen = result.seen
    overlap = {"seen_in_splits": seen.per_split, "seen": seen.anywhere,
               "learnt_from": seen.learnt_from, "seen_in_learnt": seen.learnt,
               "repeated_in_file": result.repeated}  # fmt: skip
    return json.dumps({"model": model, **overlap, **result.scores.metrics})


def scores_table(result: FileScores, model: str, file_name: str) -> tuple[str, list[str]]:
    """`score`'s table (summary and per cuisine, by F1), and its notes for stderr: repeated
    recipes, and recipes whose ingredients the project's splits hold."""
    metrics, k = result.scores.metrics, result.top_k
    lines = [
        f"model {model}, {metrics['n']:,} labelled recipes of {file_name}",
        f"accuracy {metrics['accuracy']:.4f} (95% interval {metrics['accuracy_ci_low']:.3f} to "
        f"{metrics['accuracy_ci_high']:.3f}), macro-F1 {metrics['macro_f1']:.4f}, top-{k} "
        f"accuracy {metrics[f'top_{k}_accuracy']:.4f}, calibration error "
        f"{metrics['expected_calibration_error']:.4f}",
        f"\n{'cuisine':<14}{'precision':>10}{'recall':>8}{'F1':>7}{'recipes':>9}",
    ]
    by_f1 = sorted(metrics["per_cuisine"].items(), key=lambda item: -item[1]["f1"])
    lines += [
        f"{cuisine:<14}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}"
        f"{int(row['support']):>9,}"
        for cuisine, row in by_f1
    ]
    notes = []
    if result.repeated:
        notes.append(
            f"\nnote: {result.repeated:,} of these recipes repeat the cuisine and ingredients "
            "of an earlier one in the file; each counts, as given"
        )
    seen = result.seen
    held = ", ".join(f"{n:,} in {split}" for split, n in seen.per_split.items() if n)
    if seen.learnt:
        *others, last = seen.learnt_from or ("",)
        learnt = f"{', '.join(others)} and {last}" if others else last
        notes.append(
            f"\nnote: {seen.learnt:,} of these recipes have the ingredients of recipes in "
            f"{learnt}, which this model learnt from ({held}): "
            "its scores on them overstate its accuracy on new recipes"
        )
    elif seen.anywhere and seen.learnt_from is None:
        notes.append(
            f"\nnote: {seen.anywhere:,} of these recipes have the ingredients of recipes in "
            f"this project's splits ({held}); if this model learnt from those splits, its "
            "scores on them overstate its accuracy on new recipes"
        )
    return "\n".join(lines), notes
