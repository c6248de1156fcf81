"""DVC stage `report` and `cuisineflow report`: HTML reports, copied to <store>/reports/."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from cuisineflow.data.split_tables import read_splits
from cuisineflow.errors import CuisineflowError, DataError
from cuisineflow.params import load_params
from cuisineflow.paths import EVALUATED_MODEL_DIR, SPLIT_DIR, VALIDATED_DIR
from cuisineflow.predict import Predictor
from cuisineflow.registry import read_registered
from cuisineflow.reports import pages
from cuisineflow.scoring import score
from cuisineflow.settings import get_settings
from cuisineflow.storage import Store, open_store
from cuisineflow.storage.local import atomic_write_bytes

REPORTS_DIR = "reports"
KINDS = ("data", "model", "experiments", "monitoring")
PIPELINE_KINDS = ("data", "model")  # the DVC stage's; `cuisineflow run` adds the others
PAGE_DAYS = 60  # the monitoring page judges the latest days; `monitor` any window

log = logging.getLogger(__name__)


def run(
    root: Path,
    kinds: tuple[str, ...] = PIPELINE_KINDS,
    output: Path | None = None,
    model: str | None = None,
    bad_logs_fail: bool = True,
) -> list[Path]:
    """Build the asked reports into `output` (default reports/); those in reports/ are also
    copied to the store, its shared pages. Pages built elsewhere (for another model, say)
    leave the store's alone.

    The monitoring page follows `model` (default: CUISINEFLOW_MODEL, the served model). A
    file among the logs that is no log fails it, unless `bad_logs_fail` is False (`run`,
    whose job is the model): then the page names the file.
    """
    folder = output or root / REPORTS_DIR
    shared = folder.resolve() == (root / REPORTS_DIR).resolve()
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder} is a file: give a folder for the reports")
    builders: dict[str, Callable[[Path, Store], str]] = {
        **BUILDERS,
        "monitoring": functools.partial(
            monitoring_report, model=model, bad_logs_fail=bad_logs_fail
        ),
    }
    store = open_store(get_settings(), root)
    built = {}
    for kind in kinds:
        missing = [path for path in NEEDS.get(kind, ()) if not (root / path).exists()]
        if missing:
            raise DataError(
                f"the {kind} report needs {missing[0]}, which the pipeline writes: run "
                "`cuisineflow run` first"
            )
        built[kind] = builders[kind](root, store).encode()
    # Every page is built before any is written, and the store's copies go first: a page
    # that fails, or a store that cannot be written, leaves the pages on disk as they were.
    if shared:
        for kind, html in built.items():
            store.write_bytes(f"reports/{kind}.html", html)
    for kind, html in built.items():
        atomic_write_bytes(folder / f"{kind}.html", html)
    return [folder / f"{kind}.html" for kind in built]


def data_report(root: Path, _: Store) -> str:
    table = pq.read_table(
        root / VALIDATED_DIR / "recipes.parquet", columns=["cuisine", "ingredients"]
    )
    recipes = list(zip(table["cuisine"].to_pylist(), table["ingredients"].to_pylist(), strict=True))
    validation = json.loads((root / "metrics" / "validation.json").read_text())
    return pages.data_page(recipes, validation)


def model_report(root: Path, store: Store) -> str:
    params = load_params(root / "params.yaml")
    # The evaluated fit: the served model may have learnt from the test split (refit).
    predictor = Predictor(root / EVALUATED_MODEL_DIR)
    test = read_splits(root, ["test"])
    recipes = test["ingredients"].to_pylist()
    scores = score(predictor, recipes, test["cuisine"].to_pylist(), params.evaluate)
    examples: dict[tuple[str, str], list[Sequence[str]]] = {}
    guesses = scores.probabilities.argmax(axis=1)
    for actual, guess, recipe in zip(scores.truth, guesses, recipes, strict=True):
        if actual != guess:
            examples.setdefault((predictor.classes[actual], predictor.classes[guess]), []).append(
                recipe
            )
    return pages.model_page(
        scores.metrics, predictor.classes, examples, _lineage(root, store), _fits(root)
    )


def _fits(root: Path) -> dict[str, Any]:
    """How many recipes the evaluated fit learnt from, and what is served: a refit or it."""
    train, refit = (root / "metrics" / "train.json"), (root / "metrics" / "refit.json")
    registered = read_registered(root)
    refit_metrics = json.loads(refit.read_text()) if refit.exists() else {}
    return {
        "evaluated_rows": json.loads(train.read_text()).get("fit_rows") if train.exists() else None,
        "served": f"{registered['name']}@{registered['version']}" if registered else None,
        "refit_rows": refit_metrics.get("fit_rows")
        if refit_metrics.get("recipes") == "all_labelled"
        else None,
    }


def experiments_report(root: Path, _: Store) -> str:
    from cuisineflow.reports.experiments import experiment_rows, top_ks
    from cuisineflow.storage.dvc import DvcRepo

    shown = json.loads(DvcRepo(root).run("exp", "show", "--json", quiet=True))
    return pages.experiments_page(experiment_rows(shown), top_ks(shown))


def monitoring_report(
    root: Path, store: Store, model: str | None = None, bad_logs_fail: bool = True
) -> str:
    from cuisineflow.monitoring.report import build_report
    from cuisineflow.monitoring.window import BadLogError, by_model, read_labels, read_predictions
    from cuisineflow.registry import ModelRef, Registry
    from cuisineflow.storage import StoreError

    params = load_params(root / "params.yaml").monitor
    try:
        name, version, reference = Registry(store).monitored(
            ModelRef.parse(model or get_settings().model)
        )
    except CuisineflowError as error:
        # Asked for by name, a typo is an error, not a page; so is a store out of reach.
        if model is not None or isinstance(error, StoreError):
            raise
        return pages.monitoring_page([], str(error))  # the default: no model served yet
    monitored = f"{name}@{version}"
    try:
        logs = by_model(read_predictions(store, None, None), name, version)
        labels = read_labels(store, None)
    except StoreError:
        raise
    except BadLogError as error:
        if bad_logs_fail:
            raise
        log.warning("the monitoring page has no verdict: %s", error)
        return pages.monitoring_page([], str(error), monitored)
    except CuisineflowError as error:  # no logs, or logs of another version only
        return pages.monitoring_page([], str(error), monitored)
    days = []
    dates = pc.strftime(logs["timestamp"], format="%Y-%m-%d")
    logged_days = sorted(set(dates.to_pylist()))
    first = (dt.date.fromisoformat(logged_days[-1]) - dt.timedelta(days=PAGE_DAYS - 1)).isoformat()
    for day in (d for d in logged_days if d >= first):
        window = logs.filter(pc.equal(dates, day))
        bounds = {"since": day, "until": None, "model": monitored}
        enough = window.num_rows >= params.min_window
        report = build_report(reference, window, labels, params, bounds) if enough else None
        days.append({"date": day, "n_predictions": window.num_rows, "report": report})
    earlier = logs.num_rows - sum(d["n_predictions"] for d in days)
    return pages.monitoring_page(days, model=monitored, min_window=params.min_window,
                                 floor=params.min_realized_accuracy, earlier=earlier)  # fmt: skip


def _lineage(root: Path, store: Store) -> dict[str, Any]:
    from cuisineflow.registry import Registry

    registered = read_registered(root)
    if registered is None:
        return {"model": "not registered yet"}
    metadata = Registry(store).metadata(registered["name"], registered["version"])
    if metadata.get("content_sha256") != registered.get("content_sha256"):
        # Another store, where the number names another model: its lineage is not ours.
        raise CuisineflowError(
            f"{registered['name']}@{registered['version']} in {store.describe()} is not the "
            f"model registered from this workspace (content {registered.get('content_sha256')}"
            f", not {metadata.get('content_sha256')}): `cuisineflow run` registers it there"
        )
    lineage = metadata.get("lineage", {})
    return {
        "model version": f"{registered['name']}@{registered['version']}",
        "created": metadata.get("created_at"),
        "raw data (DVC hash)": lineage.get("raw_data", {}).get("dvc_md5"),
        "training data (DVC hash)": lineage.get("training_data", {}).get("dvc_md5"),
        "served model learnt from": _learnt_from(metadata.get("refit") or {}),
        "git commit": lineage.get("git", {}).get("commit"),
        "git tree dirty": lineage.get("git", {}).get("dirty"),
        "content sha256": metadata.get("content_sha256"),
    }


def _learnt_from(refit: dict[str, Any]) -> str:
    if refit.get("recipes") == "all_labelled":
        return (
            f"all {refit['fit_rows']:,} labelled recipes (refit); the scores are the evaluated "
            "fit's"
        )
    return "the evaluated fit's recipes"


NEEDS = {  # what each report reads from the project
    "data": (f"{VALIDATED_DIR}/recipes.parquet", "metrics/validation.json"),
    "model": (EVALUATED_MODEL_DIR, f"{SPLIT_DIR}/test.parquet"),
}
BUILDERS = {
    "data": data_report,
    "model": model_report,
    "experiments": experiments_report,
    "monitoring": monitoring_report,
}
