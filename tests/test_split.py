"""The split stage: stratified or by id hash; a split it cannot make is a clear error."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from cuisineflow.errors import DataError
from cuisineflow.params import SplitParams
from cuisineflow.stages import split
from cuisineflow.stages.validate import VALIDATED_DIR

PROJECT = Path(__file__).resolve().parents[1]


def _write_recipes(root: Path, cuisines: list[str], method: str = "stratified") -> None:
    """params.yaml with the given split method, and validated recipes with ids 0, 1, ..."""
    params = yaml.safe_load((PROJECT / "params.yaml").read_text())
    params["split"]["method"] = method
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    recipes = pa.table(
        {
            "id": list(range(len(cuisines))),
            "cuisine": cuisines,
            "ingredients": [[f"ingredient {i}", "salt"] for i in range(len(cuisines))],
        }
    )
    (root / VALIDATED_DIR).mkdir(parents=True, exist_ok=True)
    pq.write_table(recipes, root / VALIDATED_DIR / "recipes.parquet")


def _split_of_each_id(root: Path) -> dict[int, str]:
    return {
        recipe_id: name
        for name in split.SPLITS
        for recipe_id in split.read_splits(root, [name])["id"].to_pylist()
    }


def test_a_cuisine_too_rare_to_stratify_is_named(tmp_path: Path) -> None:
    _write_recipes(tmp_path, ["italian"] * 40 + ["mexican"] * 39 + ["greek"])
    with pytest.raises(DataError, match=r"cannot stratify 80 labelled recipes.*'greek': 1"):
        split.run(tmp_path)
    assert not (tmp_path / split.SPLIT_DIR).exists()


def test_by_id_hash_no_recipe_changes_split_when_recipes_are_added(tmp_path: Path) -> None:
    cuisines = ["italian", "mexican", "greek", "thai"] * 500
    _write_recipes(tmp_path, cuisines, method="id_hash")
    split.run(tmp_path)
    before = _split_of_each_id(tmp_path)
    _write_recipes(tmp_path, cuisines + ["italian"] * 300, method="id_hash")
    counts = split.run(tmp_path)
    after = _split_of_each_id(tmp_path)
    assert sum(counts.values()) == 2300
    assert {i: after[i] for i in before} == before
    # The stratified split, by contrast, redraws: the same growth moves recipes.
    _write_recipes(tmp_path, cuisines)
    split.run(tmp_path)
    stratified_before = _split_of_each_id(tmp_path)
    _write_recipes(tmp_path, cuisines + ["italian"] * 300)
    split.run(tmp_path)
    stratified_after = _split_of_each_id(tmp_path)
    assert sum(stratified_after[i] != s for i, s in stratified_before.items()) == 527


def test_by_id_hash_shares_follow_the_sizes_and_the_seed() -> None:
    ids = list(range(20_000))
    train, valid, test = split.split_by_id_hash(ids, SplitParams(method="id_hash"))
    assert (len(train), len(valid), len(test)) == (16022, 1961, 2017)
    assert sorted([*train, *valid, *test]) == ids
    wider = split.split_by_id_hash(ids, SplitParams(method="id_hash", test_size=0.2))
    assert set(test) < set(wider[2])  # a larger test share only adds recipes to test
    other = split.split_by_id_hash(ids, SplitParams(method="id_hash", seed=7))[2]
    assert 150 < len(set(test) & set(other)) < 260  # independent draws: about 10% of 2,017


def test_by_id_hash_a_rare_cuisine_does_not_stop_the_split(tmp_path: Path) -> None:
    _write_recipes(tmp_path, ["italian"] * 40 + ["mexican"] * 39 + ["greek"], method="id_hash")
    counts = split.run(tmp_path)
    assert sum(counts.values()) == 80
    assert min(counts.values()) > 0


def test_by_id_hash_an_empty_split_is_named(tmp_path: Path) -> None:
    _write_recipes(tmp_path, ["italian", "mexican"], method="id_hash")
    with pytest.raises(DataError, match=r"hashing the ids of 2 labelled recipes put none in"):
        split.run(tmp_path)
    assert not (tmp_path / split.SPLIT_DIR).exists()


def test_shares_that_sum_to_an_inexact_float_hold_out_the_exact_count(tmp_path: Path) -> None:
    _write_recipes(tmp_path, ["italian"] * 50 + ["mexican"] * 50)
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    params["split"].update(valid_size=0.1, test_size=0.2)  # 0.1 + 0.2 = 0.30000000000000004
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    assert split.run(tmp_path) == {"train": 70, "valid": 10, "test": 20}
