"""The experiments table: `dvc exp show --json` flattened to the params and metrics that matter."""

from __future__ import annotations

from typing import Any

from cuisineflow.models.metrics import TOP_K_ACCURACY

# Always shown; any other param is shown when its value differs between the rows.
PARAM_COLUMNS = (
    "train.model", "train.C", "train.calibration", "train.trees.weight", "featurize.fit_on",
)  # fmt: skip
METRIC_COLUMNS = ("accuracy", "macro_f1", "top_k_accuracy", "expected_calibration_error")


def experiment_rows(exp_show: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per workspace, commit and experiment: its name, the commit an experiment
    branched from (its baseline), params, test metrics."""
    entries: list[tuple[dict[str, Any], str, str | None, str]] = []
    for commit in exp_show:
        rev = commit["rev"]
        commit_name = commit.get("name") or (rev if rev == "workspace" else rev[:7])
        entries.append((commit, commit_name, None, "success"))
        for experiment in commit.get("experiments") or []:
            state = _state(experiment)
            for rev in experiment.get("revs") or []:
                name = rev.get("name") or rev["rev"][:7]
                entries.append((rev, name, commit_name, "failed" if rev.get("error") else state))
    params = [_params(entry) for entry, _, _, _ in entries]
    others = sorted({key for p in params for key in p} - {*PARAM_COLUMNS, "featurize.blocks"})
    varying = [key for key in others if len({repr(p.get(key)) for p in params}) > 1]
    unfinished = any(state != "success" for _, _, _, state in entries)
    rows = []
    for (entry, name, baseline, state), flat in zip(entries, params, strict=True):
        row: dict[str, Any] = {"experiment": name, "baseline": baseline}
        if unfinished:  # a column only when a run failed or has yet to finish
            row["state"] = state
        row.update({column: flat.get(column) for column in (*PARAM_COLUMNS, *varying)})
        row["features"] = flat.get("featurize.blocks")
        metrics = _metrics(entry)
        if state != "success":  # DVC shows such a run with its baseline's metrics
            metrics = dict.fromkeys(metrics)
        row.update(metrics)
        rows.append(row)
    return rows


def _state(experiment: dict[str, Any]) -> str:
    """success, failed, queued or running, as DVC's queue knows an experiment."""
    executor = experiment.get("executor") or {}
    state = executor.get("state") if isinstance(executor, dict) else None
    return state if isinstance(state, str) else "success"


def _params(entry: dict[str, Any]) -> dict[str, Any]:
    """params.yaml as dotted keys; the feature blocks as one summary such as words+word_pairs."""
    data = entry.get("data") or {}
    params = ((data.get("params") or {}).get("params.yaml") or {}).get("data") or {}
    flat: dict[str, Any] = {}

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{prefix}.{key}" if prefix else str(key))
        elif prefix == "featurize.blocks":
            flat[prefix] = "+".join(str(b.get("analyzer")) for b in value or []) or None
        elif isinstance(value, list):
            flat[prefix] = ",".join(map(str, value))
        else:
            flat[prefix] = value

    walk(params, "")
    return flat


def _test_metrics(entry: dict[str, Any]) -> dict[str, Any]:
    """metrics/evaluate.json's test scores, as `dvc exp show --json` gives them."""
    data = entry.get("data") or {}
    metrics = data.get("metrics") or {}
    test = ((metrics.get("metrics/evaluate.json") or {}).get("data") or {}).get("test")
    return test or {}


def _metrics(entry: dict[str, Any]) -> dict[str, Any]:
    evaluation = _test_metrics(entry)
    top_k = next((value for key, value in evaluation.items() if TOP_K_ACCURACY.match(key)), None)
    found = {**evaluation, "top_k_accuracy": top_k}
    return {
        column: round(value, 4) if isinstance(value, float) else value
        for column in (*METRIC_COLUMNS, "accuracy_ci_low", "accuracy_ci_high")
        for value in [found.get(column)]
    }


def top_ks(exp_show: list[dict[str, Any]]) -> list[int]:
    """The k of each top-k accuracy the runs recorded (top_3_accuracy: 3), each once."""
    entries = [
        entry
        for commit in exp_show
        for entry in (
            commit,
            *(r for e in commit.get("experiments") or [] for r in e.get("revs") or []),
        )
    ]
    keys = {key for entry in entries for key in _test_metrics(entry)}
    return sorted(int(key.split("_")[1]) for key in keys if TOP_K_ACCURACY.match(key))


def workspace_run(rows: list[dict[str, Any]]) -> str | None:
    """The experiment or commit whose run the workspace holds, if another row has the
    workspace's params and metrics: after `dvc exp run` it holds that experiment's."""

    def run_of(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in ("experiment", "baseline")}

    workspace = next((row for row in rows if row["experiment"] == "workspace"), None)
    if workspace is None:
        return None
    same = (r["experiment"] for r in rows if r is not workspace and run_of(r) == run_of(workspace))
    return next(same, None)
