"""Plot functions: data in, a matplotlib Figure out (the caller saves or inlines it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

COLOR = "#3b6ea8"
ALERT = "#b3261e"


def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    xlabel: str,
    zoom: bool = False,
) -> Figure:
    """Bars sorted as given, the first on top, each value written at its end.

    zoom: the axis spans the values, not 0 to the largest, so that values differing by
    a thousandth (experiments' accuracies) look different.
    """
    figure, axes = plt.subplots(figsize=(7, 0.28 * len(labels) + 1.2))
    positions = np.arange(len(labels))[::-1]
    low = 0.0
    if zoom and values:
        spread = max(values) - min(values)
        low = max(0.0, min(values) - max(spread, 0.005))
    axes.barh(positions, np.asarray(values) - low, left=low, color=COLOR)
    if zoom:
        for position, value in zip(positions, values, strict=True):
            axes.text(value, position, f" {value:.4f}", va="center", fontsize=8)
    axes.set_yticks(positions, labels=list(labels))
    axes.set_title(title)
    axes.set_xlabel(xlabel + (" (axis not from 0)" if low else ""))
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def threshold_bars(
    labels: Sequence[str], ratios: Sequence[float], alerted: Sequence[bool], title: str
) -> Figure:
    """Each check's statistic over its alert threshold: past the line at 1 is large enough to
    alert; a red bar is also significant, and alerted."""
    figure, axes = plt.subplots(figsize=(7, 0.35 * len(labels) + 1.4))
    positions = np.arange(len(labels))[::-1]
    colors = [ALERT if a else COLOR for a in alerted]
    axes.barh(positions, [max(r, 0.0) for r in ratios], color=colors)
    axes.axvline(1.0, color="#444", linestyle="--", linewidth=1, label="alert threshold")
    axes.set_yticks(positions, labels=list(labels))
    axes.set_title(title)
    axes.set_xlabel("statistic / its alert threshold (capped at 10)")
    axes.legend(loc="lower right")
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def histogram(
    values: Sequence[int], labels: Sequence[str], title: str, xlabel: str, ylabel: str
) -> Figure:
    """Counts per bin, bins labelled (the last always: it is often the open-ended one)."""
    figure, axes = plt.subplots(figsize=(7, 3))
    axes.bar(np.arange(len(values)), values, color=COLOR)
    step = max(1, len(labels) // 15)
    ticks = sorted({*range(0, len(labels), step), len(labels) - 1})
    axes.set_xticks(ticks, labels=[labels[t] for t in ticks])
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def confusion_matrix(matrix: Sequence[Sequence[int]], classes: Sequence[str]) -> Figure:
    """Row-normalised confusion matrix, with the counts written in the cells."""
    counts = np.asarray(matrix, dtype=float)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    figure, axes = plt.subplots(figsize=(10, 9))
    image = axes.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(classes)), labels=list(classes), rotation=60, ha="right")
    axes.set_yticks(range(len(classes)), labels=list(classes))
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    for (i, j), count in np.ndenumerate(counts):
        if count:
            axes.text(
                j,
                i,
                f"{int(count)}",
                ha="center",
                va="center",
                fontsize=6,
                color="white" if rates[i, j] > 0.5 else "black",
            )
    figure.colorbar(image, ax=axes, fraction=0.04, label="share of the actual cuisine")
    axes.set_title("Confusion matrix (rows normalised, counts shown)")
    figure.tight_layout()
    return figure


def calibration_curve(bins: Sequence[dict[str, float]]) -> Figure:
    """Accuracy against confidence per bin, the diagonal being perfect calibration."""
    used = [b for b in bins if b["count"]]
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.plot([0, 1], [0, 1], color="#999", linestyle="--", label="perfect")
    axes.plot(
        [b["confidence"] for b in used],
        [b["accuracy"] for b in used],
        marker="o",
        color=COLOR,
        label="model",
    )
    axes.set_xlabel("confidence (top-1 probability)")
    axes.set_ylabel("accuracy")
    axes.set_title("Calibration")
    axes.legend()
    figure.tight_layout()
    return figure


def grouped_bars(
    categories: Sequence[str],
    series: dict[str, Sequence[float]],
    title: str,
    ylabel: str,
    top: float | None = 1.0,
) -> Figure:
    """Several values per category side by side (per-cuisine precision, recall, F1).

    top: the axis's upper end (None: fit the values).
    """
    figure, axes = plt.subplots(figsize=(10, 3.5))
    width = 0.8 / max(len(series), 1)
    for k, (name, values) in enumerate(series.items()):
        axes.bar(np.arange(len(categories)) + k * width, values, width, label=name)
    axes.set_xticks(
        np.arange(len(categories)) + 0.4 - width / 2,
        labels=list(categories),
        rotation=45,
        ha="right",
    )
    axes.set_ylim(0, top)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.legend(ncol=len(series))
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def lines(
    x: Sequence[Any],
    series: dict[str, Sequence[float | None]],
    title: str,
    ylabel: str,
    threshold: tuple[float, str] | None = None,
) -> Figure:
    """One line per series over x (dates, experiment names); threshold: a dashed line, named."""
    figure, axes = plt.subplots(figsize=(8, 3.5))
    for name, values in series.items():
        points = [(a, v) for a, v in zip(x, values, strict=True) if v is not None]
        if points:
            axes.plot([str(a) for a, _ in points], [v for _, v in points], marker="o", label=name)
    if threshold is not None:
        axes.axhline(threshold[0], color="#444", linestyle="--", linewidth=1, label=threshold[1])
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.legend()
    axes.tick_params(axis="x", rotation=30)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure
