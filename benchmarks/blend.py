"""Benchmark: what the boosted trees add to the linear model, in cross-validation.

With the featurize and train params of params.yaml, on every labelled recipe of the
pipeline's split (train + valid + test), in stratified 5-fold cross-validation (the folds
of benchmarks/learning_curve.py): each held-out fold is scored by the calibrated linear
model alone and blended with the trees at several weights (`train.trees.weight`; 0 is the
linear model alone), from one fit of each per fold, as `train` fits them.

Prints accuracy per fold, its mean, and the expected calibration error of each weight.

Usage: .venv/bin/python benchmarks/blend.py [--project .] [--folds 5]
Needs data/split from a pipeline run (`make run`); takes about 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np
from learning_curve import labelled_folds  # the same folds as the learning curve

from cuisineflow.features import Featurizer
from cuisineflow.models.ensemble import Ensemble
from cuisineflow.models.metrics import expected_calibration_error
from cuisineflow.models.train import fit_ensemble
from cuisineflow.params import load_params

WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    params = load_params(args.project / "params.yaml")
    if params.train.trees.weight == 0:
        parser.error("train.trees.weight is 0 in params.yaml: there are no trees to blend")
    recipes, labels, folds = labelled_folds(args.project, args.folds, params)
    weights = sorted({*WEIGHTS, params.train.trees.weight})
    accuracy: dict[float, list[float]] = {w: [] for w in weights}
    calibration: dict[float, list[float]] = {w: [] for w in weights}
    for number, (fit, held) in enumerate(folds.split(recipes, labels), start=1):
        featurizer = Featurizer.fit(params.featurize.blocks, [recipes[i] for i in fit])
        features = featurizer.transform([recipes[i] for i in fit])
        fitted = fit_ensemble(featurizer, features, list(labels[fit]), params.train)
        rows = featurizer.rows([recipes[i] for i in held])
        truth = np.searchsorted(np.asarray(fitted.classes), labels[held])
        for weight in weights:
            blend = Ensemble(fitted.linear, fitted.trees if weight else None, weight)
            probabilities = blend.predict_proba(rows)
            accuracy[weight].append(float(np.mean(probabilities.argmax(axis=1) == truth)))
            calibration[weight].append(expected_calibration_error(probabilities, truth, 15))
        print(f"fold {number}/{args.folds} done", flush=True)
    print(f"\n{len(recipes)} labelled recipes, {args.folds}-fold CV, model {params.train.model}")
    print(f"{'trees weight':>12}  {'per fold':<{8 * args.folds}}  {'mean':>6}  {'ECE':>6}")
    for weight in weights:
        per_fold = " ".join(f"{a:.4f} " for a in accuracy[weight])
        print(
            f"{weight:>12.2f}  {per_fold:<{8 * args.folds}}  "
            f"{statistics.mean(accuracy[weight]):6.4f}  {statistics.mean(calibration[weight]):6.4f}"
        )
    gains = [b - a for a, b in zip(accuracy[0.0], accuracy[params.train.trees.weight], strict=True)]
    print(
        f"\nweight {params.train.trees.weight} (params.yaml) against the linear model alone: "
        f"{statistics.mean(gains):+.4f} (folds {min(gains):+.4f} to {max(gains):+.4f}; "
        f"ahead in {sum(g > 0 for g in gains)} of {len(gains)})"
    )


if __name__ == "__main__":
    main()
