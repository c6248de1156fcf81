"""Bringing raw recipes into the project: data/raw, byte for byte, tracked with DVC."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cuisineflow.data.rawfiles import (
    RawFileSummary,
    is_raw_file,
    load_raw_records,
    read_raw_file,
    split_name,
    summarise,
)
from cuisineflow.errors import DataError
from cuisineflow.paths import RAW_DIR
from cuisineflow.storage.dvc import DvcRepo
from cuisineflow.storage.local import exclusive_lock

KAGGLE_SOURCE = "kaggle:whats-cooking"
KAGGLE_PAGE = "https://www.kaggle.com/competitions/whats-cooking/data"
# A file being copied in is data/raw/.NAME.importing until its rename (.dvcignore names it).
IMPORTING = ".importing"


def source_files(source: Path) -> list[Path]:
    """The raw files a source names: one file, or every raw file directly in a folder."""
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.is_file() and is_raw_file(p))
        if not files:
            raise DataError(
                f"{source}: no recipe files in this folder (expected *.zip, *.json or *.jsonl)"
            )
        return files
    if not source.exists():
        raise DataError(f"{source}: no such file or folder")
    if not is_raw_file(source):
        raise DataError(f"{source}: not a recipe file (expected .zip, .json, .jsonl or .ndjson)")
    return [source]


def import_raw(source: str, repo: DvcRepo) -> list[RawFileSummary]:
    """Check every file of the source, copy them unchanged into data/raw, and `dvc add` it.

    Nothing is written unless every file passes; each file lands by an atomic rename. A file
    replaces the raw file of the same name. An id may be held by one file only: were it held
    by two, which recipe `validate` keeps would depend on the files' names.
    """
    if source.startswith("kaggle:"):
        with tempfile.TemporaryDirectory(prefix="cuisineflow-kaggle-") as folder:
            return import_raw(str(download_from_kaggle(source, Path(folder))), repo)
    if "://" in source:
        raise DataError(
            f"{source}: a URL cannot be imported; download it and import the file or folder, "
            f"or use {KAGGLE_SOURCE}"
        )
    files = source_files(Path(source).expanduser())
    for path in files:
        split_name(path)  # a name the lake can partition by
    # One import at a time: another's check of shared ids, or its files half-copied, would
    # not see this one's (DVC's own folder holds the lock: nothing there is tracked).
    (repo.root / ".dvc" / "tmp").mkdir(parents=True, exist_ok=True)
    with exclusive_lock(repo.root / ".dvc" / "tmp" / "cuisineflow-import.lock"):
        return _import_files(files, repo)


def _import_files(files: list[Path], repo: DvcRepo) -> list[RawFileSummary]:
    recipes = {path.name: read_raw_file(path) for path in files}
    summaries = [summarise(path, recipes[path.name]) for path in files]
    raw_dir = repo.root / RAW_DIR
    kept = [p for p in sorted(raw_dir.glob("*")) if is_raw_file(p) and p.name not in recipes]
    ids = {name: {recipe.id for recipe in found} for name, found in recipes.items()}
    ids.update({path.name: recorded_ids(path) for path in kept})
    refuse_shared_ids(ids, importing=[path.name for path in files])
    raw_dir.mkdir(parents=True, exist_ok=True)
    for leftover in raw_dir.glob(f".*{IMPORTING}"):  # an import killed before its cleanup
        leftover.unlink()
    staged: list[tuple[Path, Path]] = []
    try:
        for path in files:
            temporary = raw_dir / f".{path.name}{IMPORTING}"
            shutil.copyfile(path, temporary)
            staged.append((temporary, raw_dir / path.name))
        for temporary, target in staged:
            os.replace(temporary, target)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
    repo.add(RAW_DIR)
    return summaries


def recorded_ids(path: Path) -> set[int]:
    """The integer ids of a raw file's records, read as `validate` reads them: leniently, as
    the file may hold records `validate` quarantines."""
    return {
        record.value["id"]
        for record in load_raw_records(path)
        if isinstance(record.value, dict)
        and isinstance(record.value.get("id"), int)
        and not isinstance(record.value.get("id"), bool)
    }


def refuse_shared_ids(ids: dict[str, set[int]], importing: Sequence[str]) -> None:
    """A DataError naming the first two files, of those imported and those kept in data/raw,
    that hold a recipe id in common."""
    names = list(ids)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            shared = sorted(ids[first] & ids[second])
            if not shared:
                continue
            shown = ", ".join(str(recipe_id) for recipe_id in shared[:5])
            more = f" and {len(shared) - 5} more" if len(shared) > 5 else ""
            noun = "id" if len(shared) == 1 else "ids"
            first_file, second_file = (
                name if name in importing else f"{name} (in data/raw)" for name in (first, second)
            )
            raise DataError(
                f"{first_file} and {second_file} both hold recipe {noun} {shown}{more}: "
                "every recipe needs an id of its own across the raw files. Give the new recipes "
                "other ids, or import the file under the name of the one it replaces"
            )


def download_from_kaggle(source: str, folder: Path) -> Path:
    """Download the competition files with the Kaggle CLI, where it and credentials exist."""
    if source != KAGGLE_SOURCE:
        raise DataError(f"unknown Kaggle source {source!r}: the one supported is {KAGGLE_SOURCE}")
    manual = (
        f"download train.json.zip and test.json.zip by hand from {KAGGLE_PAGE} "
        "(after accepting the competition rules), then run `cuisineflow data import FOLDER`"
    )
    kaggle = shutil.which("kaggle")
    if kaggle is None:
        raise DataError(
            f"cannot fetch {source}: the `kaggle` command is not installed. Either install it "
            f"(pip install kaggle) and set up its API credentials, or {manual}"
        )
    # Credentials are the CLI's to find (~/.kaggle, ~/.config/kaggle, KAGGLE_* variables,
    # and more with each release): it is asked, and its answer relayed.
    command = [kaggle, "competitions", "download", "-c", "whats-cooking", "-p", str(folder)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # Some failures, a rejected key among them, are printed to stdout.
        said = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        reason = " / ".join(said[-3:]) or f"`kaggle` exited {result.returncode}, saying nothing"
        raise DataError(f"the Kaggle download failed: {reason}. Or {manual}")
    # The competition arrives as one zip holding the two zipped files.
    for bundle in folder.glob("whats-cooking*.zip"):
        shutil.unpack_archive(bundle, folder)
        bundle.unlink()
    return folder
