"""The model registry in the store: versions with lineage, aliases, verified loads.

<store>/registry/<name>/<version>/          .claim first, the artifact's files, metadata.json last
                                            (a stopped register's files go with `collect`)
<store>/registry/<name>/aliases/<alias>.json  {"version": ...}, replaced atomically
<store>/registry/.gc-clock                  empty, rewritten by `collect` to read the store's time
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cuisineflow.errors import CuisineflowError
from cuisineflow.models.artifact import (
    SPEC,
    ModelError,
    file_sha256,
    load_model,
    mismatched_files,
    plain_file_name,
)
from cuisineflow.paths import REGISTERED
from cuisineflow.schemas import REGISTRY_NAME
from cuisineflow.storage.local import (
    atomic_write_json,
    exclusive_lock,
    shared_lock,
    staged_contents,
    staged_folder,
    staging_leftover,
)

if TYPE_CHECKING:  # a registry is handed its store; importing one loads fsspec and pyarrow
    from cuisineflow.storage import Store

METADATA = "metadata.json"
FETCHED_FROM = "fetched_from"  # the store a cached copy's metadata.json came from
CLAIM = ".claim"  # taken before a version's files go up; a crash leaves the number unused
log = logging.getLogger(__name__)
_NAME = re.compile(REGISTRY_NAME)
PRUNE_GRACE_S = 300  # a copy fetched this recently is never pruned
CLOCK = "registry/.gc-clock"  # under no name: names() and numbers() never see it


class RegistryError(CuisineflowError):
    """A registry reference that cannot be resolved, or a version that fails verification."""


@dataclass(frozen=True)
class ModelRef:
    """NAME@VERSION, NAME@ALIAS, or a local folder."""

    name: str | None
    selector: str | None
    path: Path | None = None

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Read a reference: NAME@VERSION or NAME@ALIAS, else a folder that exists."""
        name, at, selector = text.partition("@")
        if at and _NAME.fullmatch(name) and _NAME.fullmatch(selector):
            return cls(name, selector)
        if Path(text).is_dir():  # a folder's path may hold an '@' too
            return cls(None, None, Path(text))
        if at:
            raise RegistryError(f"model reference {text!r}: expected NAME@VERSION or NAME@ALIAS")
        raise RegistryError(
            f"model reference {text!r}: not a folder, and not NAME@VERSION or NAME@ALIAS"
        )

    def __str__(self) -> str:
        return str(self.path) if self.path else f"{self.name}@{self.selector}"


def content_hash(
    folder: Path, extra: Mapping[str, Path] | None = None, known: Mapping[str, str] | None = None
) -> str:
    """sha256 over the artifact's file names and bytes: the identity of a model. `extra`
    names files that will join the folder's (as `register` adds the reference profile);
    `known` gives the sha256 of files of the folder just verified (`load_model`'s)."""
    files = {p.name: p for p in folder.iterdir() if p.is_file() and p.name != METADATA}
    files |= extra or {}
    known = {name: sha for name, sha in (known or {}).items() if name not in (extra or {})}
    digest = hashlib.sha256()
    for name in sorted(files):
        sha = known.get(name)
        file_digest = (
            bytes.fromhex(sha) if sha else hashlib.sha256(files[name].read_bytes()).digest()
        )
        digest.update(name.encode() + b"\0" + file_digest)
    return digest.hexdigest()


@dataclass(frozen=True)
class Leftover:
    """The files of a number claimed by a register that has not finished (or never will)."""

    name: str
    number: int
    keys: tuple[str, ...]  # every object under the number but its .claim
    size: int  # their bytes
    modified: float  # when the newest object under the number, the claim too, was written


@dataclass(frozen=True)
class Collected:
    """What `Registry.collect` removed, and the leftovers it kept as written too lately."""

    removed: list[Leftover]
    kept: list[Leftover]
    now: float  # the store's time as collect began, which `Leftover.modified` is compared to


