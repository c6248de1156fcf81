"""Benchmark: the served numpy tree evaluator against LightGBM's own predictor.

Fits the default `train.trees` of params.yaml on the pipeline's fitting splits, then
predicts Kaggle's 9,944 unlabelled recipes both ways from the same feature rows: LightGBM
(`Booster.predict` on its present/absent matrix, 2 threads) and `TreeEnsemble` (numpy,
one thread, QuickScorer leaf masks). Prints the median of 5 timings of each, their ratio,
and the largest difference between their probabilities.

Usage: .venv/bin/python benchmarks/trees.py [--project .] [--source path/to/whats-cooking]
Needs data/features and data/split from a pipeline run (`make run`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cuisineflow.data.rawfiles import read_raw_file
from cuisineflow.errors import CuisineflowError
from cuisineflow.models import boosting
from cuisineflow.params import load_params
from cuisineflow.paths import FEATURES_DIR
from cuisineflow.stages.train import fitting_data


def median_seconds(run: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time of `repeat` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument(
        "--source", type=Path, default=Path(os.environ.get("CUISINEFLOW_SOURCE", "data/raw"))
    )
    args = parser.parse_args()
    root = args.project
    if not (root / FEATURES_DIR / "featurizer").exists():
        parser.error(f"no {FEATURES_DIR} in {root}: run `make run` first")
    recipes_file = args.source / "test.json.zip"
    if not recipes_file.exists():  # checked before the fit, which takes minutes
        parser.error(f"{recipes_file} is missing: give --source (the What's Cooking files)")
    try:
        recipes = [r.ingredients for r in read_raw_file(recipes_file)]
    except CuisineflowError as error:
        parser.error(str(error))
    params = load_params(root / "params.yaml")
    featurizer, features, labels = fitting_data(root, params.featurize)
    classes = tuple(sorted(set(labels)))
    trees_params = params.train.trees
    columns = boosting.tree_columns(featurizer, features, trees_params)
    started = time.perf_counter()
    booster = boosting.fit_booster(
        features, labels, classes, columns, trees_params, params.train.seed
    )
    print(f"fit: {time.perf_counter() - started:.1f} s on {features.shape[0]} recipes, "
          f"{len(columns)} present/absent features, {booster.num_trees()} trees")  # fmt: skip
    ours = boosting.export(booster.dump_model(), columns, len(classes))

    rows = featurizer.rows(recipes)
    matrix = rows.to_scipy()
    theirs = booster.predict(boosting.present(matrix, columns), num_threads=2)
    difference = float(np.abs(ours.predict_proba(rows) - theirs).max())
    lightgbm_s = median_seconds(
        lambda: booster.predict(boosting.present(matrix, columns), num_threads=2)
    )
    numpy_s = median_seconds(lambda: ours.predict_proba(rows))
    print(f"{len(recipes)} recipes, median of 5:")
    print(f"  LightGBM Booster.predict (2 threads): {lightgbm_s:.3f} s")
    print(f"  numpy TreeEnsemble (1 thread):       {numpy_s:.3f} s  "
          f"({lightgbm_s / numpy_s:.2f}x LightGBM's speed)")  # fmt: skip
    print(f"  largest probability difference: {difference:.1e}")


if __name__ == "__main__":
    main()
