"""The registry on a local store: versions, identity by content, aliases, verification."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from cuisineflow.registry import ModelRef, Registry, RegistryError
from cuisineflow.storage import Store
from cuisineflow.storage.local import staged_folder

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
        RegistryError, match=r"cuisine@1: files in the store do not match their checksums"
    ):
        registry.fetch(ModelRef.parse("cuisine@1"), tmp_path / "other-cache")


def test_a_version_without_metadata_is_not_listed(registry: Registry, tiny_model: Path) -> None:
    registry.register("cuisine", tiny_model, LINEAGE)
    registry.store.write_bytes("registry/cuisine/2/coef.npy", b"half an upload")
    assert registry.versions("cuisine") == [1]


@pytest.mark.parametrize("text", ["Cuisine@1", "cuisine@", "no-such-folder"])
def test_bad_references(text: str) -> None:
    with pytest.raises(RegistryError):
        ModelRef.parse(text)


def test_a_verified_copy_that_arrives_first_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "1"
    with staged_folder(target, keep=lambda folder: (folder / "ok").exists()) as staging:
        (staging / "ok").write_text("mine")
        target.mkdir(parents=True)  # another process finishes first
        (target / "ok").write_text("theirs")
    assert (target / "ok").read_text() == "theirs"  # never moved while a reader may use it
    with staged_folder(target, keep=lambda folder: (folder / "ok").exists()) as staging:
        (staging / "ok").write_text("mine")
        (target / "ok").unlink()  # a broken copy is replaced
    assert (target / "ok").read_text() == "mine"
    assert [p.name for p in target.parent.iterdir()] == ["1"]


def test_a_copy_that_arrives_between_check_and_rename_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The interleaving is forced: os.replace lets "another process" finish just before it.
    target = tmp_path / "cache" / "1"
    real_replace = os.replace

    def replace_after_another_process(source: Path, destination: Path) -> None:
        if Path(destination) == target and not target.exists():
            target.mkdir()
            (target / "ok").write_text("theirs")
        real_replace(source, destination)

    monkeypatch.setattr("cuisineflow.storage.local.os.replace", replace_after_another_process)
    with staged_folder(target, keep=lambda folder: (folder / "ok").exists()) as staging:
        (staging / "ok").write_text("mine")
    assert (target / "ok").read_text() == "theirs"
    target.joinpath("ok").write_text("broken")  # not accepted by keep: the error stands
    with (
        pytest.raises(OSError, match="not empty"),
        staged_folder(target, keep=lambda folder: False) as staging,
    ):
        (staging / "ok").write_text("mine")