class Registry:
    """Model versions and aliases under <store>/registry/."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _key(self, name: str, *parts: str) -> str:
        return "/".join(["registry", name, *parts])

    def versions(self, name: str) -> list[int]:
        """Complete versions of a model (those whose metadata.json exists), ascending."""
        return self.numbers(name)[0]

    def numbers(self, name: str) -> tuple[list[int], list[int]]:
        """A model's complete versions, and the numbers claimed with no metadata.json yet
        but files beside the claim: a register under way, or one stopped half-way, whose
        files stay in the store (never listed, never loaded) until `collect` removes them.
        One listing of the store for both."""
        numbered = self._numbered(self.store.objects(self._key(name)))
        complete = [n for n, files in numbered.items() if METADATA in files]
        unfinished = [n for n, files in numbered.items() if _unfinished(files)]
        return complete, unfinished

    @staticmethod
    def _numbered(objects: dict[str, tuple[int, float]]) -> dict[int, dict[str, tuple[int, float]]]:
        """A name's objects under registry/<name>/<number>/ by number, then file name."""
        numbered: dict[int, dict[str, tuple[int, float]]] = {}
        for key, stat in objects.items():
            parts = key.split("/")
            if len(parts) == 4 and parts[2].isdigit():
                numbered.setdefault(int(parts[2]), {})[parts[3]] = stat
        return dict(sorted(numbered.items()))

    def collect(self, name: str, older_than: float, dry_run: bool = False) -> Collected:
        """Remove the files of each number of `name` that a register claimed and stopped
        uploading to: no metadata.json, and nothing under it written for `older_than`
        seconds (a register under way writes a file every few seconds). The .claim stays,
        so the number is never given again."""
        if not _NAME.fullmatch(name):
            raise RegistryError(f"model name {name!r}: use lower-case letters, digits, - _ .")
        now = self.store_time()
        removed, kept = [], []
        for number, files in self._numbered(self.store.objects(self._key(name))).items():
            if not _unfinished(files):
                continue
            leftover = Leftover(
                name,
                number,
                tuple(self._key(name, str(number), f) for f in sorted(files) if f != CLAIM),
                sum(size for f, (size, _) in files.items() if f != CLAIM),
                max(modified for _, modified in files.values()),
            )
            if now - leftover.modified < older_than:
                kept.append(leftover)
                continue
            if not dry_run:
                for key in leftover.keys:
                    self.store.delete(key)
            removed.append(leftover)
        return Collected(removed, kept, now)

    def store_time(self) -> float:
        """Now by the store's own clock: when an object just written was stamped (S3's
        LastModified), so that a machine whose clock runs ahead takes no fresh file for old."""
        self.store.write_bytes(CLOCK, b"")
        stamp = self.store.objects(CLOCK).get(CLOCK, (0, math.inf))[1]
        if not math.isfinite(stamp):
            raise RegistryError(
                f"{self.store.describe()} gives no time for {CLOCK}, just written: cannot "
                "tell how long ago anything in it was written"
            )
        return stamp

    def names(self) -> list[str]:
        """Every model name in the registry."""
        return sorted(
            {key.split("/")[1] for key in self.store.list("registry") if key.count("/") >= 3}
        )

    def metadata(self, name: str, version: int) -> dict[str, Any]:
        """The metadata of one version."""
        key = self._key(name, str(version), METADATA)
        try:
            data = json.loads(self.store.read_bytes(key))
        except FileNotFoundError:
            raise RegistryError(f"{name}@{version} is not in {self.store.describe()}") from None
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("sha256"), dict):
            raise RegistryError(f"{name}@{version}: {key} in the store is damaged (not metadata)")
        try:
            for file_name in data["sha256"]:
                plain_file_name(file_name, f"{name}@{version}: {key}")
        except ModelError as error:  # it would be written outside the model's folder
            raise RegistryError(str(error)) from None
        return data

    def aliases(self, name: str, damaged: dict[str, str] | None = None) -> dict[str, int]:
        """Alias -> version for a model. A damaged alias file is an error, or, given a dict
        `damaged`, what is wrong with it goes there (by alias) and the others are returned."""
        result = {}
        for key in self.store.list(self._key(name, "aliases")):
            alias = key.rsplit("/", 1)[1].removesuffix(".json")
            try:
                result[alias] = int(json.loads(self.store.read_bytes(key))["version"])
            except (ValueError, TypeError, KeyError):
                problem = (
                    f"{name}@{alias}: the alias file {key} in the store is damaged; point it "
                    f"again with `cuisineflow models promote {name}@VERSION --alias {alias}`"
                )
                if damaged is None:
                    raise RegistryError(problem) from None
                damaged[alias] = problem
        return result

    def _version_holding(self, name: str, files: dict[str, str], prefer: int | None) -> int | None:
        """The version of `name` holding these files (name -> sha256), each unchanged.

        A version may hold more than the model (`register` adds the reference profile).
        Of several that match (the same model, other profiles), `prefer` if it is one, else
        the newest.
        """
        matching = []
        for version in self.versions(name) if files else []:
            try:
                stored = self.metadata(name, version)["sha256"]
            except RegistryError:  # a damaged version holds no model to match
                continue
            if all(stored.get(n) == digest for n, digest in files.items()):
                matching.append(version)
        if prefer in matching:
            return prefer
        return matching[-1] if matching else None

    def identify(
        self,
        folder: Path,
        prefer: tuple[str, int] | None = None,
        verified: Mapping[str, str] | None = None,
    ) -> tuple[str, str]:
        """The name and version of the model in a local folder, for its prediction logs.

        An export's own metadata.json names it; else the registered version holding its
        files (of the name `prefer` gives, else of any name); else the folder's name and
        "local". `verified`: the sha256 of files its load just checked, not read again.
        """
        files = _checksums(folder, verified)  # read once: the model is tens of MB
        exported = _read_json(folder / METADATA)
        exported_version = str(exported.get("version", "local"))
        if exported.get("sha256") == files and "name" in exported and exported_version != "local":
            return str(exported["name"]), exported_version
        try:
            for name in [prefer[0]] if prefer else self.names():
                version = self._version_holding(name, files, prefer[1] if prefer else None)
                if version is not None:
                    return name, str(version)
        except CuisineflowError as error:  # the folder serves all the same
            log.warning("cannot look %s up in the registry (%s): logged as local", folder, error)
        return folder.resolve().name, "local"

    def register(self, name: str, folder: Path, lineage: dict[str, Any]) -> tuple[int, bool]:
        """Add the artifact in `folder` as a new version, unless the same content exists.

        Returns (version, created). Files go up first and metadata.json last, so a version
        interrupted half-way is never listed or loaded.
        """
        if not _NAME.fullmatch(name):
            raise RegistryError(f"model name {name!r}: use lower-case letters, digits, - _ .")
        load_model(folder)  # refuse to register an artifact that does not verify
        identity = content_hash(folder)
        existing = self.versions(name)
        for version in existing:
            try:
                if self.metadata(name, version).get("content_sha256") == identity:
                    return version, False
            except RegistryError as error:  # holds no model to match: it blocks nothing
                log.warning("skipping %s@%s while registering: %s", name, version, error)
        version = (existing[-1] if existing else 0) + 1
        # Claim the number first: two registers at once (queued experiments) never share one.
        while not self.store.create_bytes(self._key(name, str(version), CLAIM), b""):
            version += 1
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.name != METADATA)
        for path in files:
            self.store.upload(path, self._key(name, str(version), path.name))
        # metadata.json publishes the version: never over files removed meanwhile.
        present = set(self.store.list(self._key(name, str(version))))
        missing = [p.name for p in files if self._key(name, str(version), p.name) not in present]
        if missing:
            raise RegistryError(
                f"{name}@{version}: {', '.join(missing)} went missing from "
                f"{self.store.describe()} while registering (a `cuisineflow models gc` may "
                f"have removed {'it' if len(missing) == 1 else 'them'}): the version is not "
                "published; register again"
            )
        metadata = {
            "name": name,
            "version": version,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "content_sha256": identity,
            "sha256": {p.name: file_sha256(p) for p in files},
            **lineage,
        }
        self.store.write_bytes(
            self._key(name, str(version), METADATA), json.dumps(metadata, indent=2).encode()
        )
        return version, True

    def monitored(self, ref: ModelRef) -> tuple[str, int, dict[str, Any]]:
        """The name, version and monitoring reference profile of the model `ref` names:
        what `monitor` and the monitoring page compare its logged predictions with."""
        if ref.name is None:
            raise RegistryError(
                f"{ref} is a folder: monitoring needs a registered model (NAME@ALIAS or "
                "NAME@VERSION), whose reference profile it compares predictions with"
            )
        version = self.resolve(ref)
        reference = self.metadata(ref.name, version).get("monitoring_reference")
        if not isinstance(reference, dict) or not reference:
            raise RegistryError(
                f"{ref.name}@{version} has no monitoring reference profile: register it with "
                "the pipeline"
            )
        from cuisineflow.monitoring.profile import profile_problem  # numpy: only when monitoring

        problem = profile_problem(reference)
        if problem is not None:
            key = self._key(ref.name, str(version), METADATA)
            raise RegistryError(
                f"{ref.name}@{version}'s monitoring reference: {problem} ({key} in the store)"
            )
        return ref.name, version, reference

    def resolve(self, ref: ModelRef) -> int:
        """The version a NAME@VERSION or NAME@ALIAS reference means now."""
        name, selector = _parts(ref)
        if selector.isdigit():
            versions = self.versions(name)
            if int(selector) not in versions:
                self._refuse_unknown_name(ref, name, versions)
                raise RegistryError(f"{ref} is not in {self.store.describe()}")
            return int(selector)
        # Another alias's damaged file is no concern of this one's.
        damaged: dict[str, str] = {}
        aliases = self.aliases(name, damaged)
        if selector in damaged:
            raise RegistryError(damaged[selector])
        if selector not in aliases:
            if not aliases and not damaged:
                self._refuse_unknown_name(ref, name, self.versions(name))
            known = ", ".join(sorted(aliases)) or "none"
            raise RegistryError(f"{ref}: no alias {selector!r} (aliases: {known})")
        return aliases[selector]

    def _refuse_unknown_name(self, ref: ModelRef, name: str, versions: list[int]) -> None:
        """Say so when no version of `name` is registered (a typo, most likely); only on the
        way to an error, as it lists the whole registry."""
        if versions:
            return
        known = ", ".join(n for n in self.names() if self.versions(n)) or "none"
        raise RegistryError(
            f"{ref}: no model named {name!r} in {self.store.describe()} (models: {known})"
        )

    def promote(self, ref: ModelRef, alias: str) -> int:
        """Point an alias at the version a reference resolves to (one atomic write)."""
        if not _NAME.fullmatch(alias) or alias.isdigit():
            raise RegistryError(f"alias {alias!r}: use a name such as production or staging")
        version = self.resolve(ref)
        body = {
            "version": version,
            "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        name, _ = _parts(ref)
        self.store.write_bytes(
            self._key(name, "aliases", f"{alias}.json"), json.dumps(body).encode()
        )
        return version

    def fetch(
        self, ref: ModelRef, cache: Path, keep: int | None = None
    ) -> tuple[Path, dict[str, Any]]:
        """A verified local copy of a version (downloaded once into `cache`) and its metadata.

        With `keep`, copies of the name's other versions are then pruned down to the `keep`
        most recently fetched ones, this one included (see `_prune_copies`)."""
        if ref.path is not None:
            verified = load_model(ref.path)[2]["sha256"]  # each file read once, here
            exported = export_metadata(ref.path, verified)
            if exported is None:  # a plain artifact folder
                return ref.path, {"name": ref.path.name, "version": "local", "path": str(ref.path)}
            return ref.path, exported
        name, selector = _parts(ref)
        try:
            version = self.resolve(ref)
            metadata = self.metadata(name, version)
        except CuisineflowError as error:
            from cuisineflow.storage.store import StoreError  # loaded by now: no extra cost

            # A version, not an alias, already verified in the cache: the store out of reach
            # does not stop it (a server's worker respawned while the store is down).
            cached = (
                _cached_metadata(cache / name / str(int(selector)), self.store.uri)
                if selector.isdigit()
                else None
            )
            if not isinstance(error, StoreError) or cached is None:
                raise
            log.warning("%s; loading %s@%s from its verified copy in the cache", error, name,
                        selector)  # fmt: skip
            version, metadata = int(selector), cached
        target = cache / name / str(version)
        lock = cache / name / f".{version}.lock"
        # Processes share the cache. A reader checks and loads a copy holding its version's
        # lock shared; a download or a pruning holds it alone. Workers of one server filling
        # the cache at once: one downloads, the others wait and find its copy. A verified
        # copy is never replaced while it is in use: pruning waits for readers and spares a
        # copy fetched in the last minutes.
        try:
            with shared_lock(lock):
                ready = _verified(target, metadata)
                if ready:
                    self._load_copy(name, version, target)
            if not ready:
                with exclusive_lock(lock):
                    if not _verified(target, metadata):
                        # A download killed half-way left its staging copy: no other is under
                        # way (this lock), so it goes.
                        for leftover in target.parent.glob(f".{version}.*.staging"):
                            shutil.rmtree(leftover, ignore_errors=True)
                        self._download(name, version, metadata, target)
                    self._load_copy(name, version, target)
        except PermissionError as error:  # a cache of another user's, say
            raise RegistryError(f"{name}@{version}: the model cache refused: {error}") from None
        if keep is not None:
            _prune_copies(cache / name, keep)
        return target, metadata

    @staticmethod
    def _load_copy(name: str, version: int, copy: Path) -> None:
        try:
            load_model(copy)
        except ModelError as error:
            raise RegistryError(f"{name}@{version}: {error}") from None
        with contextlib.suppress(OSError):  # a copy this user may not touch keeps its time
            os.utime(copy)  # when it was last fetched: pruning keeps the latest

    def _download(self, name: str, version: int, metadata: dict[str, Any], target: Path) -> None:
        with staged_folder(target) as staging:
            for file_name in metadata["sha256"]:
                key = self._key(name, str(version), file_name)
                try:
                    (staging / file_name).write_bytes(self.store.read_bytes(key))
                except FileNotFoundError:
                    raise RegistryError(
                        f"{name}@{version}: {file_name} is missing in the store"
                    ) from None
            mismatched = _mismatched(staging, metadata)
            if mismatched:
                raise RegistryError(
                    f"{name}@{version}: {_differ(mismatched)} the checksums in the store's "
                    f"{METADATA}: refusing the version"
                )
            # Kept with the copy: it can be verified again while the store is out of reach
            # (and only for this store: the cache is shared by every store's versions).
            atomic_write_json(staging / METADATA, {**metadata, FETCHED_FROM: self.store.uri})

    def export(self, ref: ModelRef, folder: Path) -> dict[str, Any]:
        """Copy a verified version (its files and metadata.json) into a new or empty folder,
        or over an earlier export; any other folder is refused untouched."""
        folder = folder.resolve()
        source = None if ref.path is None else ref.path.resolve()
        if source is not None and (folder.is_relative_to(source) or source.is_relative_to(folder)):
            raise RegistryError(
                f"{folder} is, holds or lies in the model being exported: give another folder"
            )
        if folder.is_file() or (
            folder.is_dir() and any(folder.iterdir()) and not is_export(folder)
        ):
            raise RegistryError(
                f"{folder} exists and is not an earlier export: export into a new or empty "
                "folder; nothing in it was changed"
            )
        with tempfile.TemporaryDirectory() as cache:
            local, metadata = self.fetch(ref, Path(cache))
            if not isinstance(metadata.get("sha256"), dict):  # a plain folder: list its files
                spec = _read_json(local / SPEC).get("sha256") or {}
                metadata = {**metadata, "sha256": {SPEC: file_sha256(local / SPEC), **spec}}
            # An existing folder (empty, or an earlier export) stays itself: a mount point,
            # or one whose owner and mode were set for it, is filled, not replaced.
            staged = staged_contents(folder, METADATA) if folder.is_dir() else staged_folder(folder)
            with staged as staging:
                # The checked files only: a stray file or a link in a folder stays behind.
                for name in metadata["sha256"]:
                    if name != METADATA:
                        shutil.copyfile(local / name, staging / name, follow_symlinks=False)
                atomic_write_json(staging / METADATA, metadata)
        return metadata

    def verify(self, ref: ModelRef) -> dict[str, Any]:
        """Check every file of a version against its metadata, reading it from the store."""
        with tempfile.TemporaryDirectory() as cache:
            _, metadata = self.fetch(ref, Path(cache))
        return metadata


def read_registered(root: Path) -> dict[str, Any] | None:
    """What the pipeline's register stage recorded of its model (name, version, alias,
    content_sha256, store), or None before it ran."""
    path = root / REGISTERED
    if not path.exists():
        return None
    record: dict[str, Any] = json.loads(path.read_text())
    return record


def _unfinished(files: Mapping[str, object]) -> bool:
    """Whether a number's files are a register's that has not finished: claimed, no
    metadata.json, and files beside the claim (a claim alone is a number collected)."""
    return CLAIM in files and METADATA not in files and len(files) > 1


def _checksums(folder: Path, verified: Mapping[str, str] | None = None) -> dict[str, str]:
    """sha256 of each file of a model folder, metadata.json aside (`verified`'s if given)."""
    verified = verified or {}
    return {
        p.name: verified[p.name] if p.name in verified else file_sha256(p)
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != METADATA
    }


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def export_metadata(
    folder: Path, verified: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """An export's metadata (lineage, metrics), checked against its files like the store's;
    None for a plain artifact folder. `verified`: the sha256 of files its load just checked
    (`load_model`'s), not read again."""
    exported = _read_json(folder / METADATA)
    if not isinstance(exported.get("sha256"), dict):
        return None
    mismatched = _mismatched(folder, exported, verified)
    if mismatched:
        raise RegistryError(f"{folder}: {_differ(mismatched)} its {METADATA}")
    return exported


def is_export(folder: Path) -> bool:
    """Whether a folder holds an export: registry metadata listing every other file in it."""
    listed = _read_json(folder / METADATA).get("sha256")
    others = [
        name
        for name in os.listdir(folder)
        if name != METADATA and not staging_leftover(name, METADATA)  # a killed export's
    ]
    return isinstance(listed, dict) and all(name in listed for name in others)


def _mismatched(
    folder: Path, metadata: dict[str, Any], verified: Mapping[str, str] | None = None
) -> list[str]:
    """The files listed in metadata that are missing from the folder or differ from their
    checksum."""
    return mismatched_files(folder, metadata["sha256"], str(folder / METADATA), verified)


def _differ(names: list[str]) -> str:
    """ "coef.npy does not match" or "a.npy, b.npy do not match"."""
    return f"{', '.join(names)} {'does' if len(names) == 1 else 'do'} not match"


def _prune_copies(folder: Path, keep: int) -> None:
    """Remove the copies in one name's cache folder beyond the `keep` most recently fetched.

    A copy is left alone while another process holds its lock (it is checking or loading
    it), or when it was fetched in the last `PRUNE_GRACE_S` seconds: a process reads its
    model files just after `fetch` returns, outside the lock."""
    fetched_at = {}
    for copy in folder.iterdir():
        if copy.name.isdigit() and copy.is_dir():
            with contextlib.suppress(FileNotFoundError):  # another process pruned it
                fetched_at[copy] = copy.stat().st_mtime
        elif copy.name.endswith(".pruned"):  # a pruning that was stopped half-way
            shutil.rmtree(copy, ignore_errors=True)
    newest_first = sorted(fetched_at, key=fetched_at.__getitem__, reverse=True)
    for copy in newest_first[keep:]:
        try:
            _prune_copy(copy)
        except PermissionError:  # a cache this user may only read is not pruned
            return


def _prune_copy(copy: Path) -> None:
    with exclusive_lock(copy.with_name(f".{copy.name}.lock"), wait=False) as held:
        if not held:
            return
        try:  # read again under the lock: a fetch since the listing keeps the copy
            if time.time() - copy.stat().st_mtime < PRUNE_GRACE_S:
                return
            doomed = copy.with_name(f".{copy.name}.{uuid.uuid4().hex}.pruned")
            os.replace(copy, doomed)  # gone from its name at once, then deleted
        except FileNotFoundError:
            return
        shutil.rmtree(doomed, ignore_errors=True)
        log.info("pruned the cached copy %s", copy)


def _verified(folder: Path, metadata: dict[str, Any]) -> bool:
    return (folder / SPEC).exists() and not _mismatched(folder, metadata)


def _cached_metadata(copy: Path, store_uri: str) -> dict[str, Any] | None:
    """The metadata a store gave for a cached copy, if that store it was and the copy
    still matches it."""
    metadata = _read_json(copy / METADATA)
    if metadata.pop(FETCHED_FROM, None) != store_uri:
        return None  # another store's version of that number, or a copy from before
    try:
        usable = isinstance(metadata.get("sha256"), dict) and _verified(copy, metadata)
    except (OSError, ModelError):  # a copy half-pruned, or metadata naming odd files
        return None
    return metadata if usable else None


def _parts(ref: ModelRef) -> tuple[str, str]:
    if ref.name is None or ref.selector is None:
        raise RegistryError(f"{ref} is a local folder, not a registry reference")
    return ref.name, ref.selector
