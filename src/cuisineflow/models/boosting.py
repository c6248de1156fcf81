"""Gradient-boosted trees (LightGBM) on present/absent features, exported to a TreeEnsemble."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# GOMP_SPINCOUNT, which OpenMP reads when LightGBM loads it, is set in cuisineflow/__init__.py.
import lightgbm
import numpy as np
import scipy.sparse as sp

from cuisineflow.errors import CuisineflowError
from cuisineflow.features import Featurizer
from cuisineflow.models.trees import MAX_LEAVES, TreeEnsemble
from cuisineflow.params import TreesParams


def tree_columns(
    featurizer: Featurizer, features: sp.csr_matrix, params: TreesParams
) -> np.ndarray:
    """Columns of the named blocks that at least min_df of the training recipes have."""
    sizes = [len(block.terms) for block in featurizer.blocks]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    wanted = [
        np.arange(starts[i], starts[i + 1])
        for i, block in enumerate(featurizer.blocks)
        if block.params.analyzer in params.analyzers
    ]
    if not wanted:
        raise CuisineflowError(
            f"train.trees.analyzers {params.analyzers} names no featurize block; the blocks are "
            f"{[b.params.analyzer for b in featurizer.blocks]}"
        )
    columns = np.concatenate(wanted)
    document_frequency = np.bincount(features.indices, minlength=features.shape[1])[columns]
    selected: np.ndarray = columns[document_frequency >= params.min_df]
    if len(selected) == 0:
        raise CuisineflowError(
            f"train.trees: no feature of {params.analyzers} is in {params.min_df} or more "
            "training recipes; lower train.trees.min_df"
        )
    return selected


def fit(
    features: sp.csr_matrix,
    labels: Sequence[str],
    classes: tuple[str, ...],
    columns: np.ndarray,
    params: TreesParams,
    seed: int,
) -> TreeEnsemble:
    """Fit multiclass boosted trees on whether each recipe has each column's feature."""
    booster = fit_booster(features, labels, classes, columns, params, seed)
    return export(booster.dump_model(), columns, len(classes))


def present(features: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    """1 where a recipe has the column's feature, else 0: what the trees split on."""
    matrix: sp.csr_matrix = (features[:, columns] > 0).astype(np.float32)
    return matrix


def fit_booster(
    features: sp.csr_matrix,
    labels: Sequence[str],
    classes: tuple[str, ...],
    columns: np.ndarray,
    params: TreesParams,
    seed: int,
) -> lightgbm.Booster:
    """LightGBM's own model, before export (benchmarks compare its predictor with ours)."""
    index = {cuisine: i for i, cuisine in enumerate(classes)}
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise CuisineflowError(f"labels {unknown} are not among the classes {list(classes)}")
    targets = np.array([index[label] for label in labels])
    settings = {
        "objective": "multiclass",
        "num_class": len(classes),
        "learning_rate": params.learning_rate,
        "num_leaves": params.num_leaves,
        "min_child_samples": params.min_child_samples,
        "feature_fraction": params.feature_fraction,
        "lambda_l2": params.l2,
        "seed": seed,
        "deterministic": True,  # with force_col_wise: the same model from the same data
        "force_col_wise": True,
        "verbose": -1,
    }
    dataset = lightgbm.Dataset(present(features, columns), targets)
    return lightgbm.train(settings, dataset, num_boost_round=params.rounds)


def export(dump: dict[str, Any], columns: np.ndarray, n_classes: int) -> TreeEnsemble:
    """LightGBM's JSON dump as node and leaf arrays; split features mapped back to columns."""
    features: list[int] = []
    trees: list[int] = []
    masks: list[int] = []
    leaf_values = np.zeros((len(dump["tree_info"]), MAX_LEAVES), dtype=np.float64)
    for index, tree in enumerate(dump["tree_info"]):
        leaves: list[float] = []
        splits: list[tuple[int, int]] = []
        _flatten(tree["tree_structure"], leaves, splits)
        if len(leaves) > MAX_LEAVES:
            raise CuisineflowError(f"tree {index} has {len(leaves)} leaves, over {MAX_LEAVES}")
        leaf_values[index, : len(leaves)] = leaves
        features += [int(columns[feature]) for feature, _ in splits]
        masks += [mask for _, mask in splits]
        trees += [index] * len(splits)
    order = np.argsort(np.asarray(features, dtype=np.int64), kind="stable")
    return TreeEnsemble(
        n_classes=n_classes,
        node_feature=np.asarray(features, dtype=np.int64)[order],
        node_tree=np.asarray(trees, dtype=np.int64)[order],
        node_mask=np.asarray(masks, dtype=np.uint32)[order],
        leaf_value=leaf_values,
    )


def _flatten(node: dict[str, Any], leaves: list[float], splits: list[tuple[int, int]]) -> list[int]:
    """Number leaves left to right; per split, its feature and the leaves left when present."""
    if "split_feature" not in node:
        leaves.append(float(node["leaf_value"]))
        return [len(leaves) - 1]
    if node["decision_type"] != "<=" or not 0 <= node["threshold"] < 1:
        raise CuisineflowError("a tree split is not on a present/absent feature")
    if node.get("missing_type") == "Zero" and not node.get("default_left", True):
        raise CuisineflowError("a tree split sends absent features right")  # masks assume left
    left = _flatten(node["left_child"], leaves, splits)
    right = _flatten(node["right_child"], leaves, splits)
    # A present feature sends the recipe right: its left subtree's leaves are ruled out.
    splits.append(
        (int(node["split_feature"]), ((1 << MAX_LEAVES) - 1) & ~sum(1 << i for i in left))
    )
    return left + right
