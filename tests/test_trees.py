"""Boosted trees: LightGBM's fit exported to arrays, evaluated in numpy, blended with the linear model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pytest
import scipy.sparse as sp
from pydantic import ValidationError

from cuisineflow.errors import CuisineflowError
from cuisineflow.features import Featurizer, SparseRows
from cuisineflow.models import boosting
from cuisineflow.models.ensemble import Ensemble
from cuisineflow.models.linear import LinearClassifier
from cuisineflow.models.trees import TreeEnsemble
from cuisineflow.params import FeatureBlockParams, TreesParams
from tests.conftest import make_recipes


def _present_absent_data(rows: int = 400, columns: int = 30) -> tuple[sp.csr_matrix, np.ndarray]:
    """Random present/absent features; the class depends on conjunctions of them."""
    rng = np.random.default_rng(7)
    dense = (rng.random((rows, columns)) < 0.2).astype(np.float32)
    labels = np.where(dense[:, 0] * dense[:, 1] > 0, 2, np.where(dense[:, 2] > dense[:, 3], 1, 0))
    return sp.csr_matrix(dense), labels


def _lightgbm(features: sp.csr_matrix, labels: np.ndarray) -> lightgbm.Booster:
    settings = {"objective": "multiclass", "num_class": 3, "num_leaves": 8, "verbose": -1,
                "min_child_samples": 3, "seed": 0}  # fmt: skip
    return lightgbm.train(settings, lightgbm.Dataset(features, labels), num_boost_round=15)


@pytest.mark.parametrize(
    ("num_leaves", "min_child_samples", "leaves"),
    [(32, 1, 32), (4, 150, 1)],  # full 32-bit masks; trees that cannot split (one leaf)
)
def test_numpy_trees_reproduce_lightgbm_with_full_masks_and_single_leaves(
    num_leaves: int, min_child_samples: int, leaves: int
) -> None:
    features, labels = _present_absent_data(rows=600, columns=60)
    params = TreesParams(num_leaves=num_leaves, min_child_samples=min_child_samples, rounds=8)
    classes = ("a", "b", "c")
    named = [classes[i] for i in labels]
    columns = np.arange(60)
    booster = boosting.fit_booster(features, named, classes, columns, params, seed=0)
    trees = boosting.export(booster.dump_model(), columns, n_classes=3)
    most_leaves = max(t["num_leaves"] for t in booster.dump_model()["tree_info"])
    assert most_leaves == leaves
    np.testing.assert_allclose(
        trees.predict_proba(features), booster.predict(features), rtol=1e-9, atol=1e-12
    )


def test_numpy_trees_reproduce_lightgbm_on_the_columns_they_learnt() -> None:
    features, labels = _present_absent_data()
    columns = np.arange(0, 60, 2)  # the trees see every other column of a wider matrix
    wide = sp.lil_matrix((features.shape[0], 60), dtype=np.float32)
    wide[:, columns] = features * 0.37  # stored values are not 1: presence is what counts
    booster = _lightgbm(features, labels)
    trees = boosting.export(booster.dump_model(), columns, n_classes=3)
    assert trees.n_trees == 45
    layout = trees._layouts[1]  # both ways of scoring are in use: per-tree rows and single nodes
    assert (len(layout.dense_masks), len(layout.node_tree)) == (8, 11)
    wide_csr = wide.tocsr()
    rows = SparseRows(wide_csr.indptr, wide_csr.indices, wide_csr.data, 60)
    expected = booster.predict(features)
    np.testing.assert_allclose(trees.predict_proba(rows), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(trees.predict_proba(wide_csr), expected, rtol=1e-9, atol=1e-12)
    few = wide_csr[:5]  # fewer than DENSE_FROM_ROWS recipes: every node apart, same scores
    np.testing.assert_array_equal(trees.scores(few), trees.scores(wide_csr)[:5])
    assert (expected.argmax(axis=1) == labels).mean() > 0.9  # the trees learnt the conjunctions


def test_a_split_on_a_feature_that_is_not_present_or_absent_is_refused() -> None:
    features, labels = _present_absent_data()
    counts = features.copy()
    counts.data = np.random.default_rng(0).integers(1, 5, counts.nnz).astype(np.float32)
    labels = np.where(counts[:, 0].toarray().ravel() > 2, 2, labels)  # splits between counts
    booster = _lightgbm(counts, labels)
    with pytest.raises(CuisineflowError, match="not on a present/absent feature"):
        boosting.export(booster.dump_model(), np.arange(30), n_classes=3)


def test_a_split_that_sends_absent_features_right_is_refused() -> None:
    leaf = {"leaf_value": 0.0}
    split = {"split_feature": 0, "threshold": 1e-35, "decision_type": "<=", "left_child": leaf,
             "right_child": leaf, "missing_type": "Zero", "default_left": False}  # fmt: skip
    with pytest.raises(CuisineflowError, match="sends absent features right"):
        boosting.export({"tree_info": [{"tree_structure": split}]}, np.arange(1), n_classes=1)
    split["default_left"] = True
    trees = boosting.export({"tree_info": [{"tree_structure": split}]}, np.arange(1), n_classes=1)
    assert trees.node_mask.tolist() == [0xFFFFFFFE]  # present: leaf 0 (left) ruled out


def test_inconsistent_tree_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="inconsistent tree arrays"):
        TreeEnsemble(
            n_classes=2,
            node_feature=np.array([3, 1]),  # not sorted by feature
            node_tree=np.array([0, 1]),
            node_mask=np.array([1, 1], dtype=np.uint32),
            leaf_value=np.zeros((2, 32)),
        )


def _tree_arrays(**changes: Any) -> dict[str, Any]:
    """Consistent arrays for two classes, one tree each, one split in each tree, then changes."""
    arrays: dict[str, Any] = {
        "n_classes": 2,
        "node_feature": np.array([0, 1]),
        "node_tree": np.array([0, 1]),
        "node_mask": np.array([1, 1], dtype=np.uint32),
        "leaf_value": np.zeros((2, 32)),
    }
    return arrays | changes


@pytest.mark.parametrize(
    "changes",
    [
        {"leaf_value": np.zeros((2, 16))},  # fewer leaves than a mask has bits
        {"leaf_value": np.zeros((2, 32, 1))},  # not two-dimensional
        {"n_classes": 0},
        {"n_classes": 3},  # two trees are not a whole round of three classes
        {"node_tree": np.array([0])},  # one node array shorter than the others
        {"node_mask": np.array([1], dtype=np.uint32)},
        {"node_mask": np.array([1, 1], dtype=np.int64)},
        {"node_feature": np.array([1, 0])},  # out of order by one
        {"node_tree": np.array([0, 2])},  # tree 2 of two trees
        {"node_tree": np.array([-1, 0])},  # would index the trees from the end
        {"node_feature": np.array([0]), "node_tree": np.array([2]),
         "node_mask": np.array([1], dtype=np.uint32)},  # a single node, in no tree
        {"node_feature": np.array([-1, 0])},  # a negative feature
        {"node_feature": np.array([0.5, 1.0])},  # features are column numbers
        {"node_tree": np.array([0.0, 1.0])},  # and trees are counted
        {"node_mask": np.array([0, 1], dtype=np.uint32)},  # a present feature rules out all
    ],
)  # fmt: skip
def test_each_inconsistency_in_tree_arrays_is_refused(changes: dict[str, Any]) -> None:
    TreeEnsemble(**_tree_arrays())  # the unchanged arrays are fine
    with pytest.raises(ValueError, match="inconsistent tree arrays"):
        TreeEnsemble(**_tree_arrays(**changes))


def test_large_tree_scores_still_give_probabilities() -> None:
    # exp(1000) overflows: the softmax must shift each row by that row's own maximum.
    trees = TreeEnsemble(
        n_classes=2,
        node_feature=np.array([0]),
        node_tree=np.array([0]),
        node_mask=np.array([0xFFFFFFFE], dtype=np.uint32),  # feature 0 present: leaf 1
        leaf_value=np.array([[0.0, 1000.0] + [0.0] * 30, [0.0] * 32]),
    )
    rows = SparseRows(np.array([0, 1, 1]), np.array([0]), np.ones(1, np.float32), 1)
    np.testing.assert_array_equal(trees.scores(rows), [[1000.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(trees.predict_proba(rows), [[1.0, 0.0], [0.5, 0.5]])


def test_tree_columns_are_the_named_blocks_features_that_enough_recipes_have() -> None:
    recipes = [["soy sauce", "ginger"], ["soy sauce", "garlic"], ["soy sauce", "ginger"]]
    blocks = [FeatureBlockParams(analyzer="words"), FeatureBlockParams(analyzer="ingredients")]
    featurizer = Featurizer.fit(blocks, recipes)
    features = featurizer.transform(recipes)
    columns = boosting.tree_columns(
        featurizer, features, TreesParams(analyzers=["ingredients"], min_df=2)
    )
    words = len(featurizer.blocks[0].terms)
    names = [featurizer.blocks[1].terms[c - words] for c in columns]
    assert names == ["ginger", "soy_sauce"]  # garlic: one recipe; words: another block
    with pytest.raises(CuisineflowError, match=r"names no featurize block"):
        boosting.tree_columns(featurizer, features, TreesParams(analyzers=["word_pairs"]))
    with pytest.raises(CuisineflowError, match=r"lower train.trees.min_df"):
        boosting.tree_columns(featurizer, features, TreesParams(min_df=4, analyzers=["words"]))


def _linear_three_to_one() -> LinearClassifier:
    """A linear model with no weights, whose intercepts give (0.75, 0.25) to any recipe."""
    return LinearClassifier(
        classes=("a", "b"),
        coef=np.zeros((2, 1), dtype=np.float32),
        intercept=np.array([np.log(3), 0.0], dtype=np.float32),
        calibration="temperature",
        calibration_params=np.array([1.0]),
    )


def test_blend_is_a_weighted_geometric_mean_of_the_two_models() -> None:
    linear = _linear_three_to_one()  # p_linear = (0.75, 0.25) for every recipe
    trees = TreeEnsemble(  # two single-leaf trees: p_trees = (0.25, 0.75)
        n_classes=2,
        node_feature=np.zeros(0, dtype=np.int64),
        node_tree=np.zeros(0, dtype=np.int64),
        node_mask=np.zeros(0, dtype=np.uint32),
        leaf_value=np.array([[0.0] * 32, [np.log(3)] + [0.0] * 31]),
    )
    rows = SparseRows(np.array([0, 0]), np.zeros(0, np.int64), np.zeros(0, np.float32), 1)
    np.testing.assert_allclose(Ensemble(linear).predict_proba(rows), [[0.75, 0.25]], rtol=1e-6)
    np.testing.assert_allclose(trees.predict_proba(rows), [[0.25, 0.75]])
    # 0.7 log(0.75, 0.25) + 0.3 log(0.25, 0.75): odds 3 ** 0.4 = 1.55185 for "a".
    blended = Ensemble(linear, trees, 0.3).predict_proba(rows)
    np.testing.assert_allclose(blended, [[0.60813, 0.39187]], atol=1e-5)


def test_blend_normalises_each_recipe_on_its_own() -> None:
    linear = _linear_three_to_one()  # p_linear = (0.75, 0.25) for every recipe
    trees = TreeEnsemble(  # feature 0 present: p_trees = (0.25, 0.75); absent: (0.5, 0.5)
        n_classes=2,
        node_feature=np.array([0]),
        node_tree=np.array([1]),  # the only split is in the last tree, none in tree 0
        node_mask=np.array([0xFFFFFFFE], dtype=np.uint32),
        leaf_value=np.array([[0.0] * 32, [0.0, np.log(3)] + [0.0] * 30]),
    )
    rows = SparseRows(np.array([0, 1, 1]), np.array([0]), np.ones(1, np.float32), 1)
    blended = Ensemble(linear, trees, 0.3).predict_proba(rows)
    # The second recipe: odds 3 ** 0.7 = 2.15766 for "a", the trees being undecided.
    np.testing.assert_allclose(blended, [[0.60813, 0.39187], [0.68331, 0.31669]], atol=1e-5)


def test_trees_with_more_leaves_than_a_mask_holds_are_refused_in_params() -> None:
    with pytest.raises(ValidationError, match="num_leaves"):
        TreesParams(num_leaves=33)


def test_boosted_trees_fit_is_deterministic() -> None:
    recipes = make_recipes(120)
    ingredients = [r["ingredients"] for r in recipes]
    featurizer = Featurizer.fit([FeatureBlockParams(analyzer="words_and_bigrams")], ingredients)
    features = featurizer.transform(ingredients)
    labels = [r["cuisine"] for r in recipes]
    classes = tuple(sorted(set(labels)))
    params = TreesParams(rounds=10)
    columns = boosting.tree_columns(featurizer, features, params)
    first = boosting.fit(features, labels, classes, columns, params, seed=0)
    second = boosting.fit(features, labels, classes, columns, params, seed=0)
    for name in ("leaf_value", "node_feature", "node_tree", "node_mask"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert len(first.node_feature) > 0
    accuracy = (np.array(classes)[first.predict_proba(features).argmax(axis=1)] == labels).mean()
    assert accuracy > 0.9


@pytest.mark.parametrize(("given", "seen"), [(None, "1000"), ("20000", "20000")])
def test_lightgbm_threads_spin_briefly_unless_the_user_says(given: str | None, seen: str) -> None:
    # What OpenMP reads when LightGBM loads it, in a fresh interpreter on the train
    # stage's import path; a user's own GOMP_SPINCOUNT is kept. The speed it buys is
    # measured in benchmarks/trees_contention.py, not here.
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    if given is not None:
        env["GOMP_SPINCOUNT"] = given
    code = (
        "import ctypes, cuisineflow.stages.train\n"
        "libc = ctypes.CDLL(None); libc.getenv.restype = ctypes.c_char_p\n"
        "print(libc.getenv(b'GOMP_SPINCOUNT').decode())"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == seen


@pytest.mark.parametrize(
    "first",
    [
        "cuisineflow",  # python -m cuisineflow
        "cuisineflow.cli",  # the cuisineflow console script
        "cuisineflow.stages.train",
        "tests.conftest",  # a test process: tests/test_trees.py imports lightgbm itself
    ],
)
def test_openmp_spins_briefly_whatever_imports_lightgbm(first: str) -> None:
    # The variable as it is when LightGBM's library (and with it OpenMP) loads, after an
    # entry point's first import, with lightgbm imported directly and not through
    # models/boosting.py; and no OpenMP loaded before it, which would have read it sooner.
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    code = (
        "import os, sys\n"
        "seen = []\n"
        "def hook(event, args):\n"
        "    if event == 'ctypes.dlopen' and 'lib_lightgbm' in str(args[0]):\n"
        "        maps = open('/proc/self/maps').read()\n"
        "        seen.append((os.environ.get('GOMP_SPINCOUNT'), '/libgomp.so.1' in maps))\n"
        "sys.addaudithook(hook)\n"
        f"import {first}\n"
        "import lightgbm\n"
        "print(seen)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
        cwd=Path(__file__).parents[1],
    )  # fmt: skip
    assert shown.stdout.strip() == "[('1000', False)]"
