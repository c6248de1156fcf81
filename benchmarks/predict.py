"""Benchmark: `cuisineflow predict` on Kaggle's 9,944 unlabelled recipes, end to end.

Times the command as a user runs it (start-up, imports, model load and verification,
reading the zip, predicting, writing jsonl), on the usable cores (its default) and on one
thread, the two alternating, against its floor, `Predictor.predict` on the same recipes in
one process with the model already loaded, one thread. Prints the median of --runs
timings of each; the target is 3 s for the command.

--baseline REV also times the package's code as it was at git revision REV (same model,
same environment), alternating with today's, and says whether every case wrote the same
bytes (if not, it names the cases that differ and exits 1): how a change to the prediction
code is measured against the code before it.

Usage: .venv/bin/python benchmarks/predict.py [--model models/cuisine] [--source DIR]
       [--runs 5] [--baseline REV]
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
from itertools import zip_longest
from pathlib import Path

from _common import run_child

from cuisineflow.data.rawfiles import read_raw_file
from cuisineflow.predict import Predictor, usable_cores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/cuisine"))
    parser.add_argument(
        "--source", type=Path, default=Path(os.environ.get("CUISINEFLOW_SOURCE", "data/raw"))
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", metavar="REV", help="also time the code at this revision")
    args = parser.parse_args()
    recipes_file = args.source / "test.json.zip"
    for needed in (args.model / "model.json", recipes_file):
        if not needed.exists():
            parser.error(f"{needed} is missing: run `make run` first (or give --source)")
    command = [sys.executable, "-m", "cuisineflow", "predict", str(recipes_file), "--model",
               str(args.model)]  # fmt: skip
    threads = {"usable cores": usable_cores(), "one thread": 1}  # the first is the default
    with tempfile.TemporaryDirectory() as folder:
        cases = {case: (n, dict(os.environ)) for case, n in threads.items()}
        if args.baseline:
            try:
                baseline = _baseline_sources(args.baseline, folder)
            except subprocess.CalledProcessError as error:  # say what git said
                parser.error(f"--baseline {args.baseline}: {error.stderr.decode().strip()}")
            baseline_env = dict(os.environ, PYTHONPATH=baseline)
            cases |= {f"{args.baseline}, {case}": (n, baseline_env) for case, n in threads.items()}
        ends: dict[str, list[float]] = {case: [] for case in cases}
        outputs: dict[str, bytes] = {}
        for _ in range(args.runs):
            for case, (n, env) in cases.items():
                started = time.perf_counter()
                output = ["--output", f"{folder}/out.jsonl"]
                run_child(
                    [*command, "--threads", str(n), *output],
                    f"cuisineflow predict, {case}",
                    env=env,
                )
                ends[case].append(time.perf_counter() - started)
                outputs[case] = Path(folder, "out.jsonl").read_bytes()
    lines = len(outputs["one thread"].splitlines())
    recipes = [r.ingredients for r in read_raw_file(recipes_file)]
    predictor = Predictor(args.model)
    floors = []
    for _ in range(args.runs):
        started = time.perf_counter()
        predictor.predict(recipes)
        floors.append(time.perf_counter() - started)
    for case, times in ends.items():
        print(f"cuisineflow predict, {lines:,} recipes end to end, {case} ({cases[case][0]}): "
              f"median {statistics.median(times):.2f} s of {args.runs} "
              f"(range {min(times):.2f}-{max(times):.2f}); target 3 s")  # fmt: skip
    median = {case: statistics.median(times) for case, times in ends.items()}
    one, usable = median["one thread"], median["usable cores"]
    print(f"usable cores against one thread: {one / usable:.2f}x as fast")
    if args.baseline:
        for case in threads:
            print(f"{case} against {args.baseline}: "
                  f"{median[f'{args.baseline}, {case}'] / median[case]:.2f}x as fast")  # fmt: skip
    different = differences(outputs)
    print(f"every case wrote the same bytes: {'NO' if different else 'yes'}")
    for difference in different:
        print(f"  {difference}")
    floor = statistics.median(floors)
    print(f"Predictor.predict on the same recipes, model loaded, one thread: median "
          f"{floor:.2f} s ({len(recipes) / floor:,.0f} recipes/s); the rest of one thread's "
          f"{one:.2f} s is start-up, loading and writing")  # fmt: skip
    if different:
        sys.exit(f"not every case wrote the same bytes: {'; '.join(different)}")


def differences(outputs: dict[str, bytes]) -> list[str]:
    """Each case whose output is not the first case's bytes, with how many lines differ."""
    (first, expected), *others = outputs.items()
    lines = expected.splitlines()
    found = []
    for case, output in others:
        if output != expected:
            theirs = output.splitlines()
            differ = sum(a != b for a, b in zip_longest(theirs, lines))
            what = (
                f"{differ:,} of {len(theirs):,} lines differ"
                if differ
                else "the same lines, other line ends"
            )
            found.append(f"{case}: {what} from {first}")
    return found


def _baseline_sources(revision: str, folder: str) -> str:
    """The package's code at a git revision, extracted under folder: a PYTHONPATH for it."""
    archive = subprocess.run(["git", "archive", revision, "src/cuisineflow"],
                             check=True, capture_output=True).stdout  # fmt: skip
    target = Path(folder, "baseline")
    target.mkdir()
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return str(target / "src")


if __name__ == "__main__":
    main()
