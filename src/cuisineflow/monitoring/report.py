"""The monitoring report: drift, estimated and realized accuracy, alerts; as JSON and HTML."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pyarrow as pa

from cuisineflow.errors import DataError
from cuisineflow.models.metrics import confusion_matrix, per_class
from cuisineflow.monitoring.drift import alerts, compare
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
        raise DataError(f"no predictions logged in the window {window_bounds}: nothing to monitor")
    if n < params.min_window:
        raise DataError(f"only {n} predictions in the window, fewer than monitor.min_window "
                        f"({params.min_window}): too few for a verdict")  # fmt: skip
    predicted = window["cuisine"].to_pylist()
    confidence = np.asarray(window["confidence"].to_numpy(zero_copy_only=False), dtype=np.float64)
    report = compare(reference, window["ingredients"].to_pylist(), predicted, confidence, params)
    report = {
        "window": window_bounds,
        **report,
        "realized_accuracy": None,
        "realized_macro_f1": None,
    }
    ids = window["id"].to_pylist()
    matched = [
        (labels[i], p) for i, p in zip(ids, predicted, strict=True) if i is not None and i in labels
    ]
    unknown = len(set(labels) - {i for i in ids if i is not None})
    report["labels"] = {"given": len(labels), "matched": len(matched), "unknown_ids": unknown}
    if matched:
        classes = sorted(reference["prediction_share"])
        index = {c: k for k, c in enumerate(classes)}
        truth = np.array([index.get(t, -1) for t, _ in matched])
        guess = np.array([index[p] for _, p in matched])
        known = truth >= 0
        report["realized_accuracy"] = float(np.mean(truth == guess))
        confusion = confusion_matrix(truth[known], guess[known], len(classes))
        table = per_class(confusion)
        # The cuisines labelled or predicted, as scikit-learn's f1_score averages them.
        present = (confusion.sum(axis=1) > 0) | (confusion.sum(axis=0) > 0)
        report["realized_macro_f1"] = float(table["f1"][present].mean()) if present.any() else None
    report["alerts"] = alerts(report, params)
    return report


def render_html(report: dict[str, Any]) -> str:
    """A self-contained HTML page of the report."""
    rows = []
    for group, result in report["drift"].items():
        for check in result["checks"]:
            state = "ALERT" if check["detected"] else "ok"
            rows.append(
                f"<tr class='{state.lower()}'><td>{group}</td><td>{html.escape(check['name'])}</td>"
                f"<td>{check['value']:.4f}</td><td>{check['threshold']}</td>"
                f"<td>{check['p_value']:.2g}</td><td>{state}</td></tr>"
            )
    alerts = "".join(f"<li>{html.escape(a['name'])}: {a['value']} (threshold {a['threshold']})</li>"
                     for a in report["alerts"]) or "<li>none</li>"  # fmt: skip
    realized = report["realized_accuracy"]
    realized_text = "no labels matched" if realized is None else f"{realized:.4f}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cuisineflow monitoring</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}}
table{{border-collapse:collapse}}td,th{{padding:.3rem .7rem;border-bottom:1px solid #ddd}}
tr.alert td{{background:#fde2e1}}</style></head><body>
<h1>Monitoring report</h1>
<p>Window: {html.escape(str(report["window"]))}. Predictions: {report["n_predictions"]}.</p>
<p>Estimated accuracy (calibrated confidence): {report["estimated_accuracy"]:.4f}
(reference {report["reference_accuracy_estimate"]:.4f}). Realized accuracy: {realized_text}.</p>
<h2>Alerts</h2><ul>{alerts}</ul>
<h2>Drift checks</h2>
<table><tr><th>kind</th><th>check</th><th>value</th><th>threshold</th><th>p-value</th><th></th></tr>
{"".join(rows)}</table></body></html>
"""
