"""Plot functions: data in, a matplotlib Figure out (the caller saves or inlines it)."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import sys
from collections.abc import Callable, Sequence
from typing import ParamSpec

import matplotlib

if "ipykernel" not in sys.modules:  # a notebook keeps its inline backend, to show the plots
    matplotlib.use("Agg")  # elsewhere files only, never a window

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter, StrMethodFormatter

COLOR = "#3b6ea8"
ALERT = "#b3261e"

P = ParamSpec("P")

LABEL_CHARS = 40  # a tick label cut past this: a 100-character ingredient squeezed the bars


def short_label(label: str) -> str:
    """The label cut to LABEL_CHARS characters, an ellipsis marking the cut."""
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "\u2026"


def _plain_text(plot: Callable[P, Figure]) -> Callable[P, Figure]:
    """The plot with every text it creates taken literally (html.svg draws it so too)."""

    @functools.wraps(plot)
    def plain(*args: P.args, **kwargs: P.kwargs) -> Figure:
        # Labels are user text (ingredients, experiment names): `$1 or $2 wine` is drawn
        # as written, not read as mathtext (which drops the dollars, or fails on `$\frac$`).
        with plt.rc_context({"text.parse_math": False}):
            return plot(*args, **kwargs)

    return plain


@_plain_text
def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    xlabel: str,
    zoom: bool = False,
    share: bool = False,
) -> Figure:
    """Bars sorted as given, the first on top, each value written at its end: a count with
    thousands separators (on an axis of whole numbers), a share (share=True) as a percentage,
    any other number to 4 decimals.

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
    counts = not share and all(float(v).is_integer() for v in values)
    for position, value in zip(positions, values, strict=True):
        text = f"{value:.1%}" if share else f"{int(value):,}" if counts else f"{value:.4f}"
        axes.text(value, position, f" {text}", va="center", fontsize=8)
    axes.margins(x=0.12)  # room at the right for the largest bar's value
    if share:
        axes.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    elif counts:  # no tick at 2.5 recipes
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes.set_yticks(positions, labels=[short_label(label) for label in labels])
    axes.set_title(title)
    axes.set_xlabel(xlabel + (" (axis not from 0)" if low else ""))
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


@_plain_text
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


