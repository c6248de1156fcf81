"""Evaluation metrics (pure numpy): accuracy, F1, top-k, calibration, confusion."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

# evaluate() names its top-k accuracy after k: top_3_accuracy, top_5_accuracy, ...
TOP_K_ACCURACY = re.compile(r"^top_\d+_accuracy$")


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts: rows are true classes, columns predicted classes."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def per_class(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support of each class (0 where undefined)."""
    true_positive = np.diag(confusion).astype(np.float64)
    predicted = confusion.sum(axis=0).astype(np.float64)
    support = confusion.sum(axis=1).astype(np.float64)
    precision = np.divide(
        true_positive, predicted, out=np.zeros_like(true_positive), where=predicted > 0
    )
    recall = np.divide(true_positive, support, out=np.zeros_like(true_positive), where=support > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def accuracy_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of an accuracy of correct/n (95% with the default z).

    One test split is a sample: at 3,500 recipes its accuracy is uncertain by about
    +-0.013, more than most changes of params move it.
    """
    if n <= 0:
        raise ValueError("an accuracy interval needs at least one scored recipe")
    share, z2 = correct / n, z * z
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(share * (1 - share) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # At 0 or n correct the bound is 0 or 1 exactly, which floats can miss by 1e-16.
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def top_k_accuracy(probabilities: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Share of rows whose true class is among the k most probable."""
    top = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == truth[:, None], axis=1)))


def calibration_bins(
    probabilities: np.ndarray, truth: np.ndarray, n_bins: int
) -> list[dict[str, float]]:
    """Per confidence bin: rows, mean confidence and accuracy of the top prediction."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == truth
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bins are (lo, hi]; a confidence of exactly 0 cannot happen with n_classes >= 2.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        mask = which == b
        count = int(mask.sum())
        bins.append(
            {
                "lower": float(edges[b]),
                "upper": float(edges[b + 1]),
                "count": count,
                "confidence": float(confidence[mask].mean()) if count else 0.0,
                "accuracy": float(correct[mask].mean()) if count else 0.0,
            }
        )
    return bins


def expected_calibration_error(probabilities: np.ndarray, truth: np.ndarray, n_bins: int) -> float:
    """Weighted mean gap between confidence and accuracy over confidence bins."""
    bins = calibration_bins(probabilities, truth, n_bins)
    total = sum(b["count"] for b in bins)
    return float(sum(b["count"] * abs(b["accuracy"] - b["confidence"]) for b in bins) / total)


def macro_f1(confusion: np.ndarray) -> float | None:
    """Mean F1 over the classes that occur, labelled or predicted (scikit-learn's default):
    a cuisine absent from a small split is no mistake, and would count as F1 0. None when
    no class occurs."""
    present = (confusion.sum(axis=0) + confusion.sum(axis=1)) > 0
    return float(per_class(confusion)["f1"][present].mean()) if present.any() else None


def evaluate(
    probabilities: np.ndarray, truth: np.ndarray, classes: tuple[str, ...], n_bins: int, k: int
) -> dict[str, Any]:
    """Every summary metric, the per-class table and the confusion matrix."""
    predicted = probabilities.argmax(axis=1)
    confusion = confusion_matrix(truth, predicted, len(classes))
    table = per_class(confusion)
    correct = int(np.sum(predicted == truth))
    low, high = accuracy_interval(correct, len(truth))
    return {
        "accuracy": correct / len(truth),
        "accuracy_ci_low": low,
        "accuracy_ci_high": high,
        "macro_f1": macro_f1(confusion),
        f"top_{k}_accuracy": top_k_accuracy(probabilities, truth, k),
        "expected_calibration_error": expected_calibration_error(probabilities, truth, n_bins),
        "n": len(truth),
        "per_cuisine": {
            cuisine: {name: float(values[i]) for name, values in table.items()}
            for i, cuisine in enumerate(classes)
        },
        "confusion": confusion.tolist(),
        "calibration": calibration_bins(probabilities, truth, n_bins),
    }
