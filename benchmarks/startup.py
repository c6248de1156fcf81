"""Benchmark: how long each pipeline stage's process takes to import its code, with the
bytecode that `make setup` writes (`compile-bytecode` in pyproject.toml) and without it.

Every DVC stage, test and `cuisineflow` command is a new Python process. Where Python may
not write bytecode (PYTHONDONTWRITEBYTECODE is set), a process without it compiles
scikit-learn, SciPy and pandas from source each time. "Without" points Python's bytecode
cache at an empty folder (PYTHONPYCACHEPREFIX) and forbids writing it, so it measures
that case without touching .venv. Each import runs in a fresh interpreter; the two cases
alternate. Prints the median wall time of each stage's imports, their sum (what one
`dvc repro` of every stage spends before working) and the ratio.

Usage: .venv/bin/python benchmarks/startup.py [--repeat 3]
Needs only `make setup`; about 5 minutes on 2 cores with the defaults.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

STAGES = ("validate", "lake", "split", "featurize", "train", "evaluate", "refit", "register",
          "report")  # fmt: skip


def import_seconds(module: str, env: dict[str, str]) -> float:
    """Wall time of a fresh interpreter that imports one module and exits."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], env=env, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each import per case")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as empty:
        cases = {
            "bytecode": {**os.environ},
            "none": {**os.environ, "PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"},
        }
        times: dict[str, dict[str, list[float]]] = {case: {} for case in cases}
        for stage in STAGES:
            module = f"cuisineflow.stages.{stage}"
            for _ in range(args.repeat):
                for case, env in cases.items():
                    times[case].setdefault(stage, []).append(import_seconds(module, env))
    medians = {case: {s: statistics.median(t) for s, t in by.items()} for case, by in times.items()}
    print(f"importing each stage's code in a fresh interpreter, median of {args.repeat} (s)")
    print(f"{'stage':<10} {'bytecode':>9} {'none':>9} {'ratio':>7}")
    for stage in STAGES:
        with_, without = medians["bytecode"][stage], medians["none"][stage]
        print(f"{stage:<10} {with_:>9.2f} {without:>9.2f} {without / with_:>6.1f}x")
    total_with, total_without = (sum(medians[c].values()) for c in ("bytecode", "none"))
    print(f"{'all':<10} {total_with:>9.2f} {total_without:>9.2f} "
          f"{total_without / total_with:>6.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
