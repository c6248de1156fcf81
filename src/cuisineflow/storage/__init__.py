"""The only code that knows filesystems, URIs, credentials and the embedded S3 server."""

from pathlib import Path

from cuisineflow.settings import Settings
from cuisineflow.storage.store import Store, StoreError


def open_store(settings: Settings, project_root: Path) -> Store:
    """The store the settings name, local paths taken relative to the project."""
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


__all__ = ["Store", "StoreError", "open_store"]
