"""DVC stage `validate`: data/raw -> data/validated (Parquet) + data/quarantine + metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cuisineflow.data.rawfiles import is_raw_file, load_raw_records
from cuisineflow.data.tables import RECIPE_SCHEMA
from cuisineflow.data.validation import ValidationResult, validate_records
from cuisineflow.errors import DataError
from cuisineflow.params import load_params
from cuisineflow.paths import RAW_DIR, VALIDATED_DIR
from cuisineflow.storage.dvc import DvcRepo
from cuisineflow.storage.local import atomic_write_json, staged_folder

QUARANTINE_DIR = "data/quarantine"
METRICS_FILE = "metrics/validation.json"


def run(root: Path) -> ValidationResult:
    """Validate every raw file; fail when more than the allowed fraction is quarantined."""
    params = load_params(root / "params.yaml").validate_
    raw_files = sorted(p for p in (root / RAW_DIR).glob("*") if is_raw_file(p))
    if not raw_files:
        raise DataError(f"no raw files in {RAW_DIR}: run `cuisineflow data import SOURCE` first")
    changes = DvcRepo(root).changes_since_added(f"{RAW_DIR}.dvc")
    if changes:
        # The lineage hash would name raw data that does not hold these recipes.
        raise DataError(
            f"{RAW_DIR} differs from what {RAW_DIR}.dvc records ({'; '.join(changes[:5])}): "
            f"run `cuisineflow data import` again, or `dvc add {RAW_DIR}` "
            "(`cuisineflow run` does), so that lineage names the data validated"
        )
    records = [record for path in raw_files for record in load_raw_records(path)]
    if not records:  # nothing to validate: a quarantine of nothing would explain nothing
        names = ", ".join(path.name for path in raw_files)
        what = "is an empty JSON array" if len(raw_files) == 1 else "are empty JSON arrays"
        raise DataError(
            f"{RAW_DIR} holds no records: {names} {what}; "
            "run `cuisineflow data import SOURCE` with recipes"
        )
    result = validate_records(records, params)
    raw_hash = DvcRepo(root).tracked_hash(f"{RAW_DIR}.dvc")
    metadata = {"cuisineflow.raw_hash": raw_hash or "untracked"}
    table = pa.Table.from_pylist(result.valid, schema=RECIPE_SCHEMA).replace_schema_metadata(
        metadata
    )
    with staged_folder(root / QUARANTINE_DIR) as folder:  # written either way, to look into
        # allow_nan=False: a record holding 1e400 or NaN is kept as its text (RawRecord.text),
        # so every line is JSON that any reader takes.
        lines = "".join(
            json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n" for row in result.rejected
        )
        # JSON lets a raw file hold a lone surrogate ("\ud83d"), which UTF-8 cannot: it is
        # written back as that same escape, inside its JSON string.
        (folder / "rejected.jsonl").write_bytes(lines.encode("utf-8", "backslashreplace"))
    metrics: dict[str, Any] = {**result.metrics(), "raw_hash": raw_hash}
    metrics["max_rejected_fraction"] = params.max_rejected_fraction
    atomic_write_json(root / METRICS_FILE, metrics)
    if result.rejected_fraction > params.max_rejected_fraction:
        raise DataError(
            f"validation quarantined {len(result.rejected)} of {result.total} records "
            f"({result.rejected_fraction:.2%}), over validate.max_rejected_fraction "
            f"({params.max_rejected_fraction:.2%}); see {QUARANTINE_DIR}/rejected.jsonl"
        )
    if not result.valid:  # later stages have nothing to split, learn or publish
        raise DataError(
            f"validation kept no valid recipes: {len(result.rejected)} of {result.total} "
            f"records quarantined; see {QUARANTINE_DIR}/rejected.jsonl"
        )
    with staged_folder(root / VALIDATED_DIR) as folder:  # only data that passed replaces it
        pq.write_table(table, folder / "recipes.parquet")
    return result
