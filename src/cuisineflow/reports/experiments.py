"""The experiments table: `dvc exp show --json` flattened to the params and metrics that matter."""

from __future__ import annotations

from typing import Any

PARAM_COLUMNS = (
    "train.model", "train.C", "train.calibration", "train.trees.weight", "featurize.fit_on",
)  # fmt: skip
METRIC_COLUMNS = ("accuracy", "macro_f1", "top_3_accuracy", "expected_calibration_error")


def experiment_rows(exp_show: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per workspace, commit and experiment: name, key params, test metrics."""
    rows = []
    for commit in exp_show:
        rev = commit["rev"]
        rows.append(_row(commit, commit.get("name") or (rev if rev == "workspace" else rev[:7])))
        for experiment in commit.get("experiments") or []:
            for rev in experiment.get("revs") or []:
                rows.append(_row(rev, "  " + (rev.get("name") or rev["rev"][:7])))
    return rows


def _row(entry: dict[str, Any], name: str) -> dict[str, Any]:
    data = entry.get("data") or {}
    params = ((data.get("params") or {}).get("params.yaml") or {}).get("data") or {}
    metrics = data.get("metrics") or {}
    evaluation = ((metrics.get("metrics/evaluate.json") or {}).get("data") or {}).get("test") or {}
    row: dict[str, Any] = {"experiment": name}
    for column in PARAM_COLUMNS:
        value: Any = params
        for key in column.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        row[column] = value
    blocks = (params.get("featurize") or {}).get("blocks") or []
    row["features"] = "+".join(str(b.get("analyzer")) for b in blocks) or None
    for column in METRIC_COLUMNS:
        value = evaluation.get(column)
        row[column] = round(value, 4) if isinstance(value, float) else value
    return row
