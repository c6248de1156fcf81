"""The Parquet lake: recipes by split, an ingredient index, raw copies for S3 Select.

Recipes are Hive-partitioned by split and sorted by cuisine inside each file, so a filter
on cuisine reads only the row groups that hold it (one file per cuisine as well would make
a scan of all cuisines open 21 small files: 4x slower on S3 for counts per cuisine).

Tables are built in a local folder, then published to `<store>/lake/` with the manifest
written last, so a reader never takes a half-written lake for a finished one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cuisineflow.data.tables import LAKE_SCHEMAS, RECIPES_PARTITIONING
from cuisineflow.params import LakeParams

LAKE = "lake"
MANIFEST = "lake/manifest.json"
LAKE_FORMAT_VERSION = 1
# Table name -> folder under lake/ and whether it is Hive-partitioned.
TABLES: dict[str, tuple[str, bool]] = {
    "recipes": ("recipes", True),
    "recipe_ingredients": ("recipe_ingredients", False),
    "ingredients": ("ingredients", False),
}
RAW_JSONL = "lake/raw/recipes.jsonl"
RAW_CSV = "lake/raw/recipes.csv"
# The raw copies' columns, in order (the CSV copy's header).
RAW_JSONL_COLUMNS = ("id", "cuisine", "split", "ingredients")
RAW_CSV_COLUMNS = ("id", "cuisine", "split", "n_ingredients", "ingredients")


def parse_manifest(data: bytes) -> dict[str, Any]:
    """A lake manifest from its bytes, checked: queries read its files' sizes. A ValueError
    says what is wrong with it."""
    try:
        manifest = json.loads(data)
    except (ValueError, RecursionError) as error:  # not JSON, or not UTF-8
        raise ValueError(f"not JSON: {error}") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise ValueError("no 'files' object")
    for key, entry in files.items():
        size = entry.get("size") if isinstance(entry, dict) else None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"file {key!r} has no size")
    # Every built table has a file (validate keeps at least one recipe): a table without
    # one would make every query of it answer as if the lake were empty.
    empty = [name for name, (folder, _) in TABLES.items() if not _lists_under(files, folder)]
    if empty:
        tables = "table" if len(empty) == 1 else "tables"
        raise ValueError(f"no file listed for {tables} {', '.join(empty)}")
    checked: dict[str, Any] = manifest
    return checked


def _lists_under(files: dict[str, Any], folder: str) -> bool:
    return any(key.startswith(f"{folder}/") for key in files)


def ingredient_index(recipes: pa.Table) -> pa.Table:
    """One row per (ingredient, recipe), sorted by ingredient so row groups cover narrow ranges."""
    lengths = pc.list_value_length(recipes["ingredients"])
    parents = pc.list_parent_indices(recipes["ingredients"])
    index = pa.table(
        {
            "ingredient": pc.list_flatten(recipes["ingredients"]),
            "id": pc.take(recipes["id"], parents),
            "cuisine": pc.take(recipes["cuisine"], parents),
            "split": pc.take(recipes["split"], parents),
        }
    )
    assert index.num_rows == (pc.sum(lengths).as_py() or 0)  # the sum of no lengths is null
    index = index.sort_by([("ingredient", "ascending"), ("id", "ascending")])
    return index.cast(LAKE_SCHEMAS["recipe_ingredients"])


def vocabulary(index: pa.Table) -> pa.Table:
    """Every ingredient with the number of recipes (all splits, and labelled ones) holding it."""
    labelled = pc.is_valid(index["cuisine"]).cast(pa.int64())
    counts = (
        pa.table({"ingredient": index["ingredient"], "labelled": labelled})
        .group_by("ingredient")
        .aggregate([("ingredient", "count"), ("labelled", "sum")])
        .rename_columns(["ingredient", "n_recipes", "n_labelled"])
    )
    counts = counts.sort_by([("n_recipes", "descending"), ("ingredient", "ascending")])
    return counts.cast(LAKE_SCHEMAS["ingredients"])


def raw_json_lines(recipes: pa.Table) -> bytes:
    """One JSON object per line, `\\n` line ends: what S3 Select reads as JSON LINES.

    Non-ASCII characters and apostrophes are written as \\u escapes: the same JSON to any
    reader, but some S3 Select parsers (moto's among them) fail on the raw characters.
    """
    rows = recipes.select(list(RAW_JSONL_COLUMNS)).to_pylist()
    lines = (json.dumps(row, ensure_ascii=True).replace("'", "\\u0027") + "\n" for row in rows)
    return "".join(lines).encode()


def raw_csv(recipes: pa.Table, separator: str) -> bytes:
    """CSV with a header and `\\n` line ends; ingredients joined by a separator they never hold."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RAW_CSV_COLUMNS)
    for row in recipes.select(list(RAW_CSV_COLUMNS)).to_pylist():
        joined = separator.join(row["ingredients"])
        writer.writerow(
            [row["id"], row["cuisine"] or "", row["split"], row["n_ingredients"], joined]
        )
    return out.getvalue().encode()


def build_lake(recipes: pa.Table, params: LakeParams, folder: Path) -> dict[str, Any]:
    """Write every lake table under `folder` (laid out as `<store>/lake/`); return the manifest."""
    by_id = recipes.sort_by([("id", "ascending")])
    order = [("split", "ascending"), ("cuisine", "ascending"), ("id", "ascending")]
    recipes = recipes.sort_by(order)
    stored_columns = [c for c in LAKE_SCHEMAS["recipes"].names if c not in RECIPES_PARTITIONING]
    for split in pc.unique(recipes["split"]).to_pylist():
        part = folder / "recipes" / f"split={split}"
        part.mkdir(parents=True)
        rows = recipes.filter(pc.equal(recipes["split"], split)).select(stored_columns)
        pq.write_table(rows, part / "part-0.parquet", row_group_size=params.recipes_row_group_size)
    index = ingredient_index(recipes)
    (folder / "recipe_ingredients").mkdir()
    pq.write_table(
        index,
        folder / "recipe_ingredients" / "part-0.parquet",
        row_group_size=params.index_row_group_size,
        write_statistics=True,
    )
    vocab = vocabulary(index)
    (folder / "ingredients").mkdir()
    pq.write_table(vocab, folder / "ingredients" / "part-0.parquet")
    (folder / "raw").mkdir()
    (folder / "raw" / "recipes.jsonl").write_bytes(raw_json_lines(by_id))
    (folder / "raw" / "recipes.csv").write_bytes(raw_csv(by_id, params.csv_separator))
    tables = {
        "recipes": {"path": "lake/recipes", "rows": recipes.num_rows},
        "recipe_ingredients": {"path": "lake/recipe_ingredients", "rows": index.num_rows},
        "ingredients": {"path": "lake/ingredients", "rows": vocab.num_rows},
    }
    tables["recipes"]["partitioning"] = list(RECIPES_PARTITIONING)
    tables["recipe_ingredients"]["sorted_by"] = ["ingredient", "id"]
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    return {
        "format_version": LAKE_FORMAT_VERSION,
        "tables": tables,
        "raw_copies": {"jsonl": RAW_JSONL, "csv": RAW_CSV, "csv_separator": params.csv_separator},
        "files": {path.relative_to(folder).as_posix(): _describe_file(path) for path in files},
    }


def _describe_file(path: Path) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "size": path.stat().st_size}
