"""The split stage's tables, as the stages after it read them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cuisineflow.paths import SPLIT_DIR, SPLITS


def read_splits(root: Path, names: Sequence[str] = SPLITS) -> pa.Table:
    """The named splits' recipes, one table in the order named."""
    return pa.concat_tables(pq.read_table(root / SPLIT_DIR / f"{n}.parquet") for n in names)
