"""Settings: CUISINEFLOW_* variables, the durable local default, no import-time work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cuisineflow.errors import CuisineflowError
from cuisineflow.settings import DEFAULT_STORE, get_settings
from cuisineflow.storage import open_store


def test_defaults_to_a_local_store_inside_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CUISINEFLOW_STORE", raising=False)
    settings = get_settings()
    assert settings.store == DEFAULT_STORE
    assert settings.store_uri(tmp_path) == str(tmp_path / ".cuisineflow" / "store")
    monkeypatch.setenv("CUISINEFLOW_STORE", " ")  # exported empty: unset, not the project root
    assert get_settings().store_uri(tmp_path) == str(tmp_path / ".cuisineflow" / "store")


@pytest.mark.parametrize(
    ("name", "default"),
    [("MODEL", "cuisine@latest"), ("MODEL_CACHE", ".cuisineflow/cache/models"),
     ("MODEL_CACHE_VERSIONS", 3), ("LOG_PREDICTIONS", True), ("RELOAD_TOKEN", None),
     ("SOURCE", None), ("REGION", None)],
)  # fmt: skip
def test_every_setting_exported_empty_is_unset(
    name: str, default: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "" read as a path made the project root the model cache (or the model to serve).
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(f"CUISINEFLOW_{name}", "")
    assert getattr(get_settings(), name.lower()) == default


def test_a_dotenv_that_is_not_utf8_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes(b"CUISINEFLOW_STORE=caf\xe9\n")
    with pytest.raises(CuisineflowError, match=r"\.env: cannot read it as UTF-8 text"):
        get_settings()


def test_environment_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CUISINEFLOW_S3_ENDPOINT_URL=http://127.0.0.1:9\n")
    monkeypatch.setenv("CUISINEFLOW_STORE", "s3://bucket/prefix/")
    settings = get_settings()
    assert settings.store_uri(tmp_path) == "s3://bucket/prefix"
    assert settings.s3_endpoint_url == "http://127.0.0.1:9"


def test_dotenv_is_the_projects_from_any_of_its_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".env").write_text("CUISINEFLOW_STORE=my-store\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.delenv("CUISINEFLOW_STORE", raising=False)
    assert get_settings().store == "my-store"


@pytest.mark.parametrize("uri", ["s3://", "s3:///prefix", "s3:////"])
def test_an_s3_store_without_a_bucket_is_refused(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUISINEFLOW_STORE", uri)
    with pytest.raises(CuisineflowError, match=r"store URI 's3://.*' names no bucket"):
        open_store(get_settings(), tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CUISINEFLOW_STORE", "s3:/bucket/prefix", "neither a folder nor a URL"),
        ("CUISINEFLOW_STORE", "s3//bucket/prefix", "neither a folder nor a URL"),
        ("CUISINEFLOW_S3_ENDPOINT_URL", "127.0.0.1:9000", "not an http\\(s\\) URL"),
        ("CUISINEFLOW_S3_ENDPOINT_URL", "htp://127.0.0.1:9000", "not an http\\(s\\) URL"),
        ("CUISINEFLOW_S3_ENDPOINT_URL", "http://127.0.0.1:99999", "has a bad port"),
    ],
)
def test_a_mistyped_url_is_refused_not_taken_for_a_folder(
    variable: str, value: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(CuisineflowError) as refused:
        open_store(get_settings(), tmp_path)
    # Our words right after the variable's name, not pydantic's "Value error, " before them.
    assert re.match(
        f"bad setting: {variable}: '{re.escape(value)}' .*{message}", str(refused.value)
    )
    assert list(tmp_path.iterdir()) == []  # no folder named s3: in the project


def test_urls_that_are_fine_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUISINEFLOW_S3_ENDPOINT_URL", "")  # exported empty: unset
    monkeypatch.setenv("CUISINEFLOW_STORE", "backup:2026")  # a folder with a colon
    assert (get_settings().s3_endpoint_url, get_settings().store) == (None, "backup:2026")
    monkeypatch.setenv("CUISINEFLOW_S3_ENDPOINT_URL", " HTTP://127.0.0.1:9000 ")
    assert get_settings().s3_endpoint_url == "http://127.0.0.1:9000"


def test_a_relative_source_is_the_projects_like_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUISINEFLOW_SOURCE", "../shared/data")
    assert get_settings().source_for(tmp_path) == str(tmp_path / "../shared/data")
    monkeypatch.setenv("CUISINEFLOW_SOURCE", "kaggle:whats-cooking")
    assert get_settings().source_for(tmp_path) == "kaggle:whats-cooking"
    monkeypatch.setenv("CUISINEFLOW_SOURCE", "backup:2026")  # a folder, as the store reads it
    assert get_settings().source_for(tmp_path) == str(tmp_path / "backup:2026")


def test_importing_reads_and_creates_nothing(tmp_path: Path) -> None:
    # Reading the settings at import time would fail on this value, or create a store.
    code = "import cuisineflow.cli, cuisineflow.settings, cuisineflow.storage"
    env = {**os.environ, "CUISINEFLOW_LOG_PREDICTIONS": "maybe", "CUISINEFLOW_STORE": "here"}
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True)
    assert list(tmp_path.iterdir()) == []
    eager = code + "; cuisineflow.storage.open_store(cuisineflow.settings.get_settings(), '.')"
    failed = subprocess.run([sys.executable, "-c", eager], cwd=tmp_path, env=env, check=False)
    assert failed.returncode != 0  # the value above does fail when read


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUISINEFLOW_LOG_PREDICTIONS", "maybe")
    with pytest.raises(CuisineflowError, match=r"CUISINEFLOW_LOG_PREDICTIONS: .*valid boolean"):
        get_settings()
    monkeypatch.delenv("CUISINEFLOW_LOG_PREDICTIONS")
    monkeypatch.setenv("CUISINEFLOW_MODEL_CACHE_VERSIONS", "0")  # the served copy must stay
    with pytest.raises(
        CuisineflowError, match=r"CUISINEFLOW_MODEL_CACHE_VERSIONS: .*greater than or equal to 1"
    ):
        get_settings()


def test_a_queued_experiment_uses_its_projects_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUISINEFLOW_STORE", raising=False)
    copy = tmp_path / "project" / ".dvc" / "tmp" / "exps" / "tmpa1b2c3"
    store = open_store(get_settings(), copy)
    assert store.root == str(tmp_path / "project" / ".cuisineflow" / "store")
    assert open_store(get_settings(), tmp_path).root == str(tmp_path / ".cuisineflow" / "store")


def test_a_queued_experiment_reads_its_projects_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DVC's copy of the project has no .env (git ignores it): a store set there was missed,
    # and queued experiments registered in the default store instead.
    monkeypatch.delenv("CUISINEFLOW_STORE", raising=False)
    project = tmp_path / "project"
    copy = project / ".dvc" / "tmp" / "exps" / "tmpa1b2c3"
    (copy / ".dvc").mkdir(parents=True)
    (project / ".env").write_text(f"CUISINEFLOW_STORE={tmp_path / 'team-store'}\n")
    monkeypatch.chdir(copy)
    assert open_store(get_settings(), copy).root == str(tmp_path / "team-store")
