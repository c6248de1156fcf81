"""`cuisineflow models list|show|promote|verify|export` against a registry in the S3 endpoint."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cuisineflow import registry as registry_module
from cuisineflow.registry import Registry
from cuisineflow.storage import Store
from tests.conftest import S3Endpoint, cli

pytestmark = pytest.mark.integration

LINEAGE = {
    "lineage": {
        "raw_data": {"path": "data/raw", "dvc_md5": "1234.dir"},
        "training_data": {"path": "data/split", "dvc_md5": "5678.dir"},
        "git": {"commit": "0123abcd", "dirty": False},
    },
    "metrics": {"test": {"accuracy": 0.91234}},
}


def table_rows(text: str) -> list[dict[str, str]]:
    """The rows of an aligned table (`models list`), each cell by its column's name."""
    header, dashes, *rows, _ = text.splitlines()  # the last line counts the rows
    spans, start = [], 0
    for dash in dashes.split("  "):
        spans.append((start, start + len(dash)))
        start += len(dash) + 2
    names = [header[a:b].strip() for a, b in spans]
    return [{n: row[a:b].strip() for n, (a, b) in zip(names, spans, strict=True)} for row in rows]


def test_models_commands(s3_endpoint: S3Endpoint, tiny_model: Path, tmp_path: Path) -> None:
    env = s3_endpoint.store_env("models-cli")
    store = Store.open(env["CUISINEFLOW_STORE"], endpoint_url=s3_endpoint.url)
    import os

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        profile = {"vocabulary": ["a profile ingredient"]}
        Registry(store).register(
            "cuisine", tiny_model, {**LINEAGE, "monitoring_reference": profile}
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    listed = cli("models", "list", cwd=tmp_path, env=env).stdout
    assert "cuisine@1" in listed
    assert "0.9123" in listed
    promoted = cli("models", "promote", "cuisine@1", "--alias", "production", cwd=tmp_path, env=env)
    assert promoted.stdout.strip() == "cuisine@production -> version 1"
    listed = cli("models", "list", cwd=tmp_path, env=env).stdout
    (row,) = table_rows(listed)
    assert (row["model"], row["aliases"], row["test_accuracy"]) == (
        "cuisine@1", "production", "0.9123"
    )  # fmt: skip
    shown = cli("models", "show", "cuisine@production", cwd=tmp_path, env=env).stdout
    assert "raw data       1234.dir" in shown
    assert "training data  5678.dir" in shown
    assert "git commit     0123abcd" in shown
    assert '"monitoring_reference": "(the reference profile: --full)"' in shown
    full = cli("models", "show", "cuisine@1", "--full", cwd=tmp_path, env=env).stdout
    assert "a profile ingredient" in full
    assert cli("models", "verify", "cuisine@production", cwd=tmp_path, env=env).stdout.startswith(
        "ok: "
    )
    exported = tmp_path / "exported"
    cli("models", "export", "cuisine@1", str(exported), cwd=tmp_path, env=env)
    assert json.loads((exported / "metadata.json").read_text())["version"] == 1
    assert (exported / "coef.npy").read_bytes() == (tiny_model / "coef.npy").read_bytes()
    cli("models", "export", "cuisine@1", str(exported), cwd=tmp_path, env=env)  # replaces it
    assert json.loads((exported / "metadata.json").read_text())["version"] == 1
    # An export shows as the version it holds; a plain model folder has nothing to show.
    from_export = cli("models", "show", str(exported), cwd=tmp_path, env=env).stdout
    header = shown.splitlines()[:5]
    assert from_export.splitlines()[:5] == header  # version, created, lineage, content
    as_json = [json.loads(text[text.index("\n{") :]) for text in (from_export, shown)]
    assert as_json[0] == as_json[1]
    plain = cli("models", "show", str(tiny_model), cwd=tmp_path, env=env, check=False)
    assert plain.returncode == 1
    assert f"{tiny_model} is a model folder without registry metadata" in plain.stderr
    # An export of a plain folder shows the version holding its files, if one does.
    of_folder = tmp_path / "of-folder"
    cli("models", "export", str(tiny_model), str(of_folder), cwd=tmp_path, env=env)
    assert (
        cli("models", "show", str(of_folder), cwd=tmp_path, env=env).stdout.splitlines()[:5]
        == header
    )
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "thesis.txt").write_text("not a model")
    refused = cli("models", "export", "cuisine@1", str(notes), cwd=tmp_path, env=env, check=False)
    assert refused.returncode == 1
    assert "is not an earlier export" in refused.stderr
    assert [p.name for p in notes.iterdir()] == ["thesis.txt"]
    (notes / "metadata.json").write_text('{"dataset": "mine"}')  # not registry metadata
    refused = cli("models", "export", "cuisine@1", str(notes), cwd=tmp_path, env=env, check=False)
    assert "is not an earlier export" in refused.stderr
    assert sorted(p.name for p in notes.iterdir()) == ["metadata.json", "thesis.txt"]
    above = cli("models", "export", "cuisine@1", "..", cwd=exported, env=env, check=False)
    assert above.returncode == 1
    assert "is not an earlier export" in above.stderr
    missing = cli("models", "show", "cuisine@staging", cwd=tmp_path, env=env, check=False)
    assert missing.returncode == 1
    assert "no alias 'staging' (aliases: production)" in missing.stderr


