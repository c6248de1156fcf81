"""DVC stage `lake`: data/validated -> <store>/lake/ (Parquet, index, raw copies, manifest)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from cuisineflow.data.lake import LAKE, MANIFEST, build_lake, parse_manifest
from cuisineflow.params import load_params
from cuisineflow.paths import VALIDATED_DIR
from cuisineflow.settings import get_settings
from cuisineflow.storage import Store, open_store
from cuisineflow.storage.local import atomic_write_json

LOCAL_MANIFEST = "data/lake/manifest.json"


def run(root: Path) -> dict[str, Any]:
    """Build the lake from the validated recipes and publish it to the store."""
    params = load_params(root / "params.yaml").lake
    store = open_store(get_settings(), root)
    store.check()
    validated = pq.read_table(root / VALIDATED_DIR / "recipes.parquet")
    raw_hash = (validated.schema.metadata or {}).get(b"cuisineflow.raw_hash", b"").decode()
    with tempfile.TemporaryDirectory(prefix="cuisineflow-lake-") as folder:
        manifest = build_lake(validated, params, Path(folder))
        manifest["raw_hash"] = raw_hash
        manifest["store"] = store.uri
        (Path(folder) / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        store.publish_folder(Path(folder), LAKE, last="manifest.json")
    atomic_write_json(root / LOCAL_MANIFEST, manifest)
    return manifest


def manifests(root: Path, store: Store) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The lake manifest the workspace recorded and the one the store holds (None: absent,
    or damaged, so that `run` publishes the lake again).

    They differ when the store is not the one `lake` last ran against, or another checkout
    has published its lake there since.
    """
    local = root / LOCAL_MANIFEST
    workspace = json.loads(local.read_text()) if local.exists() else None
    try:
        data = store.read_bytes(MANIFEST)
    except FileNotFoundError:
        return workspace, None
    try:
        return workspace, parse_manifest(data)
    except ValueError:  # damaged: published again, as if absent
        return workspace, None
