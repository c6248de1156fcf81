"""Drift and performance of a window of predictions against the reference profile (pure).

Each check alerts only when the change is both statistically clear (a test at `alpha`, so
a fresh sample of the reference distribution rarely alerts) and large enough to matter (an
effect size over its threshold, so a huge window does not alert on trivia). In windows of
a few hundred predictions noise alone pushes the distances over their thresholds, so there
the tests decide: they are exact, or chi-square with every cell expected 5 times or more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from cuisineflow.features import normalise_recipe
from cuisineflow.monitoring.profile import confidence_histogram, ingredient_counts_histogram
from cuisineflow.params import MONITOR_DRAWS, MonitorParams


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two count or share vectors."""
    p = p / p.sum() if p.sum() else p
    q = q / q.sum() if q.sum() else q
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum()
    return float(np.sqrt(max((kl_p + kl_q) / 2, 0.0)))


# Monte Carlo draws for sparse tables: p-values resolve to 1e-4, and MonitorParams keeps
# alpha at least that.
SIMULATIONS = MONITOR_DRAWS


def two_sample_p_value(reference: np.ndarray, window: np.ndarray) -> float:
    """p-value that two count vectors share one distribution (chi-square statistic).

    Both are samples, so the reference's own noise is allowed for. When every cell is
    expected 5 times or more the chi-square distribution gives the p-value; otherwise its
    tail is too light (100-recipe windows alarmed at 3 times the rate alpha promises), and
    the p-value is the statistic's exact distribution given the table's margins, drawn by
    Monte Carlo (seeded: the same data, the same p-value).
    """
    table = np.rint(np.vstack([reference, window])).astype(np.int64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 1.0
    columns, rows = table.sum(axis=0), table.sum(axis=1)
    expected = np.outer(rows, columns) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    if expected.min() >= 5:
        return float(stats.chi2.sf(statistic, table.shape[1] - 1))
    drawn = np.random.default_rng(0).multivariate_hypergeometric(
        columns, int(rows[1]), size=SIMULATIONS
    )
    simulated = ((drawn - expected[1]) ** 2 / expected[1]).sum(axis=1) + (
        (columns - drawn - expected[0]) ** 2 / expected[0]
    ).sum(axis=1)
    at_least = int((simulated >= statistic * (1 - 1e-9)).sum())
    return (at_least + 1) / (SIMULATIONS + 1)


def _check(
    name: str, distance: float, p_value: float, threshold: float, alpha: float
) -> dict[str, Any]:
    detected = distance > threshold and p_value < alpha
    return {"name": name, "value": round(distance, 6), "threshold": threshold,
            "p_value": p_value, "detected": detected}  # fmt: skip


def compare(
    reference: dict[str, Any],
    recipes: Sequence[Sequence[str]],
    predicted: Sequence[str],
    confidence: np.ndarray,
    params: MonitorParams,
) -> dict[str, Any]:
    """Input, prediction and confidence drift, and estimated accuracy, for one window."""
    n, n_reference = len(recipes), reference["n"]
    if n == 0:
        raise ValueError("an empty window has no statistics to compare")
    normalised = [normalise_recipe(r) for r in recipes]
    known = set(reference["vocabulary"])
    total = sum(len(r) for r in normalised)
    unknown = sum(1 for r in normalised for i in r if i not in known)
    oov_rate = unknown / total if total else 0.0
    oov = _check("out_of_vocabulary_rate_increase", oov_rate - reference["out_of_vocabulary_rate"],
                 _unknown_rise_p_value(reference, unknown, total),
                 params.max_out_of_vocabulary_increase, params.alpha)  # fmt: skip
    oov["rate"] = oov_rate
    frequency = _common_ingredient_shift(reference, normalised, params)

    counts = np.array(ingredient_counts_histogram(recipes), dtype=np.float64)
    reference_counts = np.array(reference["ingredients_per_recipe"], dtype=np.float64)
    length = _check("ingredients_per_recipe", js_distance(counts, reference_counts),
                    two_sample_p_value(reference_counts, counts),
                    params.max_distribution_distance, params.alpha)  # fmt: skip

    classes = list(reference["prediction_share"])
    mix = np.array([Counter(predicted)[c] for c in classes], dtype=np.float64)
    reference_mix = np.array([reference["prediction_share"][c] for c in classes]) * n_reference
    prediction = _check("cuisine_mix", js_distance(mix, reference_mix),
                        two_sample_p_value(reference_mix, mix),
                        params.max_distribution_distance, params.alpha)  # fmt: skip
    prediction["window"] = {c: round(mix[k] / n, 4) for k, c in enumerate(classes)}
    prediction["reference"] = {c: round(reference["prediction_share"][c], 4) for c in classes}

    histogram = np.array(confidence_histogram(confidence), dtype=np.float64)
    reference_histogram = np.array(reference["confidence_histogram"], dtype=np.float64)
    confidence_check = _check("confidence", js_distance(histogram, reference_histogram),
                              two_sample_p_value(reference_histogram, histogram),
                              params.max_distribution_distance, params.alpha)  # fmt: skip
    input_checks = [oov, frequency, length]
    accuracy_check = _estimated_accuracy_drop(reference, confidence, params)
    return {
        "n_predictions": n,
        "drift": {
            "input": {"detected": any(c["detected"] for c in input_checks), "checks": input_checks},
            "prediction": {"detected": prediction["detected"], "checks": [prediction]},
            "confidence": {"detected": confidence_check["detected"], "checks": [confidence_check]},
        },
        # The model is calibrated: its mean top-1 probability estimates its accuracy (CBPE).
        "estimated_accuracy": float(confidence.mean()),
        "reference_accuracy_estimate": reference["mean_confidence"],
        "performance": {"detected": accuracy_check["detected"], "checks": [accuracy_check]},
    }


def _unknown_rise_p_value(reference: dict[str, Any], unknown: int, total: int) -> float:
    """One-sided p-value that the window's share of unknown ingredients is above the reference's.

    Both are samples: Fisher's exact test of the two 2x2 counts. Profiles older than
    `n_ingredients` test against the reference rate as if it were exact (binomial).
    """
    if total == 0:
        return 1.0
    reference_total = reference.get("n_ingredients")
    if reference_total:
        reference_unknown = round(reference["out_of_vocabulary_rate"] * reference_total)
        table = [
            [unknown, total - unknown],
            [reference_unknown, reference_total - reference_unknown],
        ]
        return float(stats.fisher_exact(table, alternative="greater").pvalue)
    base = min(max(reference["out_of_vocabulary_rate"], 1e-6), 1 - 1e-6)
    return float(stats.binomtest(unknown, total, base, alternative="greater").pvalue)


def _common_ingredient_shift(
    reference: dict[str, Any], normalised: Sequence[Sequence[str]], params: MonitorParams
) -> dict[str, Any]:
    """The change in the share of recipes using one of the reference's common ingredients.

    Size and significance belong to the same ingredient: among those whose share moved by
    more than the threshold, the one with the smallest p-value (Fisher's exact test,
    Bonferroni over the ingredients) is reported. Rare ingredients in small windows are
    where a normal approximation would overstate the evidence.
    """
    n, n_reference = len(normalised), reference["n"]
    common = list(reference["ingredient_share"])
    present = Counter(i for r in normalised for i in set(r) if i in reference["ingredient_share"])
    window_count = np.array([present[i] for i in common])
    reference_count = np.rint(
        np.array([reference["ingredient_share"][i] for i in common]) * n_reference
    ).astype(np.int64)
    change = window_count / n - reference_count / n_reference

    def adjusted_p(k: int) -> float:
        table = [[window_count[k], n - window_count[k]],
                 [reference_count[k], n_reference - reference_count[k]]]  # fmt: skip
        return min(1.0, float(stats.fisher_exact(table).pvalue) * len(common))

    if not common:  # a reference with no ingredients: nothing to compare
        return {"name": "common_ingredient_shift", "value": 0.0, "p_value": 1.0,
                "threshold": params.max_ingredient_shift, "detected": False,
                "ingredient": None, "largest_changes": []}  # fmt: skip
    large = np.flatnonzero(np.abs(change) > params.max_ingredient_shift)
    candidates = large if large.size else np.array([int(np.argmax(np.abs(change)))])
    p_values = [adjusted_p(int(k)) for k in candidates]
    chosen = int(candidates[int(np.argmin(p_values))])
    check = _check("common_ingredient_shift", float(abs(change[chosen])), min(p_values),
                   params.max_ingredient_shift, params.alpha)  # fmt: skip
    check["ingredient"] = common[chosen]
    largest = [int(k) for k in np.argsort(-np.abs(change), kind="stable")[:5]]
    if chosen not in largest:  # the most significant need not be among the largest
        largest.append(chosen)
    check["largest_changes"] = [
        {
            "ingredient": common[k],
            "reference": round(float(reference_count[k] / n_reference), 4),
            "window": round(float(window_count[k] / n), 4),
        }
        for k in largest
    ]
    return check


def _estimated_accuracy_drop(
    reference: dict[str, Any], confidence: np.ndarray, params: MonitorParams
) -> dict[str, Any]:
    """The fall in mean confidence (estimated accuracy) below the reference's, z-tested.

    Welch's standard error: each sample's own spread, the reference's from its confidence
    histogram (bin centres). Where it cannot be estimated (one prediction, no spread at
    all) there is no evidence: p = 1.
    """
    n, n_reference = len(confidence), reference["n"]
    drop = float(reference["mean_confidence"] - confidence.mean())
    histogram = np.asarray(reference["confidence_histogram"], dtype=np.float64)
    centres = (np.arange(len(histogram)) + 0.5) / len(histogram)
    # Bin centres, plus the spread within a bin (Sheppard): a one-bin histogram is not 0.
    reference_variance = (
        float(np.average((centres - centres @ histogram / histogram.sum()) ** 2, weights=histogram))
        + 1 / (12 * len(histogram) ** 2)
        if histogram.sum()
        else 0.0
    )
    window_variance = float(confidence.var(ddof=1)) if n > 1 else 0.0
    error = np.sqrt(window_variance / n + reference_variance / max(n_reference, 1))
    p_value = float(stats.norm.sf(drop / error)) if n > 1 and error > 1e-9 else 1.0
    return _check("estimated_accuracy_drop", drop, p_value,
                  params.max_estimated_accuracy_drop, params.alpha)  # fmt: skip


def realized_accuracy_check(accuracy: float, labels: int, params: MonitorParams) -> dict[str, Any]:
    """Accuracy on the labelled predictions under its floor, and clearly so.

    A one-sided binomial test against the floor: one wrong label out of one is no evidence.
    """
    p_value = stats.binomtest(round(accuracy * labels), labels, params.min_realized_accuracy,
                              alternative="less").pvalue  # fmt: skip
    detected = accuracy < params.min_realized_accuracy and p_value < params.alpha
    return {"name": "realized_accuracy", "value": round(accuracy, 6),
            "threshold": params.min_realized_accuracy, "p_value": float(p_value),
            "detected": bool(detected)}  # fmt: skip


def alerts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every check detected, of drift and of performance (estimated and realized accuracy);
    the common-ingredient check's with the ingredient whose share moved."""
    groups = [*report["drift"].values(), report["performance"]]
    return [
        {
            key: check[key]
            for key in ("name", "ingredient", "value", "threshold", "p_value")
            if key in check
        }
        for group in groups
        for check in group["checks"]
        if check["detected"]
    ]
