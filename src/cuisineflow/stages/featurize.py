"""DVC stage `featurize`: fit the vectorisers of params.yaml, write feature matrices."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp

from cuisineflow.errors import DataError
from cuisineflow.features import Featurizer
from cuisineflow.models.artifact import save_featurizer
from cuisineflow.params import load_params
from cuisineflow.paths import FEATURES_DIR, SPLIT_DIR, SPLITS
from cuisineflow.storage.local import atomic_write_json, staged_folder


def run(root: Path) -> dict[str, int]:
    """Fit the featurizer on the fitting splits; save it and every split's features."""
    params = load_params(root / "params.yaml").featurize
    tables = {name: pq.read_table(root / SPLIT_DIR / f"{name}.parquet") for name in SPLITS}
    fitting = pa.concat_tables(tables[name] for name in params.fit_splits)
    featurizer = Featurizer.fit(params.blocks, fitting["ingredients"].to_pylist())
    if featurizer.n_features == 0:  # no model can learn from no columns: say why here
        empty = ", ".join(
            f"{i} ({block.params.analyzer}, min_df {block.params.min_df})"
            for i, block in enumerate(featurizer.blocks)
            if not block.terms
        )
        raise DataError(
            f"featurize learnt no features: no term is in min_df of the {fitting.num_rows} "
            f"recipes fitted on, for featurize.blocks {empty}; lower min_df"
        )
    with staged_folder(root / FEATURES_DIR) as folder:
        save_featurizer(folder / "featurizer", featurizer)
        for name, table in tables.items():
            matrix = featurizer.transform(table["ingredients"].to_pylist())
            sp.save_npz(folder / f"{name}.npz", matrix, compressed=False)
    summary = {"n_features": featurizer.n_features, "n_fit": fitting.num_rows}
    summary |= {f"block_{i}_terms": len(b.terms) for i, b in enumerate(featurizer.blocks)}
    atomic_write_json(root / "metrics" / "featurize.json", summary)
    return summary
