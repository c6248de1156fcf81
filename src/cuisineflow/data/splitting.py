"""How labelled recipes are split into train, valid and test (pure): row numbers, by params."""

from __future__ import annotations

import math
from collections.abc import Sequence
from hashlib import blake2b

import numpy as np
from sklearn.model_selection import train_test_split

from cuisineflow.errors import DataError
from cuisineflow.params import SplitParams
from cuisineflow.paths import SPLITS


def split_rows(ids: Sequence[int], labels: np.ndarray, params: SplitParams) -> list[np.ndarray]:
    """Row numbers of train, valid and test, as `split.method` says."""
    if params.method == "id_hash":
        parts = split_by_id_hash(ids, params)
        _refuse_unlearnable_cuisines(labels, parts[0])
        return parts
    return _stratified(labels, params)


def split_by_id_hash(ids: Sequence[int], params: SplitParams) -> list[np.ndarray]:
    """Row numbers of train, valid and test, each recipe placed by a seeded hash of its id.

    A recipe's split depends on its id and the seed alone, so adding or removing other
    recipes moves no recipe between splits: test scores of two data versions share their
    common recipes. Each cuisine's shares are then close to the sizes, not exact.
    """
    # blake2b, not hash(): Python salts str hashes per process, and this must not change.
    draws = np.array(
        [
            int.from_bytes(blake2b(f"{params.seed}:{i}".encode(), digest_size=8).digest())
            for i in ids
        ],
        dtype=np.uint64,
    ) / float(2**64)
    test = draws < params.test_size
    valid = ~test & (draws < params.test_size + params.valid_size)
    parts = [np.flatnonzero(~test & ~valid), np.flatnonzero(valid), np.flatnonzero(test)]
    for name, rows in zip(SPLITS, parts, strict=True):
        if len(rows) == 0:
            change = "lower valid_size and test_size" if name == "train" else f"raise {name}_size"
            raise DataError(
                f"split: hashing the ids of {len(ids)} labelled recipes put none in {name}: "
                f"add recipes or {change}"
            )
    return parts


def _refuse_unlearnable_cuisines(labels: np.ndarray, train: np.ndarray) -> None:
    """A cuisine with no recipe in train is one the model cannot learn, and `evaluate`
    could not score it: stop here, naming it, rather than a stage later."""
    missing = sorted(set(labels) - set(labels[train]))
    if missing:
        counts = {str(c): int((labels == c).sum()) for c in missing}
        raise DataError(
            f"split: hashing the ids put no recipe of {counts} (recipes each) in train, so "
            "the model could not learn them: add recipes of them, or use split.method: "
            "stratified"
        )


def _stratified(labels: np.ndarray, params: SplitParams) -> list[np.ndarray]:
    rows = np.arange(len(labels))
    # Counts, not shares: 0.1 + 0.2 is 0.30000000000000004 in floats and scikit-learn
    # rounds a share's count up, so 100 recipes lost 31 to valid and test, not 30. Rounded
    # to 9 places first, then up as scikit-learn does, so exact shares give its counts.
    held_out = math.ceil(round((params.valid_size + params.test_size) * len(rows), 9))
    test_count = math.ceil(
        round(params.test_size / (params.valid_size + params.test_size) * held_out, 9)
    )
    try:
        train, rest = train_test_split(
            rows, test_size=held_out, stratify=labels, random_state=params.seed
        )
        valid, test = train_test_split(
            rest, test_size=test_count, stratify=labels[rest], random_state=params.seed
        )
    except ValueError as error:  # too few recipes of a cuisine to put some in every split
        cuisines, sizes = np.unique(labels, return_counts=True)
        rarest = np.argsort(sizes, kind="stable")[:3]
        fewest = {str(cuisines[i]): int(sizes[i]) for i in rarest}
        raise DataError(
            f"split: cannot stratify {len(labels)} labelled recipes by cuisine ({error}); "
            f"the rarest cuisines have {fewest} recipes: add recipes, change split sizes "
            "or use split.method: id_hash"
        ) from None
    return [train, valid, test]
