"""Fetching the raw data from Kaggle: what the user is told when it cannot be done.

Kaggle cannot be reached from here, so a stand-in `kaggle` command on PATH plays the
real CLI's two ways of failing; the download itself is not tested.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cuisineflow.data.acquire import KAGGLE_SOURCE, download_from_kaggle
from cuisineflow.errors import DataError


def _kaggle_command(folder: Path, script: str) -> None:
    command = folder / "kaggle"
    command.write_text(f"#!/bin/sh\n{script}\n")
    command.chmod(command.stat().st_mode | stat.S_IEXEC)


def test_a_missing_kaggle_command_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DataError, match=r"the `kaggle` command is not installed. Either install"):
        download_from_kaggle(KAGGLE_SOURCE, tmp_path)


def test_the_kaggle_cli_is_asked_and_its_reason_relayed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No credentials in ~/.kaggle or KAGGLE_*: the CLI finds its own (XDG config, tokens).
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    # As the real CLI answers a rejected key: on stdout, exit 1.
    _kaggle_command(tmp_path, "echo 'Unauthorized: you must download an API key'; exit 1")
    with pytest.raises(DataError) as failed:
        download_from_kaggle(KAGGLE_SOURCE, tmp_path)
    assert str(failed.value).startswith(
        "the Kaggle download failed: Unauthorized: you must download an API key. Or download"
    )
    _kaggle_command(tmp_path, "exit 3")
    with pytest.raises(DataError, match=r"failed: `kaggle` exited 3, saying nothing\. Or"):
        download_from_kaggle(KAGGLE_SOURCE, tmp_path)
