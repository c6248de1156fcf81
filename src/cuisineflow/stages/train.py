"""DVC stage `train`: fit the model of params.yaml on the features, for `evaluate` to score."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import scipy.sparse as sp

from cuisineflow.data.split_tables import read_splits
from cuisineflow.features import Featurizer
from cuisineflow.models import train
from cuisineflow.models.artifact import load_featurizer, save_model
from cuisineflow.models.ensemble import Ensemble
from cuisineflow.params import FeaturizeParams, load_params
from cuisineflow.paths import EVALUATED_MODEL_DIR, FEATURES_DIR
from cuisineflow.storage.local import atomic_write_json, staged_folder


def run(root: Path, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Fit and calibrate on the fitting splits, then write models/evaluated."""
    params = load_params(root / "params.yaml")
    featurizer, features, labels = fitting_data(root, params.featurize)
    started = time.perf_counter()
    classifier = train.fit_ensemble(featurizer, features, labels, params.train, progress)
    seconds = time.perf_counter() - started
    written = write_model(root / EVALUATED_MODEL_DIR, featurizer, classifier)
    summary = {
        "model": params.train.model,
        "trees_weight": params.train.trees.weight,
        "fit_rows": features.shape[0],
    } | written
    atomic_write_json(root / "metrics" / "train.json", summary)
    # The fit's duration is printed, not stored: DVC outputs stay a function of their inputs.
    return summary | {"fit_seconds": round(seconds, 1)}


def fitting_data(
    root: Path, params: FeaturizeParams
) -> tuple[Featurizer, sp.csr_matrix, list[str]]:
    """The featurize stage's fitted vectorisers, and the feature rows and labels to fit on."""
    names = params.fit_splits
    features = sp.vstack([sp.load_npz(root / FEATURES_DIR / f"{n}.npz") for n in names]).tocsr()
    labels = read_splits(root, names)["cuisine"].to_pylist()
    return load_featurizer(root / FEATURES_DIR / "featurizer"), features, labels


def write_model(target: Path, featurizer: Featurizer, classifier: Ensemble) -> dict[str, Any]:
    """Save a model folder whole (staged, then renamed); its feature count and size."""
    with staged_folder(target) as folder:
        spec = save_model(folder, featurizer, classifier)
    size = sum(p.stat().st_size for p in target.iterdir())
    return {"n_features": spec["n_features"], "artifact_mb": round(size / 1e6, 2)}
