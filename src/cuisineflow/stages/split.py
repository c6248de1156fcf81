"""DVC stage `split`: labelled validated recipes -> stratified train / valid / test Parquet."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sklearn.model_selection import train_test_split

from cuisineflow.errors import DataError
from cuisineflow.params import load_params
from cuisineflow.stages.validate import VALIDATED_DIR
from cuisineflow.storage.local import atomic_write_json, staged_folder

SPLIT_DIR = "data/split"
SPLITS = ("train", "valid", "test")


def read_splits(root: Path, names: Sequence[str] = SPLITS) -> pa.Table:
    """The named splits' recipes, one table in the order named."""
    return pa.concat_tables(pq.read_table(root / SPLIT_DIR / f"{n}.parquet") for n in names)


def run(root: Path) -> dict[str, int]:
    """Split the labelled recipes by cuisine-stratified sampling with the params' seed."""
    params = load_params(root / "params.yaml").split
    recipes = pq.read_table(root / VALIDATED_DIR / "recipes.parquet")
    labelled = recipes.filter(pc.is_valid(recipes["cuisine"])).sort_by("id")
    labels = np.asarray(labelled["cuisine"].to_pylist())
    rows = np.arange(labelled.num_rows)
    held_out = params.valid_size + params.test_size
    try:
        train, rest = train_test_split(
            rows, test_size=held_out, stratify=labels, random_state=params.seed
        )
        valid, test = train_test_split(
            rest,
            test_size=params.test_size / held_out,
            stratify=labels[rest],
            random_state=params.seed,
        )
    except ValueError as error:  # too few recipes of a cuisine to put some in every split
        cuisines, sizes = np.unique(labels, return_counts=True)
        rarest = np.argsort(sizes, kind="stable")[:3]
        fewest = {str(cuisines[i]): int(sizes[i]) for i in rarest}
        raise DataError(
            f"split: cannot stratify {len(labels)} labelled recipes by cuisine ({error}); "
            f"the rarest cuisines have {fewest} recipes: add recipes or change split sizes"
        ) from None
    counts = {}
    with staged_folder(root / SPLIT_DIR) as folder:
        for name, indices in zip(SPLITS, (train, valid, test), strict=True):
            part = labelled.take(pa.array(np.sort(indices)))
            pq.write_table(
                part.select(["id", "cuisine", "ingredients"]), folder / f"{name}.parquet"
            )
            counts[name] = part.num_rows
    atomic_write_json(root / "metrics" / "split.json", counts)
    return counts
