"""Local workspace writes that never leave a half-written file or folder behind."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write a file by a temporary name in the same folder, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def atomic_write_json(target: Path, value: Any) -> None:
    """Write JSON (sorted keys, indented, newline-terminated) atomically."""
    atomic_write_bytes(target, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())


@contextlib.contextmanager
def staged_folder(target: Path, keep: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Yield an empty staging folder that replaces `target` only if the block succeeds.

    With `keep` (for caches that several processes fill at once), a target that `keep`
    accepts is never moved, since another process may be reading it: the first complete
    copy to arrive stays, and a later one is dropped.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}.staging")
    staging.mkdir()
    previous = target.with_name(f".{target.name}.{uuid.uuid4().hex}.previous")
    try:
        yield staging
        if target.exists():
            if keep is not None and keep(target):
                return
            with contextlib.suppress(FileNotFoundError):  # another process moved it first
                os.replace(target, previous)
        try:
            os.replace(staging, target)  # a folder replaces only an absent or empty one
        except OSError:
            # Another process put its copy in place since the check above.
            if keep is None or not (target.exists() and keep(target)):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(previous, ignore_errors=True)
