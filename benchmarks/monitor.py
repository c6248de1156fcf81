"""Benchmark: `cuisineflow monitor` over 100,000 logged predictions (target: 10 s or less).

Logs 100,000 predictions of the unlabelled What's Cooking recipes (production-like traffic)
to a local store, then times reading the window, the drift statistics and the report.

Usage: .venv/bin/python benchmarks/monitor.py [--model models/cuisine] [--source data/raw]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from cuisineflow.data.rawfiles import read_raw_file
from cuisineflow.monitoring.log import PredictionLogger, records_for
from cuisineflow.monitoring.report import build_report
from cuisineflow.monitoring.window import read_labels, read_predictions
from cuisineflow.params import MonitorParams, load_params
from cuisineflow.predict import Predictor
from cuisineflow.storage import Store


def monitor_params() -> MonitorParams:
    """The project's monitor: section, as `cuisineflow monitor` reads it."""
    params = Path("params.yaml")
    return load_params(params).monitor if params.exists() else MonitorParams()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/cuisine"))
    parser.add_argument("--profile", type=Path, default=Path("models/reference_profile.json"))
    parser.add_argument(
        "--source", type=Path, default=Path(os.environ.get("CUISINEFLOW_SOURCE", "data/raw"))
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--windows", type=int, default=400, help="resampled windows for the false-alarm rate"
    )
    args = parser.parse_args()
    if args.windows < len(WINDOW_SIZES):
        parser.error(f"--windows {args.windows}: at least {len(WINDOW_SIZES)}, one of each size "
                     f"({', '.join(f'{size:,}' for size in WINDOW_SIZES)} recipes)")  # fmt: skip
    needed = (args.model / "model.json", args.profile, args.source / "test.json.zip")
    missing = next((path for path in needed if not path.exists()), None)
    if missing is not None:
        parser.error(f"{missing} is missing: run `make run` first (or give --source)")
    recipes = [r.ingredients for r in read_raw_file(args.source / "test.json.zip")]
    if len(recipes) < max(WINDOW_SIZES):  # windows are drawn without replacement
        parser.error(
            f"{args.source / 'test.json.zip'} holds {len(recipes):,} recipes: the false-alarm "
            f"windows need {max(WINDOW_SIZES):,} (Kaggle's file has 9,944)"
        )
    rng = random.Random(0)
    window = [rng.choice(recipes) for _ in range(args.n)]
    predictor = Predictor(args.model)
    reference = json.loads(args.profile.read_text())
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(folder)
        started = time.perf_counter()
        logger = PredictionLogger(store, max_buffer=args.n + 1, flush_records=20_000)
        for start in range(0, args.n, 1000):
            chunk = window[start : start + 1000]
            logger.log(records_for(predictor.predict(chunk), [(start + i, r) for i, r in enumerate(chunk)],
                                   "cuisine", "1", "bench", 0.1))  # fmt: skip
        logger.close()
        print(f"logged {logger.written:,} predictions in {time.perf_counter() - started:.1f} s "
              f"({len(store.list('monitoring/predictions'))} Parquet files)")  # fmt: skip
        times = []
        for _ in range(args.runs):
            begin = time.perf_counter()
            table = read_predictions(Store.open(folder), None, None)
            report = build_report(reference, table, read_labels(store, None), monitor_params(), {})
            times.append(time.perf_counter() - begin)
        print(f"monitor over {report['n_predictions']:,} predictions: median {statistics.median(times):.2f} s "
              f"of {args.runs} runs; alerts: {[a['name'] for a in report['alerts']] or 'none'}")  # fmt: skip
    false_alarms(predictor, reference, recipes, args.windows)


WINDOW_SIZES = (100, 200, 1000, 5000)  # 100: monitor.min_window, the smallest judged


def false_alarms(
    predictor: Predictor, reference: dict[str, Any], recipes: list[list[str]], windows: int
) -> None:
    """Windows resampled from unseen recipes of the same distribution: how often any alert fires."""
    from cuisineflow.monitoring.drift import alerts, compare

    params, rng = monitor_params(), random.Random(1)
    fired, drawn = dict.fromkeys(WINDOW_SIZES, 0), dict.fromkeys(WINDOW_SIZES, 0)
    names: dict[str, int] = {}
    for k in range(windows):
        size = WINDOW_SIZES[k % len(WINDOW_SIZES)]
        drawn[size] += 1  # the sizes take turns: a count not a multiple of 4 favours the first
        window = rng.sample(recipes, size)
        probabilities = predictor.predict_proba(window)
        predicted = [predictor.classes[i] for i in probabilities.argmax(axis=1)]
        report = compare(reference, window, predicted, probabilities.max(axis=1), params)
        found = alerts(report)
        fired[size] += bool(found)
        for alert in found:
            names[alert["name"]] = names.get(alert["name"], 0) + 1
    total = sum(fired.values())
    by_size = ", ".join(f"{size:,}: {fired[size]}/{drawn[size]}" for size in WINDOW_SIZES)
    print(f"false alarms: {total} of {windows} windows of unseen recipes ({total / windows:.1%}); "
          f"by window size {by_size}; by check: {names or 'none'}")  # fmt: skip


if __name__ == "__main__":
    main()
