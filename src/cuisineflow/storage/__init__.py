"""The only code that knows filesystems, URIs, credentials and the embedded S3 server."""

from pathlib import Path

from cuisineflow.settings import Settings
from cuisineflow.storage.store import Store, StoreError


def open_store(settings: Settings, project_root: Path) -> Store:
    """The store the settings name, local paths taken relative to the project."""
    return Store.open(
        settings.store_uri(project_root), endpoint_url=settings.s3_endpoint_url,
        region=settings.region,
    )  # fmt: skip


__all__ = ["Store", "StoreError", "open_store"]
