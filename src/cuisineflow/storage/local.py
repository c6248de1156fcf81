"""Local workspace writes that never leave a half-written file or folder behind."""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

LEFTOVER_SECONDS = 600  # a killed run's leftover is older than any run under way


def atomic_write_bytes(target: Path, data: bytes, replace: bool = True) -> bool:
    """Write a file by a temporary name in the same folder, then rename it into place.

    With `replace=False` an existing file wins: nothing is written and False is returned.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = _beside(target, "tmp")
    try:
        temporary.write_bytes(data)
        if replace:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)  # whole, and only if the name is free
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno is None:
            raise
        # Named by the file asked for, not by its temporary name.
        raise type(error)(error.errno, error.strerror, str(target)) from error
    finally:
        with contextlib.suppress(OSError):  # the error that stopped the write is the one to see
            temporary.unlink(missing_ok=True)
    return True


def write_output(target: Path, data: bytes) -> None:
    """Write a file a user named: a regular file, or a symbolic link's target, atomically;
    a pipe, a terminal or another file that is not a regular one (/dev/stdout, /dev/fd/N)
    straight, since a rename would put a new file in its place and never reach the reader."""
    descriptor = _open_descriptor(target)  # the file the shell opened (`>> all.csv`)
    if descriptor is None:
        try:
            mode: int | None = target.stat().st_mode
        except FileNotFoundError:
            mode = None  # absent, or a link to an absent file: created below
        if mode is None or stat.S_ISREG(mode):
            atomic_write_bytes(target.resolve() if target.is_symlink() else target, data)
            return
    try:
        opened = os.fdopen(os.dup(descriptor), "wb") if descriptor is not None else None
        with opened or target.open("wb") as sink:
            sink.write(data)
    except OSError as error:
        if error.errno is None or error.filename is not None:
            raise
        # A write's error (a reader gone: Broken pipe) names no file; name the one asked for.
        raise type(error)(error.errno, error.strerror, str(target)) from error


def _open_descriptor(target: Path) -> int | None:
    """The descriptor a path names that this process already holds open (/dev/stdout,
    /dev/fd/N): resolving it to the file behind it and replacing that would cut the file
    off from the shell that opened it, appending or not."""
    named = {"/dev/stdout": 1, "/dev/stderr": 2}.get(str(target))
    numbered = re.fullmatch(r"/(?:dev|proc/self)/fd/(\d+)", str(target))
    return named if named is not None else int(numbered.group(1)) if numbered else None


def _beside(target: Path, kind: str) -> Path:
    """A hidden, unique name next to `target` (.NAME.UUID.KIND). A name long enough that the
    additions would pass the file system's 255 bytes is left out: that target is legal."""
    name = target.name if len(target.name.encode()) <= 200 else ""
    return target.with_name(f".{name}.{uuid.uuid4().hex}.{kind}")


def atomic_write_json(target: Path, value: Any) -> None:
    """Write JSON (sorted keys, indented, newline-terminated) atomically."""
    atomic_write_bytes(target, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())


@contextlib.contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Yield an empty staging folder that replaces `target` only if the block succeeds.

    What a run killed half-way left beside the target (its staging folder, or the folder
    it was replacing) goes once it is LEFTOVER_SECONDS old: a younger one may be another
    run's, under way."""
    target.parent.mkdir(parents=True, exist_ok=True)
    too_old = time.time() - LEFTOVER_SECONDS
    for kind in ("staging", "previous"):
        for leftover in target.parent.glob(f".{glob.escape(target.name)}.*.{kind}"):
            with contextlib.suppress(OSError):  # gone already, say
                if leftover.lstat().st_mtime < too_old:
                    shutil.rmtree(leftover)
    staging = _beside(target, "staging")
    staging.mkdir()
    try:
        yield staging
        previous = _beside(target, "previous")
        if target.exists():
            os.replace(target, previous)
        os.replace(staging, target)
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def staged_contents(target: Path, last: str) -> Iterator[Path]:
    """Yield an empty staging folder inside the existing folder `target`, whose files then
    replace target's, one rename each, the file named `last` last: until it is in, the
    folder's `last` (a listing of checksums) disagrees with any file already replaced.

    For a folder that must stay itself (a mount point, a folder whose owner, mode or ACLs
    were set for it), where staged_folder would put a new folder in its place. What a
    killed run leaves (staging_leftover) goes at the next.
    """
    staging = _beside(target / last, "staging")
    staging.mkdir()
    try:
        yield staging
        names = set(os.listdir(staging))
        for name in sorted(names - {last}):
            os.replace(staging / name, target / name)
        for stale in set(os.listdir(target)) - names - {staging.name}:
            path = target / stale
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        if last in names:
            os.replace(staging / last, target / last)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def staging_leftover(name: str, last: str) -> bool:
    """Whether a folder's entry is a staging folder staged_contents(…, last) left when
    killed (.LAST.UUID.staging)."""
    return re.fullmatch(rf"\.{re.escape(last)}\.[0-9a-f]{{32}}\.staging", name) is not None


def exclusive_lock(path: Path, *, wait: bool = True) -> contextlib.AbstractContextManager[bool]:
    """Hold an exclusive lock on `path` (created if absent) against other processes here.

    Yields True once it is held; with `wait=False`, False at once if another holds it."""
    return _flock(path, fcntl.LOCK_EX, wait)


@contextlib.contextmanager
def shared_lock(path: Path) -> Iterator[None]:
    """Hold a shared lock on `path`: other shared holders come in, an exclusive one waits.

    A lock file this user may only read (a cache another user fills) is locked as it is."""
    with _flock(path, fcntl.LOCK_SH, wait=True):
        yield


@contextlib.contextmanager
def _flock(path: Path, operation: int, wait: bool) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = path.open("a")
    except PermissionError:
        if operation != fcntl.LOCK_SH or not path.exists():
            raise
        handle = path.open("r")  # flock needs no write access
    with handle:
        try:  # released when the file closes, even on a crash
            fcntl.flock(handle, operation if wait else operation | fcntl.LOCK_NB)
        except BlockingIOError:
            held = False
        else:
            held = True
        yield held
