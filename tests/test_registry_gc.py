"""`models gc`: the files of a register stopped half-way go, its claimed number stays taken."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cuisineflow import registry as registry_module
from cuisineflow.registry import Registry, RegistryError
from cuisineflow.storage import Store
from cuisineflow.storage.store import StoreError
from tests.conftest import cli

LINEAGE = {"lineage": {"raw_data": {"dvc_md5": "abc.dir"}}, "metrics": {"test": {"accuracy": 0.9}}}
HOUR_AND_A_HALF = 90 * 60


def written_ago(store: Store, prefix: str, seconds: float) -> None:
    """Date every file of a local store under `prefix` back by `seconds`."""
    for key in store.objects(prefix):
        path = Path(store.path(key))
        when = path.stat().st_mtime - seconds
        os.utime(path, (when, when))


def another_model(tiny_model: Path, folder: Path) -> Path:
    shutil.copytree(tiny_model, folder)
    spec = json.loads((folder / "model.json").read_text())
    (folder / "model.json").write_text(json.dumps(spec | {"note": "another model"}))
    return folder


def test_gc_removes_a_stopped_registers_files_and_keeps_its_number(
    tiny_model: Path, tmp_path: Path
) -> None:
    store = Store.open(str(tmp_path / "store"))
    registry = Registry(store)
    env = {"CUISINEFLOW_STORE": store.uri}
    registry.register("cuisine", tiny_model, LINEAGE)
    # 2: a register killed after its claim and one file, 90 minutes ago; 3: one under way.
    store.create_bytes("registry/cuisine/2/.claim", b"")
    store.write_bytes("registry/cuisine/2/coef.npy", b"x" * 1000)
    store.write_bytes("registry/cuisine/2/.intercept.npy.0123.tmp", b"y" * 24)  # a cut write
    written_ago(store, "registry/cuisine/2", HOUR_AND_A_HALF)
    store.create_bytes("registry/cuisine/3/.claim", b"")
    store.write_bytes("registry/cuisine/3/coef.npy", b"z" * 10)
    version_1 = store.list("registry/cuisine/1")

    dry = cli("models", "gc", "--dry-run", cwd=tmp_path, env=env).stdout.splitlines()
    assert dry == [
        "would remove cuisine@2: 2 files, 1024 bytes under registry/cuisine/2/ (its .claim stays)",
        "kept cuisine@3: written to under a minute ago, under --older-than 60: a register may "
        "be under way",
    ]
    assert len(store.objects("registry/cuisine/2")) == 3

    done = cli("models", "gc", "cuisine", cwd=tmp_path, env=env).stdout.splitlines()
    assert done[0] == (
        "removed cuisine@2: 2 files, 1024 bytes under registry/cuisine/2/ (its .claim stays)"
    )
    assert store.objects("registry/cuisine/2").keys() == {"registry/cuisine/2/.claim"}
    assert store.list("registry/cuisine/3") == [
        "registry/cuisine/3/.claim",
        "registry/cuisine/3/coef.npy",
    ]
    assert store.list("registry/cuisine/1") == version_1
    # A number whose claim alone is left is no register under way: models list is quiet of it.
    listed = cli("models", "list", cwd=tmp_path, env=env)
    assert [line for line in listed.stderr.splitlines() if "cuisine@2" in line] == []
    assert "warning: cuisine@3 is claimed but has no metadata.json" in listed.stderr
    assert registry.numbers("cuisine") == ([1], [3])
    # The collected number is never given again.
    assert registry.register("cuisine", another_model(tiny_model, tmp_path / "m"), LINEAGE) == (
        4,
        True,
    )

    taken = cli("models", "gc", "--older-than", "0", cwd=tmp_path, env=env).stdout
    assert taken == (
        "removed cuisine@3: 1 file, 10 bytes under registry/cuisine/3/ (its .claim stays)\n"
    )
    again = cli("models", "gc", cwd=tmp_path, env=env).stdout
    assert again == (
        f"nothing to remove in local store {store.uri}: no register stopped half-way over 60 "
        "minutes ago\n"
    )
    assert registry.versions("cuisine") == [1, 4]


def test_gc_refuses_a_bad_name(tmp_path: Path) -> None:
    refused = cli(
        "models", "gc", "Cuisine", cwd=tmp_path, env={"CUISINEFLOW_STORE": str(tmp_path / "s")},
        check=False,
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr == (
        "error: model name 'Cuisine': use lower-case letters, digits, - _ .\n"
    )


def test_a_register_that_failed_half_way_blocks_no_later_one_of_the_same_content(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(str(tmp_path / "store"))
    registry = Registry(store)
    upload = Store.upload
    uploads: list[str] = []

    def fails_on_the_second(self: Store, path: Path, key: str) -> None:
        if len(uploads) == 1:
            raise StoreError(f"{key}: the connection dropped")
        uploads.append(key)
        upload(self, path, key)

    monkeypatch.setattr(Store, "upload", fails_on_the_second)
    with pytest.raises(StoreError, match="the connection dropped"):
        registry.register("cuisine", tiny_model, LINEAGE)
    monkeypatch.setattr(Store, "upload", upload)
    # The retry makes its own version at once (no wait for the failed one), and gc takes
    # what the failed one left.
    started = time.monotonic()
    assert registry.register("cuisine", tiny_model, LINEAGE) == (2, True)
    assert time.monotonic() - started < 30
    assert registry.register("cuisine", tiny_model, LINEAGE) == (2, False)
    collected = registry.collect("cuisine", older_than=0)
    assert [(left.number, left.keys) for left in collected.removed] == [(1, tuple(uploads))]
    assert registry.numbers("cuisine") == ([2], [])


def at_once(*jobs: Callable[[], object]) -> list[BaseException]:
    """Run the jobs in threads started together; the errors they raised."""
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def one(job: Callable[[], object]) -> None:
        start.wait()
        try:
            job()
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=one, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_two_gcs_at_once_both_finish(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "store"))
    files = [f"{n}/f{i}.npy" for n in range(1, 4) for i in range(100)]
    for number in range(1, 4):
        store.create_bytes(f"registry/cuisine/{number}/.claim", b"")
    for file in files:
        store.write_bytes(f"registry/cuisine/{file}", b"x")
    registries = [Registry(Store.open(store.uri)) for _ in range(2)]
    assert at_once(*(lambda r=r: r.collect("cuisine", older_than=0) for r in registries)) == []
    assert store.list("registry/cuisine") == [f"registry/cuisine/{n}/.claim" for n in range(1, 4)]
    # A prefix, deleted by two at once, goes whole too.
    for file in files:
        store.write_bytes(f"trash/{file}", b"x")
    assert at_once(*(lambda: store.delete("trash") for _ in range(2))) == []
    assert store.list("trash") == []


class AnHourAhead:
    """The time module, but for a clock an hour ahead of the store's."""

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)

    @staticmethod
    def time() -> float:
        return time.time() + 3600


