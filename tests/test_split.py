"""The split stage: a cuisine too rare to stratify is a clear error, and nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cuisineflow.errors import DataError
from cuisineflow.stages import split
from cuisineflow.stages.validate import VALIDATED_DIR

PROJECT = Path(__file__).resolve().parents[1]


def test_a_cuisine_too_rare_to_stratify_is_named(tmp_path: Path) -> None:
    shutil.copy(PROJECT / "params.yaml", tmp_path / "params.yaml")
    cuisines = ["italian"] * 40 + ["mexican"] * 39 + ["greek"]
    recipes = pa.table(
        {
            "id": list(range(len(cuisines))),
            "cuisine": cuisines,
            "ingredients": [[f"ingredient {i}", "salt"] for i in range(len(cuisines))],
        }
    )
    (tmp_path / VALIDATED_DIR).mkdir(parents=True)
    pq.write_table(recipes, tmp_path / VALIDATED_DIR / "recipes.parquet")
    with pytest.raises(DataError, match=r"cannot stratify 80 labelled recipes.*'greek': 1"):
        split.run(tmp_path)
    assert not (tmp_path / split.SPLIT_DIR).exists()
