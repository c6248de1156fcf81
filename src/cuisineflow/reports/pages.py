"""The four reports as HTML: data, model, experiments, monitoring (pure: data in, page out)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from cuisineflow.models.metrics import TOP_K_ACCURACY
from cuisineflow.monitoring.profile import most_common
from cuisineflow.reports import plots
from cuisineflow.reports.html import Section, page


def distinctive_ingredients(
    recipes: Sequence[tuple[str, Sequence[str]]], top: int = 6
) -> dict[str, list[str]]:
    """Per cuisine, the ingredients with the highest smoothed log-odds against all others."""
    by_cuisine: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for cuisine, ingredients in recipes:
        unique = set(ingredients)
        by_cuisine.setdefault(cuisine, Counter()).update(unique)
        totals.update(unique)
        sizes[cuisine] += 1
    n = sum(sizes.values())
    result = {}
    for cuisine, counts in sorted(by_cuisine.items()):
        inside, outside = sizes[cuisine], n - sizes[cuisine]

        def log_odds(
            ingredient: str,
            inside: int = inside,
            outside: int = outside,
            counts: Counter[str] = counts,
        ) -> float:
            a, b = counts[ingredient], totals[ingredient] - counts[ingredient]
            return math.log((a + 1) / (inside - a + 1)) - math.log((b + 1) / (outside - b + 1))

        frequent = [i for i, c in counts.items() if c >= 5]
        result[cuisine] = sorted(frequent, key=lambda i: (-log_odds(i), i))[:top]  # ties: a-z
    return result


def data_page(
    recipes: Sequence[tuple[str | None, Sequence[str]]], validation: dict[str, Any]
) -> str:
    """Recipes per cuisine, ingredients per recipe, common and distinctive ingredients, quality."""
    labelled = [(c, i) for c, i in recipes if c is not None]
    per_cuisine = most_common(Counter(c for c, _ in labelled))
    lengths = Counter(min(len(i), 30) for _, i in recipes)
    overall = most_common(Counter(x for _, i in recipes for x in set(i)), 25)
    common_by_cuisine = {
        c: [
            x
            for x, _ in most_common(Counter(x for cc, i in labelled if cc == c for x in set(i)), 6)
        ]
        for c, _ in sorted(per_cuisine)
    }
    distinctive = distinctive_ingredients(labelled)
    rules = validation.get("rejected_by_rule", {})
    quality = (
        Section("Validation and quarantine")
        .text(
            f"{validation.get('records', 0):,} raw records: {validation.get('valid', 0):,} kept, "
            f"{validation.get('rejected', 0):,} quarantined "
            f"({validation.get('rejected_fraction', 0):.2%})."
        )
        .rows(
            [{"rule": r, "quarantined": n} for r, n in rules.items()]
            + [
                {"rule": f"normalised: {k}", "quarantined": n}
                for k, n in validation.get("normalised", {}).items()
            ]
        )
    )
    sections = [
        Section("Recipes per cuisine").figure(
            plots.horizontal_bars(
                [c for c, _ in per_cuisine],
                [n for _, n in per_cuisine],
                "Labelled recipes per cuisine",
                "recipes",
            )
        ),
        Section("Ingredients per recipe").figure(
            plots.histogram(
                [lengths[k] for k in range(1, 31)],
                [str(k) if k < 30 else "30+" for k in range(1, 31)],
                "Recipes by number of ingredients",
                "ingredients",
            )
        ),
        Section("Most common ingredients")
        .figure(
            plots.horizontal_bars(
                [x for x, _ in overall],
                [n / len(recipes) for _, n in overall],
                "Share of recipes using each ingredient",
                "share of recipes",
            )
        )
        .rows([{"cuisine": c, "most common": v} for c, v in common_by_cuisine.items()]),
        Section("Most distinctive ingredients per cuisine")
        .text(
            "Ranked by smoothed log-odds of appearing in the cuisine rather than in the others "
            "(ingredients in at least 5 of its recipes)."
        )
        .rows([{"cuisine": c, "distinctive": v} for c, v in distinctive.items()]),
        quality,
    ]
    return page(
        "cuisineflow: the data",
        f"{len(recipes):,} validated recipes, {len(labelled):,} with a cuisine",
        sections,
    )


def confused_pairs(
    confusion: Sequence[Sequence[int]], classes: Sequence[str], top: int = 6
) -> list[tuple[str, str, int]]:
    """The (actual, predicted) pairs mistaken most often."""
    pairs = [
        (classes[i], classes[j], n)
        for i, row in enumerate(confusion)
        for j, n in enumerate(row)
        if i != j and n
    ]
    return sorted(pairs, key=lambda p: -p[2])[:top]


def _held_out_text(evaluation: dict[str, Any]) -> str:
    """How many test recipes, and how far their accuracy can be from the model's true one."""
    text = f"Held-out test recipes: {evaluation['n']:,}."
    if "accuracy_ci_low" in evaluation:  # evaluations written before intervals lack it
        text += (
            f" Accuracy {evaluation['accuracy']:.4f}, 95% interval "
            f"{evaluation['accuracy_ci_low']:.3f} to {evaluation['accuracy_ci_high']:.3f} "
            "(Wilson) for the model's accuracy on new recipes like these."
        )
    return text


