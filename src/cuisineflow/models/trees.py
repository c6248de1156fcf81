"""Boosted trees over present/absent features as plain arrays, evaluated in numpy.

Every split asks whether a recipe has a feature. A present feature sends the recipe right,
which rules out the leaves of that node's left subtree; an absent one rules out nothing. So a
tree's exit leaf is the first leaf that none of the recipe's present features ruled out
(QuickScorer, Lucchese et al. 2015): one AND of 32-bit leaf masks per (recipe, node testing one
of its features), with no walk down the trees. Serving needs no LightGBM, OpenMP or scipy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cuisineflow.features import SparseRows

if TYPE_CHECKING:
    import scipy.sparse as sp

MAX_LEAVES = 32  # one uint32 mask per tree
ROWS_PER_CHUNK = 256  # measured: 0.40 s for 9,944 recipes (2048: 0.72 s on a first call)
# A feature with at least one node per this many trees is "dense": its nodes' masks are
# ANDed per tree once, at load, and a recipe that has it ANDs that whole row of masks (a
# contiguous pass over every tree) instead of one scattered update per node. On the
# pipeline's model (2,000 trees) that is the 59 features with 167 nodes or more, which hold
# most of the updates; scores() for 9,944 recipes took 0.73 s against 0.99 s (median of 7).
DENSE_TREES_PER_NODE = 12
# For fewer recipes than this (a server's request), every node stays apart: the rows of masks
# cost more than they save. Measured per recipe: 1 at a time 181 against 308 us, 8 at a time
# 105 against 100 us, 32 at a time 88 against 65 us.
DENSE_FROM_ROWS = 8


@dataclass(frozen=True)
class _ScoringLayout:
    """The node arrays as scores() reads them: dense features apart, int32 indices."""

    dense_slot: np.ndarray  # (n_features,) int32: row of dense_masks, or -1 (sparse)
    dense_masks: np.ndarray  # (n_dense, n_trees) uint32: AND of the feature's masks per tree
    pointers: np.ndarray  # (n_features + 1,) int32: each sparse feature's nodes (CSR)
    node_tree: np.ndarray  # (n_sparse_nodes,) int32
    node_mask: np.ndarray  # (n_sparse_nodes,) uint32


def _and_dense_masks(
    reachable: np.ndarray, rows: np.ndarray, dense_masks: np.ndarray, slots: np.ndarray
) -> None:
    """reachable[rows[i]] &= dense_masks[slots[i]] for every i, rows in nondecreasing order.

    Fancy-index updates keep only the last of repeated rows, so they go in rounds: round k
    takes each row's k-th mask."""
    if not len(rows):
        return
    run_starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    rank = np.arange(len(rows)) - np.repeat(run_starts, np.diff(np.r_[run_starts, len(rows)]))
    for k in range(int(rank.max()) + 1):
        this_round = rank == k
        reachable[rows[this_round]] &= dense_masks[slots[this_round]]


