"""The registry on a local store: versions, identity by content, aliases, verification."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cuisineflow.models.artifact import ModelError
from cuisineflow.monitoring.profile import build_profile
from cuisineflow.registry import ModelRef, Registry, RegistryError
from cuisineflow.storage import Store
from cuisineflow.storage.local import exclusive_lock, shared_lock
from cuisineflow.storage.store import StoreError

LINEAGE = {"lineage": {"raw_data": {"dvc_md5": "abc.dir"}}, "metrics": {"test": {"accuracy": 0.9}}}


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(Store.open(str(tmp_path / "store")))


def test_register_is_idempotent_by_content(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    assert registry.register("cuisine", tiny_model, LINEAGE) == (1, True)
    assert registry.register("cuisine", tiny_model, LINEAGE) == (1, False)
    changed = tmp_path / "changed"
    shutil.copytree(tiny_model, changed)
    spec = json.loads((changed / "model.json").read_text())
    spec["classes"] = list(reversed(spec["classes"]))  # different content, still a valid artifact
    (changed / "model.json").write_text(json.dumps(spec))
    assert registry.register("cuisine", changed, LINEAGE) == (2, True)
    assert registry.versions("cuisine") == [1, 2]
    metadata = registry.metadata("cuisine", 1)
    assert metadata["lineage"]["raw_data"]["dvc_md5"] == "abc.dir"
    assert set(metadata["sha256"]) == {p.name for p in tiny_model.iterdir()}


def test_aliases_resolve_and_move(registry: Registry, tiny_model: Path) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    assert registry.promote(ModelRef.parse("cuisine@1"), "production") == 1
    assert registry.resolve(ModelRef.parse("cuisine@production")) == 1
    assert registry.aliases("cuisine") == {"production": 1}
    with pytest.raises(
        RegistryError, match=r"cuisine@staging: no alias 'staging' \(aliases: production\)"
    ):
        registry.resolve(ModelRef.parse("cuisine@staging"))
    with pytest.raises(RegistryError, match=r"cuisine@7 is not in local store"):
        registry.resolve(ModelRef.parse("cuisine@7"))
    with pytest.raises(RegistryError, match=r"no model named 'nomodel' in .* \(models: cuisine\)"):
        registry.resolve(ModelRef.parse("nomodel@latest"))  # a typo, named as such


def test_fetch_verifies_and_refuses_tampering(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    local, metadata = registry.fetch(ModelRef.parse("cuisine@1"), tmp_path / "cache")
    assert local == tmp_path / "cache" / "cuisine" / "1"
    assert metadata["version"] == 1
    stored = Path(registry.store.path("registry/cuisine/1/coef.npy"))
    stored.write_bytes(stored.read_bytes()[:-8] + b"\x00" * 8)
    with pytest.raises(
        RegistryError,
        match=r"cuisine@1: coef.npy does not match the checksums in the store's metadata.json",
    ):
        registry.fetch(ModelRef.parse("cuisine@1"), tmp_path / "other-cache")


@pytest.mark.parametrize("name", ["../../outside.sh", "/tmp/absolute.sh", "sub/dir.npy", ".."])
def test_a_tampered_metadata_cannot_write_outside_the_models_folder(
    registry: Registry, tiny_model: Path, tmp_path: Path, name: str
) -> None:
    """Whoever can write to the store must not be able to write files on the loading
    machine: metadata.json's file names are used as paths."""
    registry.register("cuisine", tiny_model, LINEAGE)
    key = "registry/cuisine/1/metadata.json"
    metadata = json.loads(registry.store.read_bytes(key))
    payload = b"echo owned\n"
    metadata["sha256"][name] = hashlib.sha256(payload).hexdigest()
    registry.store.write_bytes(key, json.dumps(metadata).encode())
    # The payload where a download would read it (the version's folder joined with the name).
    planted = Path(
        os.path.normpath(os.path.join(registry.store.root, "registry/cuisine/1", name.strip("/")))
    )
    if name != "..":  # the version's parent folder: nowhere to plant it
        planted.parent.mkdir(parents=True, exist_ok=True)
        planted.write_bytes(payload)
    cache = tmp_path / "deep" / "cache"
    with pytest.raises(RegistryError, match=r"is not a file name of a model folder: refusing it"):
        registry.fetch(ModelRef.parse("cuisine@1"), cache)
    written = [*(tmp_path / "deep").rglob("*"), cache.parent / "outside.sh", Path(name)]
    assert not any(p.is_file() and p.read_bytes() == payload for p in written)