def model_page(
    evaluation: dict[str, Any],
    classes: Sequence[str],
    examples: dict[tuple[str, str], list[Sequence[str]]],
    lineage: dict[str, Any],
) -> str:
    """Summary metrics, per-cuisine table, confusion, calibration, confused pairs, lineage."""
    per = evaluation["per_cuisine"]
    summary = [
        {"metric": k, "value": evaluation[k]}
        for k in (
            "accuracy",
            "macro_f1",
            *sorted(k for k in evaluation if TOP_K_ACCURACY.match(k)),
            "expected_calibration_error",
        )
        if k in evaluation
    ]
    rows = [
        {
            "cuisine": c,
            **{k: per[c][k] for k in ("precision", "recall", "f1")},
            "support": int(per[c]["support"]),
        }
        for c in classes
    ]
    pairs = confused_pairs(evaluation["confusion"], classes)
    confused = Section("Most confused cuisines").rows(
        [
            {
                "actual": a,
                "predicted": p,
                "recipes": n,
                "examples": " / ".join(", ".join(r) for r in examples.get((a, p), [])[:2]),
            }
            for a, p, n in pairs
        ]
    )
    sections = [
        Section("Summary").text(_held_out_text(evaluation)).rows(summary),
        Section("Per cuisine")
        .figure(
            plots.grouped_bars(
                classes,
                {k: [per[c][k] for c in classes] for k in ("precision", "recall", "f1")},
                "Precision, recall and F1 per cuisine",
            )
        )
        .rows(rows),
        Section("Confusion matrix").figure(
            plots.confusion_matrix(evaluation["confusion"], classes)
        ),
        Section("Calibration")
        .text(
            "How often the top prediction is right, against how sure the model is: "
            "points on the diagonal are perfectly calibrated."
        )
        .figure(plots.calibration_curve(evaluation["calibration"])),
        confused,
        Section("Lineage").rows([{"field": k, "value": v} for k, v in lineage.items()]),
    ]
    return page(
        "cuisineflow: the model",
        f"accuracy {evaluation['accuracy']:.4f} on recipes it never saw",
        sections,
    )


def experiments_page(rows: list[dict[str, Any]]) -> str:
    """The DVC experiments' params and metrics, and their test accuracy compared."""
    named = [r for r in rows if r.get("accuracy") is not None]
    sections = [Section("Experiments").rows(rows)]
    if named:
        sections.append(
            Section("Comparison").figure(
                plots.horizontal_bars(
                    [r["experiment"].strip() for r in named],
                    [r["accuracy"] for r in named],
                    "Test accuracy per experiment",
                    "accuracy",
                )
            )
        )
    return page("cuisineflow: experiments", f"{len(rows)} runs (dvc exp show)", sections)


def monitoring_page(days: list[dict[str, Any]], why_empty: str = "no prediction logs yet") -> str:
    """Drift and estimated and realized accuracy, one point per day of logged predictions."""
    if not days:
        return page(
            "cuisineflow: monitoring",
            why_empty,
            [Section("Monitoring").text("Serve the model or run `cuisineflow predict --log`.")],
        )
    dates = [d["date"] for d in days]
    sections = [
        Section("Accuracy over time").figure(
            plots.lines(
                dates,
                {
                    "estimated (calibrated confidence)": [d["estimated_accuracy"] for d in days],
                    "realized (labels)": [d["realized_accuracy"] for d in days],
                    "reference estimate": [d["reference_accuracy_estimate"] for d in days],
                },
                "Accuracy per day",
                "accuracy",
            )
        ),
        Section("Drift over time").figure(
            plots.lines(
                dates,
                {
                    "cuisine mix (JS distance)": [d["cuisine_mix"] for d in days],
                    "confidence (JS distance)": [d["confidence"] for d in days],
                    "unknown ingredients (rise)": [
                        d["out_of_vocabulary_rate_increase"] for d in days
                    ],
                },
                "Drift statistics per day",
                "value",
            )
        ),
        Section("Days").rows([dict(d.items()) for d in days]),
    ]
    return page(
        "cuisineflow: monitoring",
        f"{sum(d['n_predictions'] for d in days):,} logged predictions",
        sections,
    )