def test_models_gc_on_s3_reads_the_objects_times(
    s3_endpoint: S3Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = s3_endpoint.store_env("models-gc")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    store = Store.open(env["CUISINEFLOW_STORE"], endpoint_url=s3_endpoint.url)
    registry = Registry(store)
    store.create_bytes("registry/cuisine/1/.claim", b"")  # a register stopped half-way
    store.write_bytes("registry/cuisine/1/coef.npy", b"x" * 1000)
    # Written just now by S3's clock: kept under the hour, taken with --older-than 0.
    kept = cli("models", "gc", cwd=tmp_path, env=env).stdout.splitlines()
    assert kept[0] == (
        "kept cuisine@1: written to under a minute ago, under --older-than 60: a register may "
        "be under way"
    )
    assert registry.numbers("cuisine") == ([], [1])
    (seen,) = registry.collect("cuisine", older_than=0, dry_run=True).removed
    assert (seen.size, seen.keys) == (1000, ("registry/cuisine/1/coef.npy",))
    assert abs(seen.modified - time.time()) < 60  # S3's LastModified, not 0 or "unknown"
    assert store.list("registry") == [
        "registry/.gc-clock",  # the object gc read S3's time from
        "registry/cuisine/1/.claim",
        "registry/cuisine/1/coef.npy",
    ]
    taken = cli("models", "gc", "--older-than", "0", cwd=tmp_path, env=env).stdout
    assert taken == (
        "removed cuisine@1: 1 file, 1000 bytes under registry/cuisine/1/ (its .claim stays)\n"
    )
    assert store.list("registry") == ["registry/.gc-clock", "registry/cuisine/1/.claim"]
    assert registry.numbers("cuisine") == ([], [])
    listed = cli("models", "list", cwd=tmp_path, env=env)
    assert listed.stderr == ""


def test_models_gc_on_s3_goes_by_s3s_clock_not_this_machines(
    s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = s3_endpoint.store_env("models-gc-clock")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    store = Store.open(env["CUISINEFLOW_STORE"], endpoint_url=s3_endpoint.url)
    store.create_bytes("registry/cuisine/1/.claim", b"")  # a register under way
    store.write_bytes("registry/cuisine/1/coef.npy", b"x" * 10)

    class AnHourAhead:  # this machine's clock, an hour ahead of S3's
        def __getattr__(self, name: str) -> object:
            return getattr(time, name)

        @staticmethod
        def time() -> float:
            return time.time() + 3600

    monkeypatch.setattr(registry_module, "time", AnHourAhead())
    collected = Registry(store).collect("cuisine", older_than=30 * 60)
    assert (collected.removed, [left.number for left in collected.kept]) == ([], [1])
    assert abs(collected.now - time.time()) < 60  # S3's LastModified of registry/.gc-clock
    assert store.list("registry/cuisine") == [
        "registry/cuisine/1/.claim",
        "registry/cuisine/1/coef.npy",
    ]
