"""DVC stage `register`: put the served model, models/cuisine, in the registry with its lineage."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import yaml

from cuisineflow.params import load_params
from cuisineflow.paths import PIPELINE_MODEL_DIR, REFERENCE_PROFILE, REGISTERED
from cuisineflow.registry import ModelRef, Registry, content_hash, read_registered
from cuisineflow.settings import get_settings
from cuisineflow.storage import open_store
from cuisineflow.storage.dvc import DvcRepo
from cuisineflow.storage.local import atomic_write_json

LIBRARIES = ("cuisineflow", "numpy", "scipy", "scikit-learn", "pyarrow", "dvc")


def lineage(root: Path) -> dict[str, Any]:
    """Where the model came from: params, metrics, data hashes, code commit, libraries."""
    lock = yaml.safe_load((root / "dvc.lock").read_text()) if (root / "dvc.lock").exists() else {}
    split_outs = ((lock or {}).get("stages", {}).get("split", {}) or {}).get("outs", [])
    metrics_file = root / "metrics" / "evaluate.json"
    refit_file = root / "metrics" / "refit.json"
    return {
        "params": yaml.safe_load((root / "params.yaml").read_text()),
        # Scores of the evaluated fit (models/evaluated) on recipes it never saw; after a
        # refit on all labelled recipes they estimate the served model from below.
        "metrics": json.loads(metrics_file.read_text()) if metrics_file.exists() else {},
        "refit": json.loads(refit_file.read_text()) if refit_file.exists() else None,
        "lineage": {
            "raw_data": {"path": "data/raw", "dvc_md5": DvcRepo(root).tracked_hash("data/raw.dvc")},
            "training_data": {
                "path": "data/split",
                "dvc_md5": next(
                    (o.get("md5") for o in split_outs if o.get("path") == "data/split"), None
                ),
            },
            "git": _git(root),
        },
        "libraries": {"python": platform.python_version()}
        | {name: package_version(name) for name in LIBRARIES},
        "monitoring_reference": (
            json.loads(profile.read_text())
            if (profile := root / REFERENCE_PROFILE).exists()
            else None
        ),
    }


# What a model is made from, besides the data DVC tracks: the code, the pipeline, its params
# and the locked libraries.
MODEL_INPUTS = ("src", "dvc.yaml", "params.yaml", "data/raw.dvc", "pyproject.toml", "uv.lock")


def profile_file(root: Path) -> dict[str, Path]:
    """The reference profile that travels with the model's files, if the pipeline made one."""
    profile = root / REFERENCE_PROFILE
    return {"reference_profile.json": profile} if profile.exists() else {}


def current_record(root: Path, verified: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """What register recorded, while models/cuisine still holds that content (a `refit` or
    an edit since then makes it another model, which is no longer that version).
    `verified`: the sha256 of its files as a load just checked them (not read again)."""
    record = read_registered(root)
    folder = root / PIPELINE_MODEL_DIR
    if record is None or not folder.is_dir():
        return None
    identity = content_hash(folder, profile_file(root), known=verified)
    return record if identity == record.get("content_sha256") else None


def run(root: Path) -> dict[str, Any]:
    """Register the pipeline's model; the same content keeps its existing version."""
    params = load_params(root / "params.yaml").register_
    registry = Registry(open_store(get_settings(), root))
    with tempfile.TemporaryDirectory(prefix="cuisineflow-register-") as folder:
        # The reference profile travels with the model's files: a new profile is a new
        # version, and a server or Lambda that fetches the version has it.
        shutil.copytree(root / PIPELINE_MODEL_DIR, folder, dirs_exist_ok=True)
        for name, path in profile_file(root).items():
            shutil.copyfile(path, Path(folder) / name)
        version, created = registry.register(params.name, Path(folder), lineage(root))
    registry.promote(ModelRef(params.name, str(version)), params.alias)
    metadata = registry.metadata(params.name, version)
    summary = {
        "name": params.name,
        "version": version,
        "alias": params.alias,
        "content_sha256": metadata["content_sha256"],
        "store": registry.store.uri,
    }
    atomic_write_json(root / REGISTERED, summary)  # the same on every run of the same model
    return summary | {"created": created}


def _git(root: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False
        )
        return result.stdout.strip() if result.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    # Whether the inputs differ from the commit: the pipeline has changed its own outputs
    # (dvc.lock, metrics, plots) by now, which would make every retrained model "dirty".
    status = git("status", "--porcelain", "--", *MODEL_INPUTS)
    return {"commit": commit, "dirty": bool(status) if status is not None else None}
