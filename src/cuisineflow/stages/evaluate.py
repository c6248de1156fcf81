"""DVC stage `evaluate`: the saved model on held-out recipes -> metrics/ and plots/."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from cuisineflow.data.split_tables import read_splits
from cuisineflow.monitoring.profile import build_profile
from cuisineflow.params import load_params
from cuisineflow.paths import EVALUATED_MODEL_DIR, REFERENCE_PROFILE
from cuisineflow.predict import Predictor
from cuisineflow.scoring import Scores, score
from cuisineflow.storage.local import atomic_write_bytes, atomic_write_json

PLOTS_DIR = "plots"


def run(root: Path) -> dict[str, Any]:
    """Score the evaluated fit, through the serving path, on every split it never learnt
    from; profile the test split for monitoring."""
    params = load_params(root / "params.yaml")
    predictor = Predictor(root / EVALUATED_MODEL_DIR)
    held_out = [n for n in ("valid", "test") if n not in params.featurize.fit_splits]
    summary: dict[str, Any] = {}
    for name in held_out:
        table = read_splits(root, [name])
        scores = score(
            predictor,
            table["ingredients"].to_pylist(),
            table["cuisine"].to_pylist(),
            params.evaluate,
        )
        result = scores.metrics
        summary[name] = {k: v for k, v in result.items() if not isinstance(v, dict | list)}
        if name == "test":  # valid's summary is in evaluate.json; dvc.yaml declares test's
            atomic_write_json(root / "metrics" / "per_cuisine_test.json", result["per_cuisine"])
            _write_plots(root / PLOTS_DIR, scores, predictor.classes)
            fitting = read_splits(root, params.featurize.fit_splits)["ingredients"].to_pylist()
            profile = build_profile(
                table["ingredients"].to_pylist(), scores.probabilities, predictor.classes,
                fitting, calibration=result["calibration"],
            )  # fmt: skip
            atomic_write_json(root / REFERENCE_PROFILE, profile)
    atomic_write_json(root / "metrics" / "evaluate.json", summary)
    return summary


def _write_plots(folder: Path, scores: Scores, classes: tuple[str, ...]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    result, truth = scores.metrics, scores.truth
    predicted = scores.probabilities.argmax(axis=1)
    _write_csv(
        folder / "confusion.csv",
        ["actual", "predicted"],
        [[classes[t], classes[p]] for t, p in zip(truth, predicted, strict=True)],
    )
    _write_csv(
        folder / "calibration.csv",
        ["confidence", "accuracy", "count"],
        [
            [round(b["confidence"], 4), round(b["accuracy"], 4), b["count"]]
            for b in result["calibration"]
            if b["count"]
        ],
    )
    _write_csv(
        folder / "per_cuisine.csv",
        ["cuisine", "precision", "recall", "f1", "support"],
        [
            [
                c,
                round(m["precision"], 4),
                round(m["recall"], 4),
                round(m["f1"], 4),
                int(m["support"]),
            ]
            for c, m in result["per_cuisine"].items()
        ],
    )


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    atomic_write_bytes(path, text.getvalue().encode())
