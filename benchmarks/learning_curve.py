"""Benchmark: does accuracy still grow with training recipes, and what does `refit` gain?

With the featurize and train params of params.yaml, on every labelled recipe of the
pipeline's split (train + valid + test), in stratified 5-fold cross-validation:

1. learning curve: each held-out fold scored by fits on 50%, 75% and 100% of the other folds;
2. refit: each held-out fold scored by a fit on 90% of the other folds (as `train` learns
   from train + valid and leaves test out) against a fit on all of them (as `refit` does).

The model is the one `train` fits: the calibrated linear model, blended with boosted
trees when `train.trees.weight` is above 0 (`--linear-only` leaves the trees out).
Prints mean accuracy and its spread over folds, and the paired gain of the refit.

Usage: .venv/bin/python benchmarks/learning_curve.py [--project .] [--folds 5] [--linear-only]
Needs data/split from a pipeline run (`make run`); takes about 18 minutes on 2 cores
(7 with --linear-only).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from cuisineflow.data.split_tables import read_splits
from cuisineflow.features import Featurizer
from cuisineflow.models.train import fit_ensemble
from cuisineflow.params import Params, load_params


def accuracy(
    params: Params, recipes: list[list[str]], labels: np.ndarray, fit: np.ndarray, held: np.ndarray
) -> float:
    """Fit featurizer and model on the `fit` rows, as `train` does; accuracy on the `held` rows."""
    featurizer = Featurizer.fit(params.featurize.blocks, [recipes[i] for i in fit])
    features = featurizer.transform([recipes[i] for i in fit])
    model = fit_ensemble(featurizer, features, list(labels[fit]), params.train)
    probabilities = model.predict_proba(featurizer.rows([recipes[i] for i in held]))
    predicted = np.asarray(model.classes)[probabilities.argmax(axis=1)]
    return float(np.mean(predicted == labels[held]))


def labelled_folds(
    project: Path, n_folds: int, params: Params
) -> tuple[list[list[str]], np.ndarray, StratifiedKFold]:
    """Every labelled recipe of the split, its cuisines, and the folds other benchmarks share."""
    if not (project / "data" / "split" / "test.parquet").exists():
        sys.exit(f"{project / 'data' / 'split'} is missing: run `make run` first")
    table = read_splits(project)
    recipes = table["ingredients"].to_pylist()
    labels = np.asarray(table["cuisine"].to_pylist())
    return recipes, labels, StratifiedKFold(n_folds, shuffle=True, random_state=params.split.seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--linear-only", action="store_true", help="leave the boosted trees out")
    args = parser.parse_args()
    params = load_params(args.project / "params.yaml")
    if args.linear_only:
        trees = params.train.trees.model_copy(update={"weight": 0.0})
        params = params.model_copy(
            update={"train": params.train.model_copy(update={"trees": trees})}
        )
    recipes, labels, folds = labelled_folds(args.project, args.folds, params)
    curve: dict[float, list[float]] = {0.5: [], 0.75: [], 1.0: []}
    sizes: dict[float, int] = {}
    refit_pairs: list[tuple[float, float]] = []
    rng = np.random.default_rng(params.split.seed)
    for number, (rest, held) in enumerate(folds.split(recipes, labels), start=1):
        for share in curve:
            fit = rest if share == 1.0 else rng.choice(rest, int(len(rest) * share), replace=False)
            sizes[share] = len(fit)
            curve[share].append(accuracy(params, recipes, labels, fit, held))
        evaluated_fit, _ = train_test_split(
            rest, test_size=params.split.test_size, stratify=labels[rest], random_state=number
        )
        refit_pairs.append((accuracy(params, recipes, labels, evaluated_fit, held), curve[1.0][-1]))
        print(f"fold {number}/{args.folds} done", flush=True)
    model: str = params.train.model
    if params.train.trees.weight:
        model += f" blended with trees (weight {params.train.trees.weight})"
    print(f"\n{len(recipes)} labelled recipes, {args.folds}-fold CV, model {model}")
    print(f"{'fit on':>16}  {'accuracy':>8}  {'sd':>6}")
    for share, scores in curve.items():
        print(
            f"{sizes[share]:>8} recipes  {statistics.mean(scores):8.4f}  {statistics.stdev(scores):6.4f}"
        )
    gains = [after - before for before, after in refit_pairs]
    before = statistics.mean(b for b, _ in refit_pairs)
    after = statistics.mean(a for _, a in refit_pairs)
    print(
        f"\nrefit: {before:.4f} (fit on 90%) -> {after:.4f} (fit on all); "
        f"gain {statistics.mean(gains):+.4f}, per fold {', '.join(f'{g:+.4f}' for g in gains)}"
    )


if __name__ == "__main__":
    main()