@dataclass(frozen=True)
class TreeEnsemble:
    """Trees t = 0, 1, ... score class t % n_classes; probabilities are a softmax of the sums."""

    n_classes: int
    # One entry per split node, sorted by feature: the feature it tests, its tree, and the
    # leaves of its tree still reachable when the feature is present.
    node_feature: np.ndarray  # (n_nodes,) int64
    node_tree: np.ndarray  # (n_nodes,) int64
    node_mask: np.ndarray  # (n_nodes,) uint32
    leaf_value: np.ndarray  # (n_trees, MAX_LEAVES) float64, leaves numbered left to right

    def __post_init__(self) -> None:
        """Refuse arrays that break what scores() relies on (a hand-edited artifact, say)."""
        nodes = len(self.node_feature)
        problems = [
            self.leaf_value.ndim != 2 or self.leaf_value.shape[1] != MAX_LEAVES,
            self.n_classes < 1 or self.leaf_value.shape[0] % self.n_classes != 0,
            len(self.node_tree) != nodes or len(self.node_mask) != nodes,
            self.node_mask.dtype != np.uint32,
            self.node_feature.dtype.kind not in "iu" or self.node_tree.dtype.kind not in "iu",
            nodes > 0 and int(self.node_feature.min()) < 0,
            nodes > 0 and bool(np.any(np.diff(self.node_feature) < 0)),
            # A present feature leaves its right subtree reachable: a mask is never empty.
            bool(np.any(self.node_mask == 0)),
            nodes > 0 and not 0 <= int(self.node_tree.min()) <= int(self.node_tree.max()) < len(
                self.leaf_value
            ),
        ]  # fmt: skip
        if any(problems):
            raise ValueError("inconsistent tree arrays: not a TreeEnsemble export")

    @property
    def n_trees(self) -> int:
        """Number of trees, a multiple of the number of classes."""
        return int(self.leaf_value.shape[0])

    @functools.cached_property
    def _layouts(self) -> tuple[_ScoringLayout, _ScoringLayout]:
        """The node arrays arranged for scores(), derived once per loaded model: every node
        apart (for a few recipes), and with dense features as rows of masks."""
        return self._layout(dense_from=len(self.node_feature) + 1), self._layout(
            dense_from=-(-self.n_trees // DENSE_TREES_PER_NODE)
        )

    def _layout(self, dense_from: int) -> _ScoringLayout:
        """Features with at least dense_from nodes are dense, the others' nodes stay apart."""
        n_features = int(self.node_feature.max()) + 1 if len(self.node_feature) else 0
        counts = np.bincount(self.node_feature, minlength=n_features)
        pointers = np.concatenate([[0], np.cumsum(counts)])
        dense = np.flatnonzero(counts >= dense_from)
        dense_slot = np.full(n_features, -1, dtype=np.int32)
        dense_slot[dense] = np.arange(len(dense), dtype=np.int32)
        dense_masks = np.full((len(dense), self.n_trees), np.uint32(0xFFFFFFFF))
        for slot, feature in enumerate(dense.tolist()):
            nodes = slice(pointers[feature], pointers[feature + 1])
            np.bitwise_and.at(dense_masks[slot], self.node_tree[nodes], self.node_mask[nodes])
        sparse_counts = np.where(dense_slot >= 0, 0, counts)
        sparse_nodes = np.repeat(dense_slot < 0, counts)
        return _ScoringLayout(
            dense_slot,
            dense_masks,
            np.concatenate([[0], np.cumsum(sparse_counts)]).astype(np.int32),
            self.node_tree[sparse_nodes].astype(np.int32),
            self.node_mask[sparse_nodes],
        )

    def scores(self, features: sp.csr_matrix | SparseRows) -> np.ndarray:
        """Summed leaf values per class; a feature counts as present when it is stored."""
        if not isinstance(features, SparseRows):
            features = SparseRows(
                features.indptr, features.indices, features.data, features.shape[1]
            )
        layout = self._layouts[features.n_rows >= DENSE_FROM_ROWS]
        pointers, n_features, n_trees = layout.pointers, len(layout.dense_slot), self.n_trees
        scores = np.zeros((features.n_rows, self.n_classes), dtype=np.float64)
        leaf_values = self.leaf_value.ravel()
        first_leaf = np.arange(n_trees, dtype=np.int32) * MAX_LEAVES  # of each tree
        for start in range(0, features.n_rows, ROWS_PER_CHUNK):
            stop = min(start + ROWS_PER_CHUNK, features.n_rows)
            lo, hi = features.indptr[start], features.indptr[stop]
            present = features.indices[lo:hi].astype(np.int32)
            row = np.repeat(
                np.arange(stop - start, dtype=np.int32), np.diff(features.indptr[start : stop + 1])
            )
            tested = present < n_features  # features no tree splits on have no nodes
            present, row = present[tested], row[tested]
            reachable = np.full((stop - start, n_trees), np.uint32(0xFFFFFFFF))
            slot = layout.dense_slot[present]
            dense = slot >= 0
            _and_dense_masks(reachable, row[dense], layout.dense_masks, slot[dense])
            present, row = present[~dense], row[~dense]
            first, count = pointers[present], pointers[present + 1] - pointers[present]
            ends = np.cumsum(count)
            node = np.repeat(first - ends + count, count)
            node += np.arange(ends[-1] if len(ends) else 0, dtype=np.int32)
            cell = np.repeat(row * np.int32(n_trees), count) + layout.node_tree[node]
            np.bitwise_and.at(reachable.ravel(), cell, layout.node_mask[node])
            lowest_bit = reachable & (~reachable + np.uint32(1))
            leaf = np.bitwise_count(lowest_bit - np.uint32(1))
            values = leaf_values[(leaf + first_leaf).ravel()]
            scores[start:stop] = values.reshape(stop - start, -1, self.n_classes).sum(axis=1)
        return scores

    def predict_proba(self, features: sp.csr_matrix | SparseRows) -> np.ndarray:
        """Class probabilities, rows summing to one."""
        logits = self.scores(features)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return probabilities
