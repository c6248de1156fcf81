"""The monitoring report: drift, estimated and realized accuracy, alerts, as a dict that
`monitor` writes as report.json (reports/pages.py renders it as HTML)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from cuisineflow.errors import DataError
from cuisineflow.models.metrics import confusion_matrix, macro_f1
from cuisineflow.monitoring.drift import alerts, compare, realized_accuracy_check
from cuisineflow.params import MonitorParams


def build_report(
    reference: dict[str, Any],
    window: pa.Table,
    labels: dict[str, str],
    params: MonitorParams,
    window_bounds: dict[str, Any],
) -> dict[str, Any]:
    """Compare a window of logged predictions with the model's reference profile."""
    n = window.num_rows
    if n == 0:
        raise DataError(f"no predictions logged in the window ({window_text(window_bounds)}): "
                        "nothing to monitor")  # fmt: skip
    if n < params.min_window:
        raise DataError(f"only {n} predictions in the window ({window_text(window_bounds)}), "
                        f"fewer than monitor.min_window ({params.min_window}): too few for a "
                        "verdict")  # fmt: skip
    predicted = window["cuisine"].to_pylist()
    confidence = np.asarray(window["confidence"].to_numpy(zero_copy_only=False), dtype=np.float64)
    report = compare(reference, window["ingredients"].to_pylist(), predicted, confidence, params)
    report = {
        "window": window_bounds,
        "alpha": params.alpha,
        **report,
        "realized_accuracy": None,
        "realized_macro_f1": None,
    }
    matched, repeated = _latest_prediction_per_label(window, predicted, labels)
    unknown = len(set(labels) - {i for i in window["id"].to_pylist() if i is not None})
    report["labels"] = {"given": len(labels), "matched": len(matched), "unknown_ids": unknown,
                        "repeated_predictions": repeated}  # fmt: skip
    if matched:
        # A labelled cuisine the model does not know still counts: recall 0 for it, and the
        # wrong predictions count against the precision of the cuisine predicted.
        classes = sorted(set(reference["prediction_share"]).union(*matched))
        index = {c: k for k, c in enumerate(classes)}
        truth = np.array([index[t] for t, _ in matched])
        guess = np.array([index[p] for _, p in matched])
        report["realized_accuracy"] = float(np.mean(truth == guess))
        confusion = confusion_matrix(truth, guess, len(classes))
        report["realized_macro_f1"] = macro_f1(confusion)
        check = realized_accuracy_check(report["realized_accuracy"], len(matched), params)
        report["performance"]["checks"].append(check)
        report["performance"]["detected"] |= check["detected"]
    report["alerts"] = alerts(report)
    return report


def _latest_prediction_per_label(
    window: pa.Table, predicted: list[str], labels: dict[str, str]
) -> tuple[list[tuple[str, str]], int]:
    """(label, prediction) once per labelled id, its latest prediction; and how many earlier
    predictions of those ids were left out (a retried request is not fresh evidence)."""
    ids = window["id"].to_pylist()
    order = np.argsort(window["timestamp"].to_numpy(), kind="stable")
    latest: dict[str, str] = {}
    rows = 0
    for k in order:
        if ids[k] is not None and ids[k] in labels:
            latest[ids[k]] = predicted[k]
            rows += 1
    return [(labels[i], p) for i, p in latest.items()], rows - len(latest)


def window_text(bounds: dict[str, Any]) -> str:
    """A window's bounds in words: model, since and until (open ends said so)."""
    since, until = bounds.get("since"), bounds.get("until")
    span = (
        f"from {since or 'the first log'} to {until or 'now'}"
        if since or until
        else "all logged predictions"
    )
    return f"{bounds['model']}, {span}" if bounds.get("model") else span
