"""DVC stage `split`: labelled validated recipes -> train / valid / test Parquet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cuisineflow.data.splitting import split_rows
from cuisineflow.errors import DataError
from cuisineflow.params import load_params
from cuisineflow.paths import SPLIT_DIR, SPLITS, VALIDATED_DIR
from cuisineflow.storage.local import atomic_write_json, staged_folder


def run(root: Path) -> dict[str, int]:
    """Split the labelled recipes as params.yaml's `split:` says, and write the three splits."""
    params = load_params(root / "params.yaml").split
    recipes = pq.read_table(root / VALIDATED_DIR / "recipes.parquet")
    labelled = recipes.filter(pc.is_valid(recipes["cuisine"])).sort_by("id")
    if labelled.num_rows == 0:
        raise DataError("split: no validated recipe has a cuisine: there is nothing to split")
    labels = np.asarray(labelled["cuisine"].to_pylist())
    parts = split_rows(labelled["id"].to_pylist(), labels, params)
    counts = {}
    with staged_folder(root / SPLIT_DIR) as folder:
        for name, indices in zip(SPLITS, parts, strict=True):
            part = labelled.take(pa.array(np.sort(indices)))
            pq.write_table(
                part.select(["id", "cuisine", "ingredients"]), folder / f"{name}.parquet"
            )
            counts[name] = part.num_rows
    atomic_write_json(root / "metrics" / "split.json", counts)
    return counts
