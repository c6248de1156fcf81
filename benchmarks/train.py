"""Benchmark: each model of params.yaml side by side on the pipeline's split.

For linear_svc and logistic_regression, each alone and blended with the boosted trees of
params.yaml (`+trees`), with the featurize params of params.yaml:
fit time (vectorise + fit + calibrate), predict throughput through the served artifact
(batches of 1 and of 1,000), artifact size, peak memory of the fit (its own process),
and held-out test accuracy.

Usage: .venv/bin/python benchmarks/train.py [--project .] [--models linear_svc,linear_svc+trees]
Needs data/split from a pipeline run (`make run`).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import numpy as np
from _common import run_child
from pydantic import ValidationError

from cuisineflow.params import TrainParams

TREES = "+trees"
BATCH = 1000  # recipes in a batch of the batch throughput


def model_name(name: str) -> str:
    """A --models entry checked by the params' own validation: train.model, or it +trees.
    (model_copy does not validate, and models/train.py fits any other name as
    logistic_regression: linear_svm was measured under a name it is not.)"""
    linear, plus, trees = name.partition("+")
    try:
        TrainParams.model_validate({"model": linear})
    except ValidationError:
        linear = ""
    if not linear or (plus and plus + trees != TREES):
        valid = [
            m + t
            for m in get_args(TrainParams.model_fields["model"].annotation)
            for t in ("", TREES)
        ]
        raise ValueError(f"--models: {name!r} is not one of {', '.join(valid)}")
    return name


def batch_rate(
    predict: Callable[[list[list[str]]], object], recipes: list[list[str]]
) -> tuple[float, int]:
    """Recipes a second in batches of BATCH (the median of up to 3): full batches only, as
    a short slice, timed as one of BATCH, overstated the rate; with fewer recipes than one
    batch, one batch of them all. Returns the rate and the batch size timed."""
    full = min(3, len(recipes) // BATCH)
    batches = [recipes[k * BATCH : (k + 1) * BATCH] for k in range(full)] or [recipes]
    rates = []
    for batch in batches:
        begin = time.perf_counter()
        predict(batch)
        rates.append(len(batch) / (time.perf_counter() - begin))
    return statistics.median(rates), len(batches[0])


def measure(project: Path, model: str) -> dict[str, float]:
    """Fit one model in this process and measure it (run in a child process per model)."""
    from cuisineflow.data.split_tables import read_splits
    from cuisineflow.features import Featurizer
    from cuisineflow.models import train
    from cuisineflow.models.artifact import save_model
    from cuisineflow.params import load_params
    from cuisineflow.predict import Predictor

    params = load_params(project / "params.yaml")
    fitting = read_splits(project, params.featurize.fit_splits)
    test = read_splits(project, ["test"])
    started = time.perf_counter()
    featurizer = Featurizer.fit(params.featurize.blocks, fitting["ingredients"].to_pylist())
    features = featurizer.transform(fitting["ingredients"].to_pylist())
    linear, _, with_trees = model.partition("+")
    trees = params.train.trees
    if not with_trees:
        trees = trees.model_copy(update={"weight": 0.0})
    train_params = params.train.model_copy(update={"model": linear, "trees": trees})
    classifier = train.fit_ensemble(
        featurizer, features, fitting["cuisine"].to_pylist(), train_params
    )
    fit_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        save_model(Path(folder), featurizer, classifier)
        size = sum(p.stat().st_size for p in Path(folder).iterdir())
        predictor = Predictor(Path(folder))
        recipes = test["ingredients"].to_pylist()
        singles = []
        for recipe in recipes[:300]:
            begin = time.perf_counter()
            predictor.predict([recipe])
            singles.append(time.perf_counter() - begin)
        batch_per_s, batch_size = batch_rate(predictor.predict, recipes)
        probabilities = predictor.predict_proba(recipes)
    truth = np.array(test["cuisine"].to_pylist())
    accuracy = float(np.mean(np.array(predictor.classes)[probabilities.argmax(axis=1)] == truth))
    return {
        "fit_s": fit_seconds,
        "single_ms": statistics.median(singles) * 1000,
        "single_per_s": 1 / statistics.median(singles),
        "batch1000_per_s": batch_per_s,
        "batch_size": batch_size,
        "size_mb": size / 1e6,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "test_accuracy": accuracy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument(
        "--models",
        default="linear_svc,linear_svc+trees,logistic_regression,logistic_regression+trees",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        models = [model_name(name) for name in ([args.one] if args.one else args.models.split(","))]
    except ValueError as error:
        parser.error(str(error))
    if args.one:
        print(json.dumps(measure(args.project, args.one)))
        return
    if not (args.project / "data" / "split" / "train.parquet").exists():
        parser.error(f"no data/split in {args.project}: run `make run` first")
    print(
        f"{'model':22} {'fit s':>7} {'1 recipe ms':>12} {'1/s':>7} {'batch 1000 /s':>14} "
        f"{'MB':>6} {'peak MB':>8} {'test acc':>9}"
    )
    for model in models:
        command = [sys.executable, __file__, "--project", str(args.project), "--one", model]
        result = json.loads(run_child(command, f"measuring {model}").stdout)
        print(
            f"{model:22} {result['fit_s']:7.1f} {result['single_ms']:12.2f} "
            f"{result['single_per_s']:7.0f} {result['batch1000_per_s']:14.0f} "
            f"{result['size_mb']:6.1f} {result['peak_mb']:8.0f} {result['test_accuracy']:9.4f}"
        )
        if result["batch_size"] < BATCH:
            print(f"  (the test split holds {result['batch_size']:.0f} recipes: the batch column "
                  f"is of one batch of them all, not of {BATCH:,})")  # fmt: skip


if __name__ == "__main__":
    main()
