"""A calibrated linear classifier as plain arrays: scores, then calibrated probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class LinearClassifier:
    """scores = X @ coef.T + intercept; probabilities by temperature or per-class sigmoids."""

    classes: tuple[str, ...]
    coef: np.ndarray  # (n_classes, n_features) float32
    intercept: np.ndarray  # (n_classes,)
    calibration: Literal["temperature", "sigmoid"]
    # temperature: [beta] (softmax(beta * scores)); sigmoid: rows a and b per class.
    calibration_params: np.ndarray

    def scores(self, features: sp.csr_matrix) -> np.ndarray:
        """Decision values, one column per class."""
        result: np.ndarray = features @ self.coef.T + self.intercept
        return np.asarray(result, dtype=np.float64)

    def predict_proba(self, features: sp.csr_matrix) -> np.ndarray:
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
