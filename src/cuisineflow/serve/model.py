"""The model being served: loaded from the registry (or a folder), swapped atomically on reload."""

from __future__ import annotations

import gc
import json
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
    exact: str  # the reference that loads this very model again: NAME@VERSION, or its folder


def load(
    ref_text: str, registry: Registry | None, cache: Path, keep: int | None = None
) -> LoadedModel:
    """Fetch, verify and load a model reference (NAME@VERSION, NAME@ALIAS or a folder); the
    cache keeps `keep` versions of the name (`Registry.fetch`)."""
    ref = ModelRef.parse(ref_text)
    if ref.path is not None:
        predictor = Predictor(ref.path)
        # The checksums the load verified: the folder's files are read once (tens of MB),
        # and what is identified and checked below is the very content loaded.
        verified = predictor.spec["sha256"]
        name, version = (  # logged as the registered version it holds, if any
            registry.identify(ref.path, verified=verified) if registry else (ref.path.name, "local")
        )
        described = export_metadata(ref.path, verified)  # an export's lineage and metrics
        if described is None and registry is not None and version != "local":
            described = registry.metadata(name, int(version))  # the version's, in the store
        metadata = {**(described or {}), "name": name, "version": version, "path": str(ref.path)}
        return LoadedModel(predictor, name, version, metadata, ref_text)
    if registry is None:
        raise ValueError("a registry reference needs a store")
    folder, metadata = registry.fetch(ref, cache, keep)
    version = str(metadata["version"])
    return LoadedModel(Predictor(folder), str(ref.name), version, metadata, f"{ref.name}@{version}")


class ModelHolder:
    """Holds the current model; a reload replaces it only once the new one has loaded."""

    def __init__(
        self, ref: str, registry: Registry | None, cache: Path, keep: int | None = None
    ) -> None:
        self.ref, self.registry, self.cache, self.keep = ref, registry, cache, keep
        self._lock = threading.Lock()
        self.current: LoadedModel | None = None

    def load(self, exact: str | None = None) -> LoadedModel:
        """(Re)load the reference, or `exact`, the version the server's other workers serve;
        on failure the previous model keeps serving."""
        with self._lock:
            loaded = load(exact or self.ref, self.registry, self.cache, self.keep)
            self.current = loaded
        # The model is hundreds of thousands of long-lived objects: keep them out of the
        # garbage collector's full scans, which otherwise stall requests for tens of ms.
        gc.collect()
        gc.freeze()
        return loaded


class ReloadSignal:
    """A file the workers of one server share: the model they serve, and the latest reload.

    Each worker holds its own model; `serve --workers N` sends a reload to one of them. The
    others follow to the very version it loaded, and a worker that starts (one respawned,
    say) begins there, not at whatever the alias has come to mean since.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # announce and pending run on different threads
        self.seen = self._read()[0]

    def _read(self) -> tuple[str, str | None]:
        """(the latest reload's id, the model it loaded); ("", None) before any."""
        try:
            state = json.loads(self.path.read_text())
        except FileNotFoundError:
            return "", None
        return str(state["reload"]), str(state["model"])

    def serving(self) -> str | None:
        """The exact reference the workers serve (None: not yet told)."""
        with self._lock:
            return self._read()[1]

    def announce(self, exact: str) -> None:
        """Tell the other workers this one has loaded `exact` (a LoadedModel's)."""
        with self._lock:
            self.seen = uuid.uuid4().hex
            state = {"reload": self.seen, "model": exact}
            atomic_write_bytes(self.path, json.dumps(state).encode())

    def pending(self) -> tuple[str, str] | None:
        """Another worker's reload this one has yet to follow, and the model it loaded
        (None: none)."""
        with self._lock:
            announced, exact = self._read()
            return None if announced == self.seen or exact is None else (announced, exact)

    def followed(self, announced: str) -> None:
        """Mark a reload as followed, once this worker has loaded the model: until then
        `pending` keeps returning it, so a reload that failed here is tried again."""
        with self._lock:
            if self._read()[0] == announced:  # else a newer one came in: still to follow
                self.seen = announced
