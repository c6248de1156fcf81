"""The served classifier: the calibrated linear model, optionally blended with boosted trees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cuisineflow.features import SparseRows
from cuisineflow.models.linear import LinearClassifier
from cuisineflow.models.trees import TreeEnsemble

if TYPE_CHECKING:
    import scipy.sparse as sp

_FLOOR = 1e-12  # keeps log(0) finite when one model is certain


@dataclass(frozen=True)
class Ensemble:
    """probabilities = softmax((1 - w) log p_linear + w log p_trees); without trees, p_linear."""

    linear: LinearClassifier
    trees: TreeEnsemble | None = None
    trees_weight: float = 0.0

    @property
    def classes(self) -> tuple[str, ...]:
        """The cuisines, in column order."""
        return self.linear.classes

    def predict_proba(self, features: sp.csr_matrix | SparseRows) -> np.ndarray:
        """Class probabilities, rows summing to one."""
        linear = self.linear.predict_proba(features)
        if self.trees is None:
            return linear
        trees = self.trees.predict_proba(features)
        w = self.trees_weight
        logits = (1 - w) * np.log(np.maximum(linear, _FLOOR))
        logits += w * np.log(np.maximum(trees, _FLOOR))
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return probabilities
