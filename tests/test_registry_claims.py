"""Registers of one content at once make one version: the content is claimed first."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from cuisineflow import registry as registry_module
from cuisineflow.registry import Registry, RegistryError
from cuisineflow.storage import Store
from tests.conftest import cli

LINEAGE = {"lineage": {"raw_data": {"dvc_md5": "abc.dir"}}}


def register_at_once(store_uri: str, model: Path, count: int) -> list[Any]:
    """`count` registers of one folder into one store, started together, each its own
    Registry and Store as separate processes would have."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def one(i: int) -> None:
        registry = Registry(Store.open(store_uri))
        start.wait()
        try:
            results[i] = registry.register("cuisine", model, LINEAGE)
        except Exception as error:  # reported by the test, not lost in the thread
            results[i] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.parametrize("attempt", range(3))
def test_registers_of_one_content_at_once_make_one_version(
    tiny_model: Path, tmp_path: Path, attempt: int
) -> None:
    results = register_at_once(str(tmp_path / "store"), tiny_model, 3)
    assert sorted(results) == [(1, False), (1, False), (1, True)]
    registry = Registry(Store.open(str(tmp_path / "store")))
    assert registry.numbers("cuisine") == ([1], [])
    assert registry.names() == ["cuisine"]


def dated_back(store: Store, prefix: str, seconds: float) -> None:
    for key in store.objects(prefix):
        path = Path(store.path(key))
        when = path.stat().st_mtime - seconds
        os.utime(path, (when, when))


def test_a_stopped_registers_content_claim_is_taken_over_once_stale(
    tiny_model: Path, tmp_path: Path
) -> None:
    store = Store.open(str(tmp_path / "store"))
    registry = Registry(store)
    identity = registry_module.content_hash(tiny_model)
    # A register of this content claimed it and number 1, uploaded a file, and was killed.
    assert store.create_bytes(f"registry/cuisine/contents/{identity}/1", b'{"version": 1}')
    store.create_bytes("registry/cuisine/1/.claim", b"")
    store.write_bytes("registry/cuisine/1/coef.npy", b"half")
    dated_back(store, "registry", 2 * 3600)
    assert registry.register("cuisine", tiny_model, LINEAGE) == (2, True)
    assert json.loads(store.read_bytes(f"registry/cuisine/contents/{identity}/2")) == {"version": 2}
    assert registry.register("cuisine", tiny_model, LINEAGE) == (2, False)
    # gc takes the stopped register's files and the claim its successor replaced.
    dry = cli("models", "gc", "--dry-run", cwd=tmp_path, env={"CUISINEFLOW_STORE": store.uri})
    assert dry.stdout.splitlines() == [
        "would remove cuisine@1: 1 file, 4 bytes under registry/cuisine/1/ (its .claim stays)",
        "would remove 1 content claim of cuisine that later registers took over",
    ]
    collected = registry.collect("cuisine", older_than=3600)
    assert [(left.number, left.size) for left in collected.removed] == [(1, 4)]
    assert store.list("registry/cuisine/contents") == [f"registry/cuisine/contents/{identity}/2"]
    assert store.list("registry/cuisine/1") == ["registry/cuisine/1/.claim"]


def test_a_register_waits_for_another_of_the_same_content_then_names_it(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(str(tmp_path / "store"))
    registry = Registry(store)
    identity = registry_module.content_hash(tiny_model)
    # Another register of this content is uploading version 1 right now.
    assert store.create_bytes(f"registry/cuisine/contents/{identity}/1", b'{"version": 1}')
    store.create_bytes("registry/cuisine/1/.claim", b"")
    monkeypatch.setattr(registry_module, "CONTENT_WAIT_S", 0.5)
    with pytest.raises(RegistryError) as raised:
        registry.register("cuisine", tiny_model, LINEAGE)
    assert str(raised.value) == (
        "another register of this model (cuisine@1) is under way (it last wrote under a minute "
        "ago): run this one again once it is done"
    )
    assert registry.numbers("cuisine") == ([], [])
    assert store.list("registry/cuisine/2") == []


def test_a_damaged_version_does_not_hold_its_content(tiny_model: Path, tmp_path: Path) -> None:
    registry = Registry(Store.open(str(tmp_path / "store")))
    assert registry.register("cuisine", tiny_model, LINEAGE) == (1, True)
    registry.store.write_bytes("registry/cuisine/1/metadata.json", b"garbage")
    assert registry.register("cuisine", tiny_model, LINEAGE) == (2, True)
