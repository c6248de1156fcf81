"""The store API on a local folder: the embedded default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cuisineflow.storage import Store, StoreError


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(str(tmp_path / "store"))


def test_write_read_list_delete(store: Store) -> None:
    store.write_bytes("registry/m/1/metadata.json", b"{}")
    store.write_bytes("registry/m/1/model.npz", b"\x00\x01")
    store.write_bytes("lake/raw/recipes.jsonl", b"line\n")
    assert store.read_bytes("registry/m/1/model.npz") == b"\x00\x01"
    assert store.list("registry") == ["registry/m/1/metadata.json", "registry/m/1/model.npz"]
    assert store.exists("lake/raw/recipes.jsonl")
    store.delete("registry/m")
    assert store.list() == ["lake/raw/recipes.jsonl"]
    assert not store.exists("registry/m/1/model.npz")
    store.delete("nothing/here")  # absent keys are fine


def test_missing_key_raises_file_not_found(store: Store) -> None:
    with pytest.raises(FileNotFoundError):
        store.read_bytes("absent.json")


def test_failed_write_keeps_the_old_object_and_no_temporary(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write_bytes("aliases/production.json", b'{"version": 1}')

    def crash(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)  # the rename step of every atomic write
    with pytest.raises(OSError, match="disk full"):
        store.write_bytes("aliases/production.json", b'{"version": 2}')
    monkeypatch.undo()
    assert store.read_bytes("aliases/production.json") == b'{"version": 1}'
    assert sorted(p.name for p in Path(store.root, "aliases").iterdir()) == ["production.json"]


def test_an_atomic_write_takes_any_legal_name_and_names_the_target_in_errors(
    tmp_path: Path,
) -> None:
    from cuisineflow.storage.local import atomic_write_bytes

    long_name = tmp_path / ("a" * 250 + ".json")  # legal; its temporary name once was not
    atomic_write_bytes(long_name, b"{}")
    assert [p.name for p in tmp_path.iterdir()] == [long_name.name]
    assert long_name.read_bytes() == b"{}"
    (tmp_path / "taken.json").mkdir()
    with pytest.raises(IsADirectoryError) as caught:
        atomic_write_bytes(tmp_path / "taken.json", b"{}")
    assert caught.value.filename == str(tmp_path / "taken.json")  # not .taken.json.UUID.tmp
    assert sorted(p.name for p in tmp_path.iterdir()) == [long_name.name, "taken.json"]


def test_what_a_killed_atomic_write_leaves_is_ignored_by_git() -> None:
    # A stage killed half-way (out of memory, say) leaves its staging folder behind: the
    # README's `git add -A` must not commit feature matrices or models into git.
    import subprocess

    from cuisineflow.storage.local import _beside

    project = Path(__file__).resolve().parents[1]
    left = [_beside(project / "data" / "features", "staging"),
            _beside(project / "models" / "cuisine", "previous"),
            _beside(project / "metrics" / "evaluate.json", "tmp")]  # fmt: skip
    names = [str(path.relative_to(project)) for path in left]
    ignored = subprocess.run(["git", "check-ignore", *names], cwd=project, capture_output=True,
                             text=True, check=False).stdout.split()  # fmt: skip
    assert ignored == names


def test_upload_copies_a_file(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "report.html"
    source.write_bytes(b"<html></html>")
    store.upload(source, "reports/model.html")
    assert store.read_bytes("reports/model.html") == b"<html></html>"
    assert store.url("reports/model.html") == f"{store.uri}/reports/model.html"


def test_check_creates_a_missing_local_store(store: Store) -> None:
    assert store.check() is True  # created: the command says so
    assert Path(store.root).is_dir()
    assert store.check() is False


def test_check_refuses_a_file_and_an_uncreatable_folder(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StoreError, match="is a file, not a folder"):
        Store.open(str(tmp_path / "afile")).check()
    with pytest.raises(StoreError, match=r"cannot create local store .*: Not a directory"):
        Store.open(str(tmp_path / "afile" / "store")).check()


def test_a_local_store_that_refuses_access_is_named_as_a_folder(store: Store) -> None:
    # Raised by hand: this suite may run as root, which no folder's permissions stop.
    with pytest.raises(StoreError) as refused, store.errors():
        raise PermissionError(13, "Permission denied", store.root)
    assert str(refused.value).startswith(
        f"access denied to local store {store.root}: check the folder's permissions"
    )
    assert "AWS" not in str(refused.value)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("s3://", "names no bucket"),
        ("gs://bucket/x", "only local folders and s3:// are supported"),
    ],
)
def test_bad_store_uris(uri: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        Store.open(uri)


def test_create_writes_only_where_nothing_is(store: Store) -> None:
    assert store.create_bytes("registry/m/1/.claim", b"first")
    assert not store.create_bytes("registry/m/1/.claim", b"second")
    assert store.read_bytes("registry/m/1/.claim") == b"first"
    assert store.list("registry") == ["registry/m/1/.claim"]  # no temporary left behind


def test_a_killed_publish_leaves_nothing_for_good(store: Store, tmp_path: Path) -> None:
    # A publish killed between its two renames left the old lake beside the new name, 22 MB
    # on the full data, and every kill another: the next one removes those an old run left.
    import time

    root = Path(store.root)
    root.mkdir(parents=True, exist_ok=True)
    old, young = root / ".lake.aaaa.previous", root / ".lake.bbbb.staging"
    for leftover in (old, young):
        leftover.mkdir()
        (leftover / "part-0.parquet").write_bytes(b"x")
    then = time.time() - 3600  # an hour old
    os.utime(old, (then, then))
    built = tmp_path / "built"
    built.mkdir()
    (built / "manifest.json").write_text("{}")
    store.publish_folder(built, "lake", last="manifest.json")
    assert sorted(p.name for p in root.iterdir()) == [".lake.bbbb.staging", "lake"]  # young: kept