def test_gc_goes_by_the_stores_clock_not_this_machines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(str(tmp_path / "store"))
    store.create_bytes("registry/cuisine/1/.claim", b"")  # a register under way
    store.write_bytes("registry/cuisine/1/coef.npy", b"x" * 10)
    monkeypatch.setattr(registry_module, "time", AnHourAhead())
    collected = Registry(store).collect("cuisine", older_than=30 * 60)
    assert (collected.removed, [left.number for left in collected.kept]) == ([], [1])
    assert abs(collected.now - time.time()) < 60
    assert store.list("registry/cuisine/1") == [
        "registry/cuisine/1/.claim",
        "registry/cuisine/1/coef.npy",
    ]
    # The clock's object is under no model's name.
    assert store.list("registry") == ["registry/.gc-clock", *store.list("registry/cuisine")]
    assert Registry(store).names() == ["cuisine"]


def test_a_register_whose_files_gc_removed_meanwhile_publishes_nothing(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(str(tmp_path / "store"))
    registry = Registry(store)
    upload = Store.upload
    uploaded: list[str] = []

    def then_gc_takes_the_first(self: Store, path: Path, key: str) -> None:
        upload(self, path, key)
        uploaded.append(key)
        if len(uploaded) == 2:  # a `models gc --older-than 0` ran meanwhile
            self.delete(uploaded[0])

    monkeypatch.setattr(Store, "upload", then_gc_takes_the_first)
    with pytest.raises(RegistryError) as refused:
        registry.register("cuisine", tiny_model, LINEAGE)
    first = uploaded[0].rsplit("/", 1)[1]
    assert str(refused.value) == (
        f"cuisine@1: {first} went missing from local store {store.uri} while registering (a "
        "`cuisineflow models gc` may have removed it): the version is not published; "
        "register again"
    )
    assert "registry/cuisine/1/metadata.json" not in store.list("registry/cuisine/1")
    assert registry.numbers("cuisine") == ([], [1])
    monkeypatch.setattr(Store, "upload", upload)
    assert registry.register("cuisine", tiny_model, LINEAGE) == (2, True)


def test_gc_help_names_its_optional_argument_once_bracketed(tmp_path: Path) -> None:
    usage = cli("models", "gc", "--help", cwd=tmp_path).stdout.splitlines()[0]
    assert usage.endswith(" models gc [OPTIONS] [NAME]")
