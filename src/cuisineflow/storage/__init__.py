"""The only code that knows filesystems, URIs, credentials and the embedded S3 server."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cuisineflow.settings import Settings
    from cuisineflow.storage.store import Store, StoreError


def open_store(settings: Settings, project_root: Path) -> Store:
    """The store the settings name, local paths taken relative to the project."""
    from cuisineflow.storage.store import Store

    return Store.open(
        settings.store_uri(home_project(project_root)), endpoint_url=settings.s3_endpoint_url,
        region=settings.region,
    )  # fmt: skip


def home_project(root: Path) -> Path:
    """The project that `root` is a queued experiment's copy of, else `root` itself.

    DVC runs a queued experiment in <project>/.dvc/tmp/exps/<name>/ and deletes the copy
    afterwards; the models it registers must land in the project's own store.
    """
    parts = root.parts
    for i in range(len(parts) - 2):
        if parts[i : i + 3] == (".dvc", "tmp", "exps"):
            return Path(*parts[:i])
    return root


def __getattr__(name: str) -> Any:
    """Store and StoreError, imported when first asked for: the store module loads fsspec and
    pyarrow (about 0.2 s), which `storage.local`'s atomic writes, used by `predict`, never need."""
    if name in ("Store", "StoreError"):
        return getattr(importlib.import_module("cuisineflow.storage.store"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Store", "StoreError", "open_store"]
