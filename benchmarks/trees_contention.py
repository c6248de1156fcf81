"""Benchmark: fitting the trees with another process busy on a core, by OpenMP spin count.

LightGBM's OpenMP threads spin at each barrier before they sleep (libgomp's
GOMP_SPINCOUNT, 300,000 by default). When another process holds one of the cores, a
spinning thread waits on one that is not running. `models/boosting.py` sets 1,000
unless the environment says otherwise. This fits the default `train.trees` of
params.yaml on the pipeline's fitting splits with each spin count, in turn, on the idle
machine and beside a busy loop, each fit in a fresh interpreter (OpenMP reads the
setting once). Prints the median wall time of each and the ratios; the trees are the
same either way (their checksums are printed too).

Usage: .venv/bin/python benchmarks/trees_contention.py [--project .] [--repeat 3]
       [--loads idle,busy]
Needs data/features and data/split from a pipeline run (`make run`). On 2 cores a fit
took 1 to 7 minutes, so the defaults take about half an hour; `--repeat 1` a third of it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import run_child

from cuisineflow.params import load_params
from cuisineflow.paths import FEATURES_DIR

SPIN_COUNTS = ("300000", "1000")  # libgomp's default, and the project's
LOADS = {"idle": "idle", "busy": "one core busy"}

FIT = """
import hashlib, json, sys, time
from pathlib import Path
from cuisineflow.models import boosting
from cuisineflow.params import load_params
from cuisineflow.stages.train import fitting_data
root = Path(sys.argv[1])
params = load_params(root / "params.yaml")
featurizer, features, labels = fitting_data(root, params.featurize)
columns = boosting.tree_columns(featurizer, features, params.train.trees)
started = time.perf_counter()
booster = boosting.fit_booster(features, labels, tuple(sorted(set(labels))), columns,
                               params.train.trees, params.train.seed)
seconds = time.perf_counter() - started
trees = json.dumps(booster.dump_model()["tree_info"], sort_keys=True).encode()
print(json.dumps({"seconds": seconds, "sha256": hashlib.sha256(trees).hexdigest()[:12]}))
"""


def fit_once(root: Path, spin_count: str) -> dict[str, object]:
    """One fit of the trees in a fresh interpreter with the given spin count."""
    env = {**os.environ, "GOMP_SPINCOUNT": spin_count}
    done = run_child(
        [sys.executable, "-c", FIT, str(root)],
        f"fitting the trees (GOMP_SPINCOUNT={spin_count})",
        env=env,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--loads", default="idle,busy", help="idle, busy (one core), or both (the default)"
    )
    args = parser.parse_args()
    unknown = sorted(set(args.loads.split(",")) - set(LOADS))
    if unknown:
        parser.error(f"--loads: {', '.join(unknown)} is not one of {', '.join(LOADS)}")
    root = args.project.resolve()
    if not (root / FEATURES_DIR / "featurizer").exists():
        parser.error(f"no {FEATURES_DIR} in {root}: run `make run` first")
    rounds = load_params(root / "params.yaml").train.trees.rounds
    print(f"{os.cpu_count()} cores; {rounds} rounds of trees; median of {args.repeat} fits")
    medians: dict[tuple[str, str], float] = {}
    loads = [LOADS[name] for name in args.loads.split(",")]
    for load in loads:
        busy = None
        if load != "idle":  # a second process that never sleeps, as a user's other work
            busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            time.sleep(1)
        try:
            # Interleaved, so that a change in the machine's other load falls on both.
            runs = [(s, fit_once(root, s)) for _ in range(args.repeat) for s in SPIN_COUNTS]
            for spin_count in SPIN_COUNTS:
                fits = [fit for s, fit in runs if s == spin_count]
                seconds = statistics.median(float(str(f["seconds"])) for f in fits)
                medians[load, spin_count] = seconds
                checksums = sorted({str(f["sha256"]) for f in fits})
                print(f"  {load:<14} GOMP_SPINCOUNT={spin_count:<7} {seconds:6.1f} s  "
                      f"trees {', '.join(checksums)}", flush=True)  # fmt: skip
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
    for load in loads:
        ratio = medians[load, "300000"] / medians[load, "1000"]
        print(f"{load}: 1,000 spins fit {ratio:.2f}x as fast as libgomp's default")
    if len(loads) == len(LOADS):
        for spin_count in SPIN_COUNTS:
            slowdown = medians["one core busy", spin_count] / medians["idle", spin_count]
            print(f"GOMP_SPINCOUNT={spin_count}: {slowdown:.1f}x as long with a core busy")


if __name__ == "__main__":
    main()
