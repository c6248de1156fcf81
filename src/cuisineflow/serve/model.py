"""The model being served: loaded from the registry (or a folder), swapped atomically on reload."""

from __future__ import annotations

import gc
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cuisineflow.predict import Predictor
from cuisineflow.registry import ModelRef, Registry, export_metadata
from cuisineflow.storage.local import atomic_write_bytes


@dataclass(frozen=True)
class LoadedModel:
    """A verified predictor and where it came from."""

    predictor: Predictor
    name: str
    version: str
    metadata: dict[str, Any]


def load(
    ref_text: str, registry: Registry | None, cache: Path, keep: int | None = None
) -> LoadedModel:
    """Fetch, verify and load a model reference (NAME@VERSION, NAME@ALIAS or a folder); the
    cache keeps `keep` versions of the name (`Registry.fetch`)."""
    ref = ModelRef.parse(ref_text)
    if ref.path is not None:  # logged as the registered version it holds, if any
        name, version = registry.identify(ref.path) if registry else (ref.path.name, "local")
        exported = export_metadata(ref.path) or {}  # an export's lineage and metrics
        metadata = {**exported, "name": name, "version": version, "path": str(ref.path)}
        return LoadedModel(Predictor(ref.path), name, version, metadata)
    if registry is None:
        raise ValueError("a registry reference needs a store")
    folder, metadata = registry.fetch(ref, cache, keep)
    return LoadedModel(Predictor(folder), str(ref.name), str(metadata["version"]), metadata)


class ModelHolder:
    """Holds the current model; a reload replaces it only once the new one has loaded."""

    def __init__(
        self, ref: str, registry: Registry | None, cache: Path, keep: int | None = None
    ) -> None:
        self.ref, self.registry, self.cache, self.keep = ref, registry, cache, keep
        self._lock = threading.Lock()
        self.current: LoadedModel | None = None

    def load(self) -> LoadedModel:
        """(Re)load the reference; on failure the previous model keeps serving."""
        with self._lock:
            loaded = load(self.ref, self.registry, self.cache, self.keep)
            self.current = loaded
        # The model is hundreds of thousands of long-lived objects: keep them out of the
        # garbage collector's full scans, which otherwise stall requests for tens of ms.
        gc.collect()
        gc.freeze()
        return loaded


class ReloadSignal:
    """A file the workers of one server share: a reload in one is then followed by the others.

    Each worker holds its own model; `serve --workers N` sends a reload to one of them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # announce and pending run on different threads
        self.seen = self._read()

    def _read(self) -> str:
        try:
            return self.path.read_text()
        except FileNotFoundError:
            return ""

    def announce(self) -> None:
        """Tell the other workers this one has reloaded."""
        with self._lock:
            self.seen = uuid.uuid4().hex
            atomic_write_bytes(self.path, self.seen.encode())

    def pending(self) -> str | None:
        """Another worker's reload this one has yet to follow (None: none)."""
        with self._lock:
            current = self._read()
            return None if current == self.seen else current

    def followed(self, announced: str) -> None:
        """Mark a reload as followed, once this worker has loaded the model: until then
        `pending` keeps returning it, so a reload that failed here is tried again."""
        with self._lock:
            if self._read() == announced:  # else a newer one came in: still to follow
                self.seen = announced