def test_exporting_a_folder_copies_its_checked_files_only(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    secret = tmp_path / "secret.txt"
    secret.write_text("not for sharing\n")
    (folder / "notes.txt").symlink_to(secret)  # neither a file of the model, nor checked
    (folder / "scratch.txt").write_text("a stray file\n")
    exported = tmp_path / "exported"
    metadata = registry.export(ModelRef.parse(str(folder)), exported)
    assert sorted(p.name for p in exported.iterdir()) == sorted(
        [*(p.name for p in tiny_model.iterdir()), "metadata.json"]
    )
    assert metadata["version"] == "local"
    assert set(metadata["sha256"]) == {p.name for p in tiny_model.iterdir()}  # now checkable
    again = registry.export(ModelRef.parse(str(exported)), tmp_path / "again")
    assert again == metadata


def test_store_keys_cannot_climb_out_of_the_store(registry: Registry) -> None:
    with pytest.raises(StoreError, match=r"climbs out of the store"):
        registry.store.path("lake/../../elsewhere.parquet")


def test_resolving_lists_the_registry_only_on_the_way_to_an_error(
    registry: Registry, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    registry.promote(ModelRef.parse("cuisine@1"), "production")
    listed: list[str] = []
    original, with_times = Store.list, Store.objects

    def counted(store: Store, key: str) -> list[str]:
        listed.append(key)
        return original(store, key)

    def counted_with_times(store: Store, key: str) -> dict[str, tuple[int, float]]:
        listed.append(key)
        return with_times(store, key)

    monkeypatch.setattr(Store, "list", counted)
    monkeypatch.setattr(Store, "objects", counted_with_times)
    registry.resolve(ModelRef.parse("cuisine@production"))
    registry.resolve(ModelRef.parse("cuisine@1"))
    assert listed == ["registry/cuisine/aliases", "registry/cuisine"]  # one listing each
    # A model whose only version is still uploading has no version to offer yet.
    registry.store.write_bytes("registry/claimed/1/.claim", b"")
    with pytest.raises(RegistryError, match=r"no model named 'claimed' in .* \(models: cuisine\)"):
        registry.resolve(ModelRef.parse("claimed@1"))


def test_an_export_of_an_export_keeps_its_lineage(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    first, second = tmp_path / "first", tmp_path / "second"
    registry.export(ModelRef.parse("cuisine@1"), first)
    copied = registry.export(ModelRef.parse(str(first)), second)
    assert copied == registry.metadata("cuisine", 1)
    assert json.loads((second / "metadata.json").read_text())["lineage"] == LINEAGE["lineage"]
    for inside in (first, first / "sub", tmp_path):  # it, a folder in it, a folder holding it
        with pytest.raises(RegistryError, match=r"is, holds or lies in the model being exported"):
            registry.export(ModelRef.parse(str(first)), inside)
    assert sorted(p.name for p in first.iterdir()) == sorted([*copied["sha256"], "metadata.json"])
    (first / "coef.npy").write_bytes(b"changed")
    with pytest.raises(Exception, match=r"coef.npy does not match"):
        registry.export(ModelRef.parse(str(first)), tmp_path / "third")


def test_a_number_another_register_has_claimed_is_skipped(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    # Another register (a queued experiment) has claimed 2 and is uploading its files.
    assert registry.store.create_bytes("registry/cuisine/2/.claim", b"")
    changed = tmp_path / "changed"
    shutil.copytree(tiny_model, changed)
    spec = json.loads((changed / "model.json").read_text())
    spec["classes"] = list(reversed(spec["classes"]))
    (changed / "model.json").write_text(json.dumps(spec))
    assert registry.register("cuisine", changed, LINEAGE) == (3, True)
    assert registry.versions("cuisine") == [1, 3]  # 2 appears when its metadata does
    assert registry.store.list("registry/cuisine/2") == ["registry/cuisine/2/.claim"]


def test_a_version_without_metadata_is_not_listed(registry: Registry, tiny_model: Path) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    registry.store.write_bytes("registry/cuisine/2/coef.npy", b"half an upload")
    assert registry.versions("cuisine") == [1]
    registry.store.write_bytes("registry/notes/README.txt", b"not a model")  # nor a name
    assert registry.names() == ["cuisine"]


@pytest.mark.parametrize("text", ["Cuisine@1", "cuisine@", "no-such-folder"])
def test_bad_references(text: str) -> None:
    with pytest.raises(RegistryError):
        ModelRef.parse(text)


def test_a_folder_whose_path_holds_an_at_sign(tmp_path: Path) -> None:
    folder = tmp_path / "runs@2026" / "model"
    folder.mkdir(parents=True)
    assert ModelRef.parse(str(folder)) == ModelRef(None, None, folder)
    assert ModelRef.parse("cuisine@latest") == ModelRef("cuisine", "latest")


FETCH_IN_ANOTHER_PROCESS = """
import sys
from pathlib import Path
from cuisineflow.registry import ModelRef, Registry
from cuisineflow.storage import Store
print("ready", flush=True)
local, _ = Registry(Store.open(sys.argv[1])).fetch(ModelRef.parse("cuisine@1"), Path(sys.argv[2]))
print(local.stat().st_ino)  # which copy it loaded
"""


def fetch_in_another_process(registry: Registry, cache: Path) -> subprocess.Popen[str]:
    """A process about to fetch cuisine@1 into `cache`, which prints the copy's inode."""
    other = subprocess.Popen(
        [sys.executable, "-c", FETCH_IN_ANOTHER_PROCESS, registry.store.root, str(cache)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert other.stdout is not None
    assert other.stdout.readline() == "ready\n"
    return other


def test_a_worker_waits_for_the_copy_another_is_making_and_keeps_it(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    # Two real processes, as `serve --workers 2` starts them on a cold cache.
    registry.register("cuisine", tiny_model, LINEAGE)
    cache = tmp_path / "cache"
    target = cache / "cuisine" / "1"
    with exclusive_lock(cache / "cuisine" / ".1.lock"):  # this process is filling the cache
        other = fetch_in_another_process(registry, cache)
        time.sleep(0.5)  # the other process now waits on the lock
        registry._download("cuisine", 1, registry.metadata("cuisine", 1), target)
        inode = target.stat().st_ino
    assert other.wait(timeout=60) == 0
    assert other.stdout is not None
    assert other.stdout.read().strip() == str(inode)  # it waited, then loaded our copy
    assert target.stat().st_ino == inode  # which was never replaced under a reader


def register_versions(registry: Registry, model: Path, folder: Path, count: int) -> None:
    """Versions 1..count of "cuisine": the same model with its classes in other orders."""
    spec = json.loads((model / "model.json").read_text())
    for version in range(1, count + 1):
        copy = folder / f"v{version}"
        shutil.copytree(model, copy)
        classes = spec["classes"][version:] + spec["classes"][:version]
        (copy / "model.json").write_text(json.dumps({**spec, "classes": classes}))
        assert registry.register("cuisine", copy, LINEAGE) == (version, True)


def fetched_long_ago(copy: Path, minutes_ago: int) -> None:
    then = time.time() - 60 * minutes_ago
    os.utime(copy, (then, then))


def test_the_cache_keeps_the_most_recently_fetched_versions(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    register_versions(registry, tiny_model, tmp_path, 4)
    cache = tmp_path / "cache"
    for version in (1, 2, 3):
        registry.fetch(ModelRef.parse(f"cuisine@{version}"), cache)  # no keep: no pruning
        fetched_long_ago(cache / "cuisine" / str(version), minutes_ago=60 - version)
    registry.fetch(ModelRef.parse("cuisine@1"), cache)  # fetched again: now the newest
    assert time.time() - (cache / "cuisine" / "1").stat().st_mtime < 60
    fetched_long_ago(cache / "cuisine" / "1", minutes_ago=30)  # but out of the grace
    half_pruned = cache / "cuisine" / ".2.0123abcd.pruned"  # as a killed pruning leaves it
    shutil.copytree(cache / "cuisine" / "2", half_pruned)
    registry.fetch(ModelRef.parse("cuisine@4"), cache, keep=2)
    assert sorted(
        p.name for p in (cache / "cuisine").iterdir() if not p.name.endswith(".lock")
    ) == [
        "1",
        "4",
    ]  # 3 and then 2 were fetched longest ago; nothing half-deleted is left
    local, _ = registry.fetch(ModelRef.parse("cuisine@2"), cache)  # fetched again from the store
    assert (local / "model.json").exists()


def test_a_copy_in_use_or_fetched_lately_is_not_pruned(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    register_versions(registry, tiny_model, tmp_path, 3)
    cache = tmp_path / "cache"
    registry.fetch(ModelRef.parse("cuisine@1"), cache)
    registry.fetch(ModelRef.parse("cuisine@2"), cache)
    fetched_long_ago(cache / "cuisine" / "1", minutes_ago=60)
    # Fetched 2 minutes ago: within the grace a process has to read its files.
    fetched_long_ago(cache / "cuisine" / "2", minutes_ago=2)
    with shared_lock(cache / "cuisine" / ".1.lock"):  # as a process checking or loading it
        registry.fetch(ModelRef.parse("cuisine@3"), cache, keep=1)
    assert (cache / "cuisine" / "1" / "model.json").exists()
    assert (cache / "cuisine" / "2" / "model.json").exists()
    fetched_long_ago(cache / "cuisine" / "2", minutes_ago=6)
    registry.fetch(ModelRef.parse("cuisine@3"), cache, keep=1)  # the lock is free now
    assert sorted(p.name for p in (cache / "cuisine").iterdir() if p.is_dir()) == ["3"]


def test_a_cache_this_user_may_only_read_is_read_and_not_pruned(
    registry: Registry, tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_versions(registry, tiny_model, tmp_path, 2)
    cache = tmp_path / "cache"
    for version in (1, 2):
        registry.fetch(ModelRef.parse(f"cuisine@{version}"), cache)
        fetched_long_ago(cache / "cuisine" / str(version), minutes_ago=60)
    # Root, which this suite may run as, ignores file permissions: writing a lock file is
    # refused here by hand, as the system refuses it to a user other than the cache's.
    real_open = Path.open

    def refuse_writing_locks(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if self.suffix == ".lock" and mode != "r":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse_writing_locks)
    local, _ = registry.fetch(ModelRef.parse("cuisine@2"), cache, keep=1)
    assert local == cache / "cuisine" / "2"
    assert (cache / "cuisine" / "1" / "model.json").exists()  # not pruned
    shutil.rmtree(local)  # no copy: one is needed, and this user may not write it
    with pytest.raises(RegistryError, match=r"^cuisine@2: the model cache refused: .*Permission"):
        registry.fetch(ModelRef.parse("cuisine@2"), cache, keep=1)


def test_a_reader_waits_while_its_copy_is_being_pruned(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    cache = tmp_path / "cache"
    old_copy, _ = registry.fetch(ModelRef.parse("cuisine@1"), cache)
    inode = old_copy.stat().st_ino
    with exclusive_lock(cache / "cuisine" / ".1.lock"):  # as another process pruning it
        other = fetch_in_another_process(registry, cache)
        time.sleep(1.0)
        assert other.poll() is None  # it does not check or load the copy meanwhile
        old_copy.rename(tmp_path / "pruned")  # kept, so its inode is not reused
    assert other.wait(timeout=60) == 0
    assert other.stdout is not None
    assert other.stdout.read().strip() != str(inode)  # it downloaded a copy of its own
    assert (tmp_path / "pruned").stat().st_ino == inode


def test_the_lock_excludes_another_process(tmp_path: Path) -> None:
    probe = (
        "import fcntl, sys\n"
        "with open(sys.argv[1], 'a') as f:\n"
        "    try:\n"
        "        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "    except BlockingIOError:\n"
        "        print('busy')\n"
        "    else:\n"
        "        print('free')\n"
    )
    lock = tmp_path / "x.lock"

    def other_process_sees() -> str:
        run = subprocess.run([sys.executable, "-c", probe, str(lock)], capture_output=True,
                             text=True, check=True)  # fmt: skip
        return run.stdout.strip()

    with exclusive_lock(lock):
        assert other_process_sees() == "busy"
    assert other_process_sees() == "free"


def test_a_local_folder_is_identified_as_the_version_it_holds(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    # Two versions of one model with different reference profiles, as `register` makes
    # when only the evaluated fit changed.
    for version, accuracy in ((1, 0.8), (2, 0.9)):
        folder = tmp_path / f"v{version}"
        shutil.copytree(tiny_model, folder)
        (folder / "reference_profile.json").write_text(json.dumps({"accuracy": accuracy}))
        assert registry.register("cuisine", folder, {}) == (version, True)
    served = tmp_path / "model"  # the bare model, under a name that is not the model's
    shutil.copytree(tiny_model, served)
    assert registry.identify(served) == ("cuisine", "2")  # the newest holding it
    assert registry.identify(served, prefer=("cuisine", 1)) == ("cuisine", "1")
    assert registry.identify(served, prefer=("cuisine", 7)) == ("cuisine", "2")
    # An export names itself, even where this registry does not hold it.
    registry.export(ModelRef.parse("cuisine@1"), tmp_path / "export")
    assert Registry(Store.open(str(tmp_path / "empty"))).identify(tmp_path / "export") == (
        "cuisine",
        "1",
    )
    # A model the registry never saw keeps the folder's name.
    (served / "model.json").write_text((served / "model.json").read_text() + " ")
    assert registry.identify(served) == ("model", "local")


def test_a_server_of_a_folder_logs_the_version_it_holds(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    from cuisineflow.serve.model import load

    registry.register("cuisine", tiny_model, LINEAGE)
    served = tmp_path / "served"
    shutil.copytree(tiny_model, served)
    loaded = load(str(served), registry, tmp_path / "cache")
    assert (loaded.name, loaded.version) == ("cuisine", "1")
    # Described as that version is (/v1/model): its lineage and metrics, not nulls.
    registered = registry.metadata("cuisine", 1)
    assert (loaded.metadata["lineage"], loaded.metadata["metrics"]) == (
        LINEAGE["lineage"],
        LINEAGE["metrics"],
    )
    assert loaded.metadata["created_at"] == registered["created_at"]
    assert loaded.metadata["path"] == str(served)


def test_a_server_of_an_export_reads_each_file_once_and_refuses_a_changed_one(
    registry: Registry, tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading, identifying and checking an export against its metadata.json take one
    hash of each file (the model is tens of MB); each load hashes them again."""
    import cuisineflow.models.artifact as artifact
    import cuisineflow.registry as registry_module
    from cuisineflow.serve.model import load

    folder = tmp_path / "v1"
    shutil.copytree(tiny_model, folder)
    (folder / "reference_profile.json").write_text('{"n": 1}')  # not in model.json's list
    registry.register("cuisine", folder, LINEAGE)
    exported = tmp_path / "exported"
    registry.export(ModelRef.parse("cuisine@1"), exported)
    hashed: list[str] = []

    def counted(path: Path) -> str:
        hashed.append(path.name)
        return file_sha256(path)

    file_sha256 = artifact.file_sha256
    monkeypatch.setattr(artifact, "file_sha256", counted)
    monkeypatch.setattr(registry_module, "file_sha256", counted)
    loaded = load(str(exported), registry, tmp_path / "cache")
    assert (loaded.name, loaded.version) == ("cuisine", "1")
    assert loaded.metadata["lineage"] == LINEAGE["lineage"]
    # The model's own files, once each (model.json and the profile are a few KB).
    model_files = json.loads((exported / "model.json").read_text())["sha256"]
    assert {name: hashed.count(name) for name in model_files} == dict.fromkeys(model_files, 1)
    assert "reference_profile.json" in hashed
    # A file changed since is refused by the next load (a reload), as before.
    (exported / "reference_profile.json").write_text('{"n": 2}')
    with pytest.raises(RegistryError, match=r"reference_profile.json does not match its metadata"):
        load(str(exported), registry, tmp_path / "cache")
    (exported / "reference_profile.json").write_text('{"n": 1}')
    (exported / "coef.npy").write_bytes(b"not the trained weights")
    with pytest.raises(ModelError, match=r"coef.npy does not match its checksum"):
        load(str(exported), registry, tmp_path / "cache")


def test_a_damaged_alias_or_metadata_file_is_named(registry: Registry, tiny_model: Path) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    registry.promote(ModelRef.parse("cuisine@1"), "production")
    registry.store.write_bytes("registry/cuisine/aliases/production.json", b"")
    with pytest.raises(RegistryError, match=r"cuisine@production: the alias file .* is damaged"):
        registry.resolve(ModelRef.parse("cuisine@production"))
    # Another alias resolves all the same (serve, predict, monitor go through resolve).
    registry.promote(ModelRef.parse("cuisine@1"), "staging")
    assert registry.resolve(ModelRef.parse("cuisine@staging")) == 1
    with pytest.raises(RegistryError, match=r"cuisine@nope: no alias 'nope' \(aliases: staging\)"):
        registry.resolve(ModelRef.parse("cuisine@nope"))
    # The message's remedy works: promoting a version by number mends the alias.
    assert registry.promote(ModelRef.parse("cuisine@1"), "production") == 1
    assert registry.aliases("cuisine") == {"production": 1, "staging": 1}
    registry.store.write_bytes("registry/cuisine/1/metadata.json", b"[]")
    with pytest.raises(RegistryError, match=r"cuisine@1: .*metadata.json in the store is damaged"):
        registry.metadata("cuisine", 1)


def test_a_damaged_version_blocks_neither_register_nor_models_list(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    from tests.conftest import cli

    registry.register("cuisine", tiny_model, LINEAGE)
    registry.store.write_bytes("registry/cuisine/1/metadata.json", b"garbage")
    other = tmp_path / "other"
    shutil.copytree(tiny_model, other)
    spec = json.loads((other / "model.json").read_text())
    (other / "model.json").write_text(json.dumps(spec | {"note": "another model"}))
    assert registry.register("cuisine", other, LINEAGE) == (2, True)
    listed = cli("models", "list", cwd=tmp_path, env={"CUISINEFLOW_STORE": str(tmp_path / "store")})
    rows = [line.split() for line in listed.stdout.splitlines()[2:-1]]
    assert [(row[0], row[-1]) for row in rows] == [
        ("cuisine@1", "damaged"),
        ("cuisine@2", registry.metadata("cuisine", 2)["content_sha256"][:12]),
    ]
    assert listed.stderr.startswith("warning: cuisine@1: registry/cuisine/1/metadata.json")
    # A damaged alias, or one pointing at a version not in the store, hides nothing either.
    registry.promote(ModelRef.parse("cuisine@2"), "production")
    registry.store.write_bytes("registry/cuisine/aliases/staging.json", b'{"version": ')
    registry.store.write_bytes("registry/cuisine/aliases/old.json", b'{"version": 7}')
    # A register killed after its claim: its files stay, never listed; the list names them.
    registry.store.write_bytes("registry/cuisine/3/.claim", b"")
    registry.store.write_bytes("registry/cuisine/3/coef.npy", b"half")
    listed = cli("models", "list", cwd=tmp_path, env={"CUISINEFLOW_STORE": str(tmp_path / "store")})
    rows = [line.split() for line in listed.stdout.splitlines()[2:-1]]
    assert [(row[0], row[1]) for row in rows] == [
        ("cuisine@1", "NULL"),
        ("cuisine@2", "production"),
    ]
    warnings = [line for line in listed.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings[:3] == [
        "warning: cuisine@staging: the alias file registry/cuisine/aliases/staging.json in the "
        "store is damaged; point it again with `cuisineflow models promote cuisine@VERSION "
        "--alias staging`",
        f"warning: cuisine@old points at version 7, which is not in local store {tmp_path / 'store'}"
        ": point it again with `cuisineflow models promote`",
        "warning: cuisine@3 is claimed but has no metadata.json: a register under way, or one "
        "stopped half-way, whose files under registry/cuisine/3/ `cuisineflow models gc` "
        "removes once an hour old",
    ]


def test_lineage_calls_the_tree_dirty_for_changed_inputs_not_outputs(tmp_path: Path) -> None:
    from cuisineflow.stages.register import _git
    from tests.conftest import git

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "code.py").write_text("x = 1\n")
    (tmp_path / "params.yaml").write_text("train: {C: 0.5}\n")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "evaluate.json").write_text("{}\n")
    git("init", "-q", cwd=tmp_path)
    git("add", "-A", cwd=tmp_path)
    git("commit", "-q", "-m", "all", cwd=tmp_path)
    assert _git(tmp_path)["dirty"] is False
    # What the pipeline itself rewrites before register runs: still the commit's model.
    (tmp_path / "metrics" / "evaluate.json").write_text('{"test": {}}\n')
    (tmp_path / "dvc.lock").write_text("stages: {}\n")
    assert _git(tmp_path)["dirty"] is False
    (tmp_path / "params.yaml").write_text("train: {C: 1.0}\n")  # an uncommitted param
    assert _git(tmp_path)["dirty"] is True


def test_identify_gets_past_damaged_and_unreachable_registries(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    registry.register("cuisine", tiny_model, {})
    registry.store.write_bytes("registry/a-scratch/1/metadata.json", b"")
    assert registry.identify(tiny_model) == ("cuisine", "1")
    # A store that cannot be reached: the folder is still served, as local.
    from cuisineflow.storage.s3server import free_port

    dead = Store.open("s3://nowhere/x", endpoint_url=f"http://127.0.0.1:{free_port()}")
    assert Registry(dead).identify(tiny_model) == (tiny_model.name, "local")


def test_bad_references_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"'Cuisine@1': expected NAME@VERSION or NAME@ALIAS$"):
        ModelRef.parse("Cuisine@1")
    with pytest.raises(RegistryError, match=r"'no-such-folder': not a folder, and not NAME@"):
        ModelRef.parse("no-such-folder")
    # References are values: equal ones are one key of a set or dict.
    assert {ModelRef.parse("cuisine@1"), ModelRef("cuisine", "1")} == {ModelRef("cuisine", "1")}
    folder = ModelRef.parse(str(tmp_path))
    registry = Registry(Store.open(str(tmp_path / "store")))
    for refused in (lambda: registry.resolve(folder), lambda: registry.promote(folder, "prod")):
        with pytest.raises(RegistryError, match=r"is a local folder, not a registry reference"):
            refused()


def test_register_refuses_a_bad_name_and_an_artifact_that_does_not_verify(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    with pytest.raises(RegistryError, match=r"model name 'Cuisine': use lower-case letters"):
        registry.register("Cuisine", tiny_model, LINEAGE)
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / "coef.npy").write_bytes(b"not the trained weights")
    with pytest.raises(ModelError, match=r"coef.npy does not match its checksum"):
        registry.register("cuisine", broken, LINEAGE)
    assert registry.names() == []


def test_aliases_must_be_names_and_not_numbers(registry: Registry, tiny_model: Path) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    for alias in ("1", "Production", "prod\n"):  # a newline would split a store key's line
        with pytest.raises(RegistryError, match=re.escape(f"alias {alias!r}: use a name such")):
            registry.promote(ModelRef.parse("cuisine@1"), alias)
    assert registry.aliases("cuisine") == {}
    with pytest.raises(RegistryError, match=r"model name 'cuisine\\n'"):
        registry.register("cuisine\n", tiny_model, LINEAGE)
    with pytest.raises(RegistryError, match=r"expected NAME@VERSION or NAME@ALIAS"):
        ModelRef.parse("cuisine@prod\n")


def test_what_is_known_is_listed_when_a_reference_is_not(
    registry: Registry, tiny_model: Path
) -> None:
    with pytest.raises(RegistryError, match=r"no model named 'cuisine' in .* \(models: none\)$"):
        registry.resolve(ModelRef.parse("cuisine@1"))
    registry.register("cuisine", tiny_model, LINEAGE)
    registry.register("a-model", tiny_model, LINEAGE)
    with pytest.raises(RegistryError, match=r"\(models: a-model, cuisine\)$"):
        registry.resolve(ModelRef.parse("other@1"))
    with pytest.raises(RegistryError, match=r"no alias 'staging' \(aliases: none\)$"):
        registry.resolve(ModelRef.parse("cuisine@staging"))
    registry.promote(ModelRef.parse("cuisine@1"), "production")
    registry.promote(ModelRef.parse("cuisine@1"), "canary")
    with pytest.raises(RegistryError, match=r"no alias 'staging' \(aliases: canary, production\)$"):
        registry.resolve(ModelRef.parse("cuisine@staging"))
    with pytest.raises(RegistryError, match=r"^cuisine@9 is not in local store"):
        registry.metadata("cuisine", 9)


def test_versions_and_aliases_are_stamped_in_utc_seconds(
    registry: Registry, tiny_model: Path
) -> None:
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"
    registry.register("cuisine", tiny_model, LINEAGE)
    metadata = registry.metadata("cuisine", 1)
    assert re.fullmatch(stamp, metadata["created_at"])
    assert metadata["name"] == "cuisine"
    registry.promote(ModelRef.parse("cuisine@1"), "production")
    body = json.loads(registry.store.read_bytes("registry/cuisine/aliases/production.json"))
    assert body["version"] == 1
    assert re.fullmatch(stamp, body["updated_at"])


def test_a_version_that_loads_wrong_or_lacks_a_file_is_refused(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    key = "registry/cuisine/1/metadata.json"
    metadata = json.loads(registry.store.read_bytes(key))
    # coef.npy changed, and metadata.json's checksum with it: model.json's still tells.
    changed = b"not the trained weights"
    registry.store.write_bytes("registry/cuisine/1/coef.npy", changed)
    metadata["sha256"]["coef.npy"] = hashlib.sha256(changed).hexdigest()
    registry.store.write_bytes(key, json.dumps(metadata).encode())
    with pytest.raises(RegistryError, match=r"^cuisine@1: .*coef.npy does not match its checksum"):
        registry.fetch(ModelRef.parse("cuisine@1"), tmp_path / "cache")
    with pytest.raises(RegistryError, match=r"^cuisine@1: .*coef.npy does not match its checksum"):
        registry.verify(ModelRef.parse("cuisine@1"))
    Path(registry.store.path("registry/cuisine/1/coef.npy")).unlink()
    with pytest.raises(RegistryError, match=r"^cuisine@1: coef.npy is missing in the store$"):
        registry.fetch(ModelRef.parse("cuisine@1"), tmp_path / "other-cache")


def test_verify_reads_the_version_back_from_the_store(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    assert registry.verify(ModelRef.parse("cuisine@1")) == registry.metadata("cuisine", 1)
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    assert registry.fetch(ModelRef.parse(str(folder)), tmp_path / "cache") == (
        folder,
        {"name": "model", "version": "local", "path": str(folder)},
    )
    (folder / "coef.npy").write_bytes(b"not the trained weights")
    with pytest.raises(ModelError, match=r"coef.npy does not match its checksum"):
        registry.verify(ModelRef.parse(str(folder)))


def test_a_changed_file_of_a_version_is_fetched_again(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    """Files outside the model itself (the reference profile) are checked as well."""
    folder = tmp_path / "v1"
    shutil.copytree(tiny_model, folder)
    (folder / "reference_profile.json").write_text('{"n": 1}')
    registry.register("cuisine", folder, LINEAGE)
    cache = tmp_path / "cache"
    local, _ = registry.fetch(ModelRef.parse("cuisine@1"), cache)
    (local / "reference_profile.json").write_text('{"n": 2}')
    killed = cache / "cuisine" / ".1.0123456789abcdef0123456789abcdef.staging"
    killed.mkdir()  # what a download killed half-way leaves: gone with the next download
    (killed / "coef.npy").write_bytes(b"half")
    local, _ = registry.fetch(ModelRef.parse("cuisine@1"), cache)
    assert (local / "reference_profile.json").read_text() == '{"n": 1}'
    assert not killed.exists()
    # An export keeps the profile, and its metadata.json checks it.
    exported = tmp_path / "exported"
    registry.export(ModelRef.parse("cuisine@1"), exported)
    assert (exported / "reference_profile.json").read_text() == '{"n": 1}'
    (exported / "reference_profile.json").write_text('{"n": 2}')
    with pytest.raises(RegistryError, match=r"reference_profile.json does not match its metadata"):
        registry.fetch(ModelRef.parse(str(exported)), tmp_path / "other-cache")


def test_export_replaces_an_earlier_export_only(
    registry: Registry, tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    exported = tmp_path / "exported"
    first = registry.export(ModelRef.parse("cuisine@1"), exported)
    assert registry.export(ModelRef.parse("cuisine@1"), exported) == first  # over itself
    (exported / "notes.txt").write_text("mine\n")  # no longer only an export
    with pytest.raises(RegistryError, match=r"exists and is not an earlier export"):
        registry.export(ModelRef.parse("cuisine@1"), exported)
    assert (exported / "notes.txt").read_text() == "mine\n"
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.csv").write_text("a,b\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for refused in (other, a_file):
        with pytest.raises(RegistryError, match=r"exists and is not an earlier export"):
            registry.export(ModelRef.parse("cuisine@1"), refused)
    assert (other / "data.csv").read_text() == "a,b\n"
    assert a_file.read_text() == "x"
    # Relative paths are read from the current folder; the folder above holds it.
    (exported / "notes.txt").unlink()
    monkeypatch.chdir(exported)
    with pytest.raises(RegistryError, match=r"exists and is not an earlier export"):
        registry.export(ModelRef.parse("cuisine@1"), Path(".."))
    assert registry.export(ModelRef.parse("cuisine@1"), Path(".")) == first  # filled in place
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RegistryError, match=r"is, holds or lies in the model being exported"):
        registry.export(ModelRef.parse("exported"), Path("exported") / "sub")


def test_export_fills_an_existing_folder_and_keeps_the_folder_itself(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    second = tmp_path / "second"
    shutil.copytree(tiny_model, second)
    (second / "extra.json").write_text("{}")  # a version with one more file
    registry.register("cuisine", second, LINEAGE)
    target = tmp_path / "volume"  # a mount point, say, or a folder given its own mode
    target.mkdir()
    target.chmod(0o2770)
    inode = target.stat().st_ino
    registry.export(ModelRef.parse("cuisine@2"), target)
    assert (target.stat().st_ino, target.stat().st_mode & 0o7777) == (inode, 0o2770)
    assert "extra.json" in os.listdir(target)
    # Over that earlier export, in place too; the file the new version lacks is gone.
    metadata = registry.export(ModelRef.parse("cuisine@1"), target)
    assert target.stat().st_ino == inode
    assert sorted(os.listdir(target)) == sorted([*metadata["sha256"], "metadata.json"])
    assert registry.fetch(ModelRef.parse(str(target)), tmp_path / "cache")[1] == metadata
    # Killed half-way: its staging folder is still there, and a file already replaced
    # disagrees with the metadata.json not yet replaced. Loading refuses that; exporting
    # again completes the export and removes the leftover.
    leftover = target / ".metadata.json.0123456789abcdef0123456789abcdef.staging"
    leftover.mkdir()
    (leftover / "coef.npy").write_bytes(b"half")
    (target / "coef.npy").write_bytes(b"replaced already")
    with pytest.raises(ModelError, match=r"coef.npy does not match"):
        registry.fetch(ModelRef.parse(str(target)), tmp_path / "cache")
    assert registry.export(ModelRef.parse("cuisine@1"), target) == metadata
    assert sorted(os.listdir(target)) == sorted([*metadata["sha256"], "metadata.json"])


def test_an_export_is_the_version_it_came_from(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    exported = tmp_path / "exported"
    registry.export(ModelRef.parse("cuisine@1"), exported)
    # metadata.json is not part of a model's content.
    assert registry.register("cuisine", exported, LINEAGE) == (1, False)
    assert registry.register("copy", exported, {}) == (1, True)
    copy = registry.metadata("copy", 1)
    assert set(copy["sha256"]) == {p.name for p in tiny_model.iterdir()}
    assert copy["content_sha256"] == registry.metadata("cuisine", 1)["content_sha256"]
    # An export of a plain folder names no version: the registry is asked instead.
    plain = tmp_path / "plain"
    registry.export(ModelRef.parse(str(tiny_model)), plain)
    assert registry.identify(plain, prefer=("cuisine", 1)) == ("cuisine", "1")


def test_identify_says_why_it_falls_back_to_local(
    tiny_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from cuisineflow.storage.s3server import free_port

    dead = Store.open("s3://nowhere/x", endpoint_url=f"http://127.0.0.1:{free_port()}")
    with caplog.at_level("WARNING", logger="cuisineflow.registry"):
        assert Registry(dead).identify(tiny_model) == (tiny_model.name, "local")
    assert "cannot look" in caplog.text
    assert "logged as local" in caplog.text


def test_a_version_verified_in_the_cache_loads_while_the_store_is_out_of_reach(
    registry: Registry, tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cuisineflow.storage.s3server import free_port

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    registry.register("cuisine", tiny_model, LINEAGE)
    registry.promote(ModelRef.parse("cuisine@1"), "production")
    cache = tmp_path / "cache"
    copy, metadata = registry.fetch(ModelRef.parse("cuisine@production"), cache)
    endpoint = f"http://127.0.0.1:{free_port()}"
    dead = Registry(Store.open("s3://nowhere/x", endpoint_url=endpoint))
    # Only the store the copy came from vouches for it: the cache is every store's.
    with pytest.raises(StoreError, match="cannot reach"):
        dead.fetch(ModelRef.parse("cuisine@1"), cache)
    cuisine_1 = cache / "cuisine" / "1" / "metadata.json"
    cuisine_1.write_text(cuisine_1.read_text().replace(registry.store.uri, "s3://nowhere/x"))
    # The version itself (a server's worker respawned at the version its siblings serve).
    assert dead.fetch(ModelRef.parse("cuisine@1"), cache) == (copy, metadata)
    assert dead.fetch(ModelRef.parse("cuisine@01"), cache) == (copy, metadata)
    # What an alias means now only the store can say; a copy that no longer matches what
    # the store said of it is not loaded either.
    with pytest.raises(StoreError, match="cannot reach"):
        dead.fetch(ModelRef.parse("cuisine@production"), cache)
    (copy / "coef.npy").write_bytes(b"changed")
    with pytest.raises(StoreError, match="cannot reach"):
        dead.fetch(ModelRef.parse("cuisine@1"), cache)


def test_what_monitoring_compares_with_is_a_registered_versions_reference_profile(
    registry: Registry, tiny_model: Path, tmp_path: Path
) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)  # registered without a profile
    other = tmp_path / "other"
    shutil.copytree(tiny_model, other)
    (other / "model.json").write_text(
        json.dumps(json.loads((other / "model.json").read_text()) | {"note": "2"})
    )
    profile = build_profile([["salt"]], np.array([[1.0]]), ["thai"], [["salt"]])
    registry.register("cuisine", other, {**LINEAGE, "monitoring_reference": profile})
    registry.promote(ModelRef.parse("cuisine@2"), "production")
    assert registry.monitored(ModelRef.parse("cuisine@production")) == ("cuisine", 2, profile)
    # A profile edited by hand is named, not compared with: report.json refused its NaN.
    key = registry.store.path("registry/cuisine/2/metadata.json")
    metadata = json.loads(Path(key).read_text())
    metadata["monitoring_reference"]["confidence_histogram"][0] = float("nan")
    Path(key).write_text(json.dumps(metadata))
    with pytest.raises(RegistryError) as damaged:
        registry.monitored(ModelRef.parse("cuisine@production"))
    assert str(damaged.value) == (
        "cuisine@2's monitoring reference: 'confidence_histogram' holds NaN "
        "(registry/cuisine/2/metadata.json in the store)"
    )
    with pytest.raises(RegistryError, match=r"^cuisine@1 has no monitoring reference profile"):
        registry.monitored(ModelRef.parse("cuisine@1"))
    with pytest.raises(RegistryError, match=r"is a folder: monitoring needs a registered model"):
        registry.monitored(ModelRef.parse(str(tiny_model)))
