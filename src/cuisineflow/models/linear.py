"""A calibrated linear classifier as plain arrays: scores, then calibrated probabilities."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Literal,
)

import numpy as np

from cuisineflow.features import SparseRows

if TYPE_CHECKING:
    import scipy.sparse as sp

# Rows scored at once: 64 rows gather about 1 MB of coefficients, which stays in the CPU's
# cache; 1,024 rows (18 MB) took twice as long for 9,944 recipes (0.50 s against 0.24 s).
ROWS_PER_CHUNK = 64


@dataclass(frozen=True)
class LinearClassifier:
    """scores = X @ coef.T + intercept; probabilities by temperature or per-class sigmoids."""

    classes: tuple[str, ...]
    coef: np.ndarray  # (n_classes, n_features) float32
    intercept: np.ndarray  # (n_classes,)
    calibration: Literal["temperature", "sigmoid"]
    # temperature: [beta] (softmax(beta * scores)); sigmoid: rows a and b per class.
    calibration_params: np.ndarray

    def scores(self, features: sp.csr_matrix | SparseRows) -> np.ndarray:
        """Decision values, one column per class."""
        if not isinstance(features, SparseRows):
            result: np.ndarray = features @ self.coef.T + self.intercept
            return np.asarray(result, dtype=np.float64)
        scores = np.zeros((features.n_rows, len(self.classes)), dtype=np.float64)
        weights = self._coef_by_feature
        # In chunks of rows, so the gathered coefficients stay in the cache.
        for start in range(0, features.n_rows, ROWS_PER_CHUNK):
            stop = min(start + ROWS_PER_CHUNK, features.n_rows)
            lo, hi = features.indptr[start], features.indptr[stop]
            if hi == lo:
                continue
            contributions = weights[features.indices[lo:hi]]
            contributions *= features.data[lo:hi, None]  # in place: no second array
            filled = np.diff(features.indptr[start : stop + 1]) > 0
            starts = features.indptr[start:stop][filled] - lo
            scores[np.arange(start, stop)[filled]] = np.add.reduceat(contributions, starts, axis=0)
        total: np.ndarray = scores + self.intercept
        return total

    @functools.cached_property
    def _coef_by_feature(self) -> np.ndarray:
        """coef transposed and contiguous: one row per feature, gathered fast."""
        return np.ascontiguousarray(self.coef.T, dtype=np.float64)

    def predict_proba(self, features: sp.csr_matrix | SparseRows) -> np.ndarray:
        """Calibrated class probabilities, rows summing to one."""
        scores = self.scores(features)
        if self.calibration == "temperature":
            logits = float(self.calibration_params[0]) * scores
            logits -= logits.max(axis=1, keepdims=True)
            exp = np.exp(logits)
            probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
            return probabilities
        a, b = self.calibration_params
        probabilities = 1.0 / (1.0 + np.exp(a * scores + b))
        total = probabilities.sum(axis=1, keepdims=True)
        uniform = np.full_like(probabilities, 1.0 / len(self.classes))
        normalised: np.ndarray = np.divide(probabilities, total, out=uniform, where=total != 0)
        return normalised
