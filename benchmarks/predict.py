"""Benchmark: `cuisineflow predict` on Kaggle's 9,944 unlabelled recipes, end to end.

Times the command as a user runs it (start-up, imports, model load and verification,
reading the zip, predicting, writing jsonl) against its floor, `Predictor.predict` on the
same recipes in one process with the model already loaded. Prints the median of --runs
timings of each; the target is 3 s for the command.

Usage: .venv/bin/python benchmarks/predict.py [--model models/cuisine] [--source DIR]
Needs a model from a pipeline run (`make run`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cuisineflow.data.rawfiles import read_raw_file
from cuisineflow.predict import Predictor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/cuisine"))
    parser.add_argument(
        "--source", type=Path, default=Path(os.environ.get("CUISINEFLOW_SOURCE", "data/raw"))
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    recipes_file = args.source / "test.json.zip"
    for needed in (args.model / "model.json", recipes_file):
        if not needed.exists():
            parser.error(f"{needed} is missing: run `make run` first (or give --source)")
    command = [sys.executable, "-m", "cuisineflow", "predict", str(recipes_file), "--model",
               str(args.model)]  # fmt: skip
    ends = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run([*command, "--output", f"{folder}/out.jsonl"], check=True,
                           capture_output=True)  # fmt: skip
            ends.append(time.perf_counter() - started)
        lines = len(Path(folder, "out.jsonl").read_text().splitlines())
    recipes = [r.ingredients for r in read_raw_file(recipes_file)]
    predictor = Predictor(args.model)
    floors = []
    for _ in range(args.runs):
        started = time.perf_counter()
        predictor.predict(recipes)
        floors.append(time.perf_counter() - started)
    end, floor = statistics.median(ends), statistics.median(floors)
    print(f"cuisineflow predict, {lines:,} recipes end to end: median {end:.2f} s of {args.runs} "
          f"(range {min(ends):.2f}-{max(ends):.2f}); target 3 s")  # fmt: skip
    print(f"Predictor.predict on the same recipes, model loaded: median {floor:.2f} s "
          f"({len(recipes) / floor:,.0f} recipes/s); the rest, {end - floor:.2f} s, is start-up, "
          "loading and writing")  # fmt: skip


if __name__ == "__main__":
    main()
