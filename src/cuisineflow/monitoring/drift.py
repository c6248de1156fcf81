"""Drift and performance of a window of predictions against the reference profile (pure).

Each check alerts only when the change is both statistically clear (a chi-square test at
`alpha`, so a fresh sample of the reference distribution rarely alerts) and large enough
to matter (an effect size over its threshold, so a huge window does not alert on noise).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from cuisineflow.features import normalise_recipe
from cuisineflow.monitoring.profile import confidence_histogram, ingredient_counts_histogram
from cuisineflow.params import MonitorParams


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two count or share vectors."""
    p = p / p.sum() if p.sum() else p
    q = q / q.sum() if q.sum() else q
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum()
    return float(np.sqrt(max((kl_p + kl_q) / 2, 0.0)))


def two_sample_p_value(reference: np.ndarray, window: np.ndarray) -> float:
    """p-value of a chi-square test that two count vectors share one distribution.

    Both are samples, so the reference's own noise is allowed for; rare cells are pooled.
    """
    if reference.sum() == 0 or window.sum() == 0:
        return 1.0
    totals = reference + window
    rare = totals < 10
    table = np.vstack([reference[~rare], window[~rare]])
    if rare.any():
        table = np.hstack([table, [[reference[rare].sum()], [window[rare].sum()]]])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0
    return float(stats.chi2_contingency(table, correction=False).pvalue)


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
    n = len(recipes)
    normalised = [normalise_recipe(r) for r in recipes]
    known = set(reference["vocabulary"])
    total = sum(len(r) for r in normalised)
    unknown = sum(1 for r in normalised for i in r if i not in known)
    oov_rate = unknown / total if total else 0.0
    oov_increase = oov_rate - reference["out_of_vocabulary_rate"]
    # One-sided binomial z-test of the window's rate against the reference rate.
    base = min(max(reference["out_of_vocabulary_rate"], 1e-6), 1 - 1e-6)
    z = (oov_rate - base) / np.sqrt(base * (1 - base) / max(total, 1))
    oov = _check("out_of_vocabulary_rate_increase", oov_increase, float(stats.norm.sf(z)),
                 params.max_out_of_vocabulary_increase, params.alpha)  # fmt: skip
    oov["rate"] = oov_rate

    common = list(reference["ingredient_share"])
    present = Counter(i for r in normalised for i in set(r) if i in reference["ingredient_share"])
    window_share = np.array([present[i] / n for i in common])
    reference_share = np.array([reference["ingredient_share"][i] for i in common])
    # The largest change in the share of recipes using a common ingredient, tested as two
    # proportions (Bonferroni over the ingredients).
    n_reference = reference["n"]
    pooled = (window_share * n + reference_share * n_reference) / (n + n_reference)
    spread = np.sqrt(np.maximum(pooled * (1 - pooled), 1e-12) * (1 / n + 1 / n_reference))
    z_scores = np.abs(window_share - reference_share) / spread
    shift = float(np.abs(window_share - reference_share).max())
    frequency_p = float(min(1.0, stats.norm.sf(z_scores.max()) * 2 * len(common)))
    frequency = _check("common_ingredient_shift", shift, frequency_p,
                       params.max_ingredient_shift, params.alpha)  # fmt: skip
    frequency["largest_changes"] = [
        {
            "ingredient": common[i],
            "reference": round(reference_share[i], 4),
            "window": round(window_share[i], 4),
        }
        for i in np.argsort(-np.abs(window_share - reference_share))[:5]
    ]

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

    histogram = np.array(confidence_histogram(confidence), dtype=np.float64)
    reference_histogram = np.array(reference["confidence_histogram"], dtype=np.float64)
    confidence_check = _check("confidence", js_distance(histogram, reference_histogram),
                              two_sample_p_value(reference_histogram, histogram),
                              params.max_distribution_distance, params.alpha)  # fmt: skip
    estimated = float(confidence.mean())
    input_checks = [oov, frequency, length]
    return {
        "n_predictions": n,
        "drift": {
            "input": {"detected": any(c["detected"] for c in input_checks), "checks": input_checks},
            "prediction": {"detected": prediction["detected"], "checks": [prediction]},
            "confidence": {"detected": confidence_check["detected"], "checks": [confidence_check]},
        },
        # The model is calibrated: its mean top-1 probability estimates its accuracy (CBPE).
        "estimated_accuracy": estimated,
        "reference_accuracy_estimate": reference["mean_confidence"],
    }


def alerts(report: dict[str, Any], params: MonitorParams) -> list[dict[str, Any]]:
    """Alerts for every drift detected and for accuracy under its floor."""
    fired = [
        {"name": check["name"], "value": check["value"], "threshold": check["threshold"]}
        for group in report["drift"].values()
        for check in group["checks"]
        if check["detected"]
    ]
    drop = report["reference_accuracy_estimate"] - report["estimated_accuracy"]
    if drop > params.max_estimated_accuracy_drop:
        fired.append({"name": "estimated_accuracy_drop", "value": round(drop, 6),
                      "threshold": params.max_estimated_accuracy_drop})  # fmt: skip
    realized = report.get("realized_accuracy")
    if realized is not None and realized < params.min_realized_accuracy:
        # Under the floor, and clearly so: a binomial test of the labelled predictions
        # against the floor (one wrong label out of one is no evidence).
        n = int(report["labels"]["matched"])
        p_value = stats.binomtest(round(realized * n), n, params.min_realized_accuracy,
                                  alternative="less").pvalue  # fmt: skip
        if p_value < params.alpha:
            fired.append({"name": "realized_accuracy", "value": realized, "p_value": p_value,
                          "threshold": params.min_realized_accuracy})  # fmt: skip
    return fired