@_plain_text
def histogram(
    values: Sequence[int], labels: Sequence[str], title: str, xlabel: str, ylabel: str
) -> Figure:
    """Counts per bin, bins labelled (the last always: it is often the open-ended one)."""
    figure, axes = plt.subplots(figsize=(7, 3))
    axes.bar(np.arange(len(values)), values, color=COLOR)
    step = max(1, len(labels) // 15)
    last = len(labels) - 1
    ticks = [t for t in range(0, len(labels), step) if last - t >= step] + [last]
    axes.set_xticks(ticks, labels=[labels[t] for t in ticks])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no tick at 2.5 recipes
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


@_plain_text
def confusion_matrix(matrix: Sequence[Sequence[int]], classes: Sequence[str]) -> Figure:
    """Where the mistakes go: each actual cuisine's share predicted as each other one, on a
    scale of the mistakes alone (on a 0-1 scale next to the diagonal they all look white);
    the diagonal, the share right, in grey. Counts written in the cells."""
    counts = np.asarray(matrix, dtype=float)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    mistakes = np.where(np.eye(len(classes), dtype=bool), np.nan, rates)
    top = float(np.nanmax(mistakes)) if np.isfinite(mistakes).any() else 0.0
    figure, axes = plt.subplots(figsize=(10, 9))
    axes.imshow(np.where(np.eye(len(classes)), 1.0, np.nan), cmap="Greys", vmin=0, vmax=4)
    image = axes.imshow(mistakes, cmap="Reds", vmin=0, vmax=max(top, 0.01))
    axes.set_xticks(range(len(classes)), labels=list(classes), rotation=60, ha="right")
    axes.set_yticks(range(len(classes)), labels=list(classes))
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    for (i, j), count in np.ndenumerate(counts):
        if count:
            dark = i != j and rates[i, j] > 0.6 * top
            axes.text(j, i, f"{int(count)}", ha="center", va="center", fontsize=8,
                      fontweight="bold" if i == j else "normal",
                      color="white" if dark else "black")  # fmt: skip
    figure.colorbar(image, ax=axes, fraction=0.04, label="share of the actual cuisine mistaken")
    axes.set_title("Confusion matrix: where each cuisine's mistakes go (diagonal: right, grey)")
    figure.tight_layout()
    return figure


@_plain_text
def calibration_curve(bins: Sequence[dict[str, float]]) -> Figure:
    """Accuracy against confidence per bin, the diagonal being perfect calibration; each
    point's area is its share of the recipes, so that a bin of ten does not draw the eye."""
    used = [b for b in bins if b["count"]]
    total = sum(b["count"] for b in used) or 1
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.plot([0, 1], [0, 1], color="#999", linestyle="--", label="perfect")
    confidence = [b["confidence"] for b in used]
    accuracy = [b["accuracy"] for b in used]
    axes.plot(confidence, accuracy, color=COLOR, linewidth=1)
    axes.scatter(confidence, accuracy, s=[12 + 600 * b["count"] / total for b in used],
                 color=COLOR, alpha=0.7, label="model (area: share of recipes)")  # fmt: skip
    axes.set_xlim(0, 1.02)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("confidence (top-1 probability)")
    axes.set_ylabel("accuracy")
    axes.set_title("Calibration")
    axes.legend(loc="upper left")
    figure.tight_layout()
    return figure


@_plain_text
def intervals(
    labels: Sequence[str],
    values: Sequence[float],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    title: str,
    xlabel: str,
) -> Figure:
    """A dot per label with its interval, the first on top: whether two runs differ by more
    than their measurement's error is the question, which bars hide."""
    figure, axes = plt.subplots(figsize=(7, 0.35 * len(labels) + 1.3))
    positions = np.arange(len(labels))[::-1]
    for position, value, low, high in zip(positions, values, lows, highs, strict=True):
        if low is not None and high is not None:
            axes.plot([low, high], [position, position], color=COLOR, linewidth=2, alpha=0.5)
        axes.plot([value], [position], "o", color=COLOR)
        axes.annotate(f"{value:.4f}", (value, position), xytext=(0, 6),
                      textcoords="offset points", ha="center", fontsize=8)  # fmt: skip
    axes.set_yticks(positions, labels=list(labels))
    axes.set_ylim(-0.6, len(labels) - 0.2)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


@_plain_text
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
    for k, (name, values) in enumerate(series.items()):  # the table beside gives the values
        axes.bar(np.arange(len(categories)) + k * width, values, width, label=name)
    axes.set_xticks(
        np.arange(len(categories)) + 0.4 - width / 2,
        labels=[short_label(category) for category in categories],
        rotation=45,
        ha="right",
    )
    axes.set_ylim(0, None if top is None else top * 1.04)  # a bar at the top shows whole
    axes.set_title(title, pad=30)
    axes.set_ylabel(ylabel)
    # Above the axes: inside, it covers whichever bars happen to sit under it.
    axes.legend(ncol=len(series), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


@_plain_text
def daily_lines(
    days: Sequence[dt.date],
    series: dict[str, Sequence[float | None]],
    title: str,
    ylabel: str,
    threshold: tuple[float, str] | None = None,
    unjudged: Sequence[dt.date] = (),
) -> Figure:
    """One line per series over calendar days, on a date axis: a day without a value (None,
    or not in `days`) breaks the line, so a gap shows as one. threshold: a dashed line,
    named; unjudged: days shaded as too few for a verdict."""
    figure, axes = plt.subplots(figsize=(10, 3.5))
    every_day = _days_between(min([*days, *unjudged]), max([*days, *unjudged]))
    x = _day_numbers(every_day)
    for (name, values), marker in zip(series.items(), itertools.cycle("osD^vP*X"), strict=False):
        by_day = {d: v for d, v in zip(days, values, strict=True) if v is not None}
        if by_day:  # a marker of its own: the lines are not told apart by colour alone
            axes.plot(x, [by_day.get(d, np.nan) for d in every_day], marker=marker,
                      markersize=4, label=name)  # fmt: skip
    for k, middle in enumerate(_day_numbers(sorted(unjudged))):
        axes.axvspan(middle - 0.5, middle + 0.5, color="#e4e4e4", linewidth=0,
                     label="too few predictions for a verdict" if k == 0 else None)  # fmt: skip
    if threshold is not None:
        axes.axhline(threshold[0], color="#444", linestyle="--", linewidth=1, label=threshold[1])
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.set_xlim(float(x[0]) - 1, float(x[-1]) + 1)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    # Beside the axes: inside, it covers whichever points happen to sit under it.
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def _day_numbers(days: Sequence[dt.date]) -> np.ndarray:
    """Days as matplotlib's date axis counts them (days since its epoch, as floats)."""
    return np.asarray(mdates.date2num(list(days)), dtype=float)  # type: ignore[no-untyped-call]


def _days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
