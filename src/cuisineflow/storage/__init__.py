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
    from cuisineflow.settings import home_project
    from cuisineflow.storage.store import Store

    return Store.open(
        settings.store_uri(home_project(project_root)), endpoint_url=settings.s3_endpoint_url,
        region=settings.region,
    )  # fmt: skip


def __getattr__(name: str) -> Any:
    """Store and StoreError, imported when first asked for: the store module loads fsspec and
    pyarrow (about 0.2 s), which `storage.local`'s atomic writes, used by `predict`, never need."""
    if name in ("Store", "StoreError"):
        return getattr(importlib.import_module("cuisineflow.storage.store"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Store", "StoreError", "open_store"]
