"""The four reports as HTML: data, model, experiments, monitoring (pure: data in, page out)."""

from __future__ import annotations

import datetime as dt
import html
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from cuisineflow.models.metrics import TOP_K_ACCURACY
from cuisineflow.monitoring.profile import most_common
from cuisineflow.monitoring.report import window_text
from cuisineflow.reports import plots
from cuisineflow.reports.experiments import workspace_run
from cuisineflow.reports.html import PAGES, Lines, Section, page
from cuisineflow.reports.html import table as html_table


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
    idle = sorted(r for r, n in rules.items() if not n)
    quality = (
        Section("Validation and quarantine")
        .text(
            f"{validation.get('records', 0):,} raw records: {validation.get('valid', 0):,} kept, "
            f"{validation.get('rejected', 0):,} quarantined "
            f"({validation.get('rejected_fraction', 0):.2%})."
        )
        .rows(
            [{"rule": r, "records": n, "outcome": "quarantined"} for r, n in rules.items() if n]
            + [
                {"rule": k, "records": n, "outcome": "kept, normalised"}
                for k, n in validation.get("normalised", {}).items()
            ]
        )
    )
    if idle:
        quality.text(f"No record broke the other rules: {', '.join(idle)}.")
    common = (
        Section("Most common ingredients")
        .text(
            "As written in the raw data, before the normalisation the model applies: "
            "garlic and garlic cloves, or eggs and large eggs, are counted apart here."
        )
        .figure(
            plots.horizontal_bars(
                [x for x, _ in overall],
                [n / len(recipes) for _, n in overall],
                "Share of recipes using each ingredient",
                "share of recipes",
                share=True,
            )
        )
    )
    cut = [x for x, _ in overall if plots.short_label(x) != x]
    if cut:  # the chart's labels end in an ellipsis: the names in full
        common.parts.append(
            f"<p>Cut short in the chart, in full: {html.escape('; '.join(cut))}.</p>"
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
                "recipes",
            )
        ),
        common.rows([{"cuisine": c, "most common": v} for c, v in common_by_cuisine.items()]),
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
        lead=_data_lead(recipes, per_cuisine),
    )


UNEVEN_RATIO = 2  # the largest cuisine has at least this many times the smallest's recipes


def _data_lead(
    recipes: Sequence[tuple[str | None, Sequence[str]]], per_cuisine: list[tuple[str, int]]
) -> str:
    """The page's conclusion: what is labelled, how uneven the cuisines are, recipe sizes."""
    unlabelled = sum(1 for c, _ in recipes if c is None)
    lengths = sorted(len(i) for _, i in recipes)
    text = f"{len(recipes) - unlabelled:,} recipes have a cuisine"
    if unlabelled:
        text += (
            f"; {unlabelled:,} have none (a file without labels, such as Kaggle's test "
            "file): the model never learns from them, and they serve as production traffic"
        )
    text += "."
    if per_cuisine:
        (large, most), (small, fewest) = per_cuisine[0], per_cuisine[-1]
        if most >= UNEVEN_RATIO * max(fewest, 1):
            text += (
                f" The cuisines are uneven: {large} has {most:,} recipes, {small} {fewest:,} "
                f"({most / max(fewest, 1):.0f} to 1), so accuracy leans on the large ones."
            )
        else:
            text += f" The cuisines are about even: {fewest:,} to {most:,} recipes each."
    if lengths:
        text += f" A recipe lists a median of {lengths[len(lengths) // 2]} ingredients."
    return text


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
    """The accuracy on the test split and how far it can be from the model's true one."""
    text = f"accuracy {evaluation['accuracy']:.4f}"
    if "accuracy_ci_low" in evaluation:  # evaluations written before intervals lack it
        text += (
            f" (95% interval {evaluation['accuracy_ci_low']:.3f} to "
            f"{evaluation['accuracy_ci_high']:.3f}, Wilson)"
        )
    return text + f" on {evaluation['n']:,} test recipes it never saw"


def _served_text(fits: dict[str, Any]) -> str:
    """Which model these scores are of, and how the served one relates to it."""
    served = fits.get("served")
    if served is None:
        return "No model is registered yet."
    if fits.get("refit_rows") is None:
        return f"The served model, {served}, is this fit."
    return (
        f"The served model, {served}, was then refit on all {fits['refit_rows']:,} labelled "
        "recipes, the test ones included, so it has no held-out score of its own: accuracy "
        "grows with recipes (`make bench-curve`), so read this one as its estimate from below."
    )


def _model_lead(evaluation: dict[str, Any], classes: Sequence[str], fits: dict[str, Any]) -> str:
    """The page's conclusion: the score, what it is of, and where the model goes wrong."""
    per = evaluation["per_cuisine"]
    learnt = fits.get("evaluated_rows")
    fit = f"The evaluated fit{f' learnt from {learnt:,} recipes and' if learnt else ''} scored"
    tested = [c for c in classes if per[c]["support"]]  # a cuisine with no test recipe: no recall
    weakest = sorted(tested, key=lambda c: per[c]["recall"])[:3]
    recalls = ", ".join(f"{c} {per[c]['recall']:.2f}" for c in weakest)
    pairs = confused_pairs(evaluation["confusion"], classes, top=1)
    mistake = ""
    if pairs:
        actual, predicted, count = pairs[0]
        mistake = f"; the most common mistake is {actual} taken for {predicted} ({count:,} recipes)"
    trails = evaluation["macro_f1"] < evaluation["accuracy"] - 0.005
    return (
        f"{fit} {_held_out_text(evaluation)}. {_served_text(fits)} Macro-F1 "
        f"{evaluation['macro_f1']:.3f}"
        + (" trails accuracy: the cuisines recalled least" if trails else "; recalled least")
        + f" are {recalls}{mistake}."
    )


def _calibration_text(evaluation: dict[str, Any]) -> str:
    """Calibration error, where most recipes lie, and the largest miss of a well-filled bin."""
    bins = [b for b in evaluation["calibration"] if b["count"]]
    total = sum(b["count"] for b in bins)
    text = (
        "How often the top prediction is right, against how sure the model is: points on the "
        "diagonal are perfectly calibrated. Expected calibration error "
        f"{evaluation['expected_calibration_error']:.3f} over {len(evaluation['calibration'])} "
        "bins of confidence."
    )
    if not bins:
        return text
    fullest = max(bins, key=lambda b: b["count"])
    text += (
        f" The fullest bin holds {fullest['count'] / total:.0%} of the recipes: confidence "
        f"{fullest['confidence']:.2f}, accuracy {fullest['accuracy']:.2f}."
    )
    filled = [b for b in bins if b["count"] >= 0.02 * total]  # none when bins are many
    worst = max(filled, key=lambda b: abs(b["accuracy"] - b["confidence"]), default=None)
    if worst is not None and abs(worst["accuracy"] - worst["confidence"]) >= 0.05:
        side = "over" if worst["accuracy"] < worst["confidence"] else "under"
        text += (
            f" The largest miss among bins of at least 2% of the recipes: {side}-confident at "
            f"confidence {worst['confidence']:.2f} (accuracy {worst['accuracy']:.2f}, "
            f"{worst['count']:,} recipes)."
        )
    return text


METRIC_NAMES = {
    "accuracy": "accuracy",
    "macro_f1": "macro-F1 (mean of the cuisines' F1)",
    "expected_calibration_error": "expected calibration error",
}


def model_page(
    evaluation: dict[str, Any],
    classes: Sequence[str],
    examples: dict[tuple[str, str], list[Sequence[str]]],
    lineage: dict[str, Any],
    fits: dict[str, Any] | None = None,
) -> str:
    """Summary metrics, per-cuisine table, confusion, calibration, confused pairs, lineage.

    fits: {"evaluated_rows", "served" (NAME@VERSION or None), "refit_rows" (None: the
    served model is the evaluated fit)}.
    """
    fits = fits or {}
    per = evaluation["per_cuisine"]
    top_k = sorted(k for k in evaluation if TOP_K_ACCURACY.match(k))
    summary = [
        {
            "metric": METRIC_NAMES.get(k) or k.replace("_", "-", 1).replace("_", " "),
            "value": evaluation[k],
        }
        for k in ("accuracy", "macro_f1", *top_k, "expected_calibration_error")
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
                "examples (ingredients; one recipe a line)": Lines(
                    "; ".join(r) for r in examples.get((a, p), [])[:2]
                ),
            }
            for a, p, n in pairs
        ]
    )
    sections = [
        Section("Summary").rows(summary),
        Section("Per cuisine")
        .figure(
            plots.grouped_bars(
                classes,
                {k: [per[c][k] for c in classes] for k in ("precision", "recall", "f1")},
                "Precision, recall and F1 per cuisine",
                "score on the test split",
            )
        )
        .text(
            "Scores of cuisines with few test recipes (support) are rough: at 50 recipes, "
            "a recall of 0.6 is uncertain by about ±0.14 (95%)."
        )
        .rows(rows, digits=2),
        Section("Confusion matrix").figure(
            plots.confusion_matrix(evaluation["confusion"], classes)
        ),
        Section("Calibration")
        .text(_calibration_text(evaluation))
        .figure(plots.calibration_curve(evaluation["calibration"])),
        confused,
        Section("Lineage").rows([{"field": k, "value": v} for k, v in lineage.items()]),
    ]
    served = fits.get("served")
    return page(
        "cuisineflow: the model",
        "Scores of the evaluated fit on the held-out test split"
        + (f"; lineage of the served model, {served}" if served else ""),
        sections,
        lead=_model_lead(evaluation, classes, fits),
    )


EXPERIMENT_METRICS = {  # a row's key: its column's heading (top-k: named by its k)
    "accuracy": "accuracy",
    "macro_f1": "macro-F1",
    "top_k_accuracy": "top-k accuracy",
    "expected_calibration_error": "expected calibration error",
}
NOT_PARAMS = ("experiment", "baseline", "state", *EXPERIMENT_METRICS,
              "accuracy_ci_low", "accuracy_ci_high")  # fmt: skip


def experiments_page(rows: list[dict[str, Any]], top_k: Sequence[int] = ()) -> str:
    """The DVC experiments: the params that tell them apart, their test metrics, every
    key param (folded); their accuracies, best first, each with its 95% interval.

    top_k: the k of each run's top-k accuracy (`experiments.top_ks`), for its heading.
    """
    held = workspace_run(rows)  # then the workspace is that row's run, not one of its own
    runs = [r for r in rows if not (held and r["experiment"] == "workspace")]
    scored = [r for r in runs if r.get("accuracy") is not None]
    params = list(dict.fromkeys(k for r in rows for k in r if k not in NOT_PARAMS))
    # First the params whose values differ: in a wide table the others push them off-screen.
    differ = [k for k in params if len({_param_text(r.get(k)) for r in rows}) > 1]
    headings = {**EXPERIMENT_METRICS}
    if len(set(top_k)) == 1:
        headings["top_k_accuracy"] = f"top-{top_k[0]} accuracy"
    table = []
    for row in rows:
        low, high = row.get("accuracy_ci_low"), row.get("accuracy_ci_high")
        name = row["experiment"]
        shown: dict[str, Any] = {
            "experiment": f"{name} (= {held})" if held and name == "workspace" else name
        }
        shown.update({k: _param_text(row.get(k)) for k in differ})
        unfinished = row.get("state", "success") != "success"  # failed, queued, running
        for key, heading in headings.items():
            missing = row["state"] if unfinished else "not recorded"
            shown[heading] = missing if row.get(key) is None else row[key]
            if key == "accuracy":
                shown["95% interval"] = "" if low is None else f"{low:.3f}\u2013{high:.3f}"
        shown.update({k: _param_text(row[k]) for k in ("baseline", "state") if k in row})
        table.append(shown)
    every = [{"experiment": r["experiment"], **{k: _param_text(r.get(k)) for k in params}}
             for r in rows]  # fmt: skip
    if differ:
        note = f"Params that differ between the runs come first: {', '.join(differ)}."
    else:
        note = "Every run has the same params."
    sections = [Section("Experiments").text(note).rows(table)]
    if params:
        sections[0].parts.append(
            "<details><summary>Each run's key params (as <code>cuisineflow experiments</code>"
            ")</summary>" + html_table(every) + "</details>"
        )
    if not scored:
        lead = "No run has test metrics yet: run `cuisineflow run`, then commit its outputs."
    else:
        best = max(scored, key=lambda r: r["accuracy"])
        lead = f"Best test accuracy {best['accuracy']:.4f}: {best['experiment']}."
        if best.get("accuracy_ci_low") is not None and len(scored) > 1:
            close = [
                r for r in scored if r is not best and r["accuracy"] >= best["accuracy_ci_low"]
            ]
            lead += " " + _inside_text(best, len(close), len(scored) - 1)
    if len(scored) > 1:
        ranked = sorted(scored, key=lambda r: -r["accuracy"])  # the best on top; ties as given
        sections.append(
            Section("Comparison").figure(
                plots.intervals(
                    [f"{r['experiment']} (best)" if r is best else r["experiment"] for r in ranked],
                    [r["accuracy"] for r in ranked],
                    [r.get("accuracy_ci_low") for r in ranked],
                    [r.get("accuracy_ci_high") for r in ranked],
                    "Test accuracy per experiment, best first, with its 95% interval",
                    "accuracy on the test split",
                )
            )
        )
    finished = [r for r in runs if r.get("state", "success") == "success"]
    if len(scored) < len(finished):
        sections[0].text(
            "A run's metrics are not recorded when its commit holds no metrics/evaluate.json: "
            "commit what `make run` wrote (README, Experiments)."
        )
    return page(
        "cuisineflow: experiments",
        f"{len(runs)} runs (`dvc exp show`): the params that tell them apart, test metrics",
        sections,
        lead=lead,
    )


def _param_text(value: Any) -> str:
    """A param as given (1e-05, not 0.0000), blank when a run lacks it."""
    return "" if value is None else str(value)


def _inside_text(best: dict[str, Any], inside: int, others: int) -> str:
    """How many other runs lie inside the best run's interval: a count, no verdict. Runs
    scored on the same test recipes are paired, so one run's own interval overstates the
    error of their difference, and says nothing of whether they differ."""
    interval = f"its 95% interval ({best['accuracy_ci_low']:.3f} to {best['accuracy_ci_high']:.3f})"
    if others == 1:
        text = f"The other run lies {'inside' if inside else 'outside'} {interval}"
    else:
        verb = "lies" if inside == 1 else "lie"
        text = f"{inside} of the other {others} runs {verb} inside {interval}"
    if not inside:
        return text + "."
    return text + (
        ": to tell them apart, compare them on more recipes (`cuisineflow score` on recipes "
        "kept back)."
    )


# Per check: its name on a page, what it measures, and what an alert asks the reader to do.
CHECKS: dict[str, tuple[str, str, str]] = {
    "out_of_vocabulary_rate_increase": (
        "unknown ingredients",
        "rise in the share of ingredients the model never saw",
        "Recipes use ingredients the model never learnt (new products, another language, a "
        "changed client). Its predictions for them rest on fewer known ingredients.",
    ),
    "common_ingredient_shift": (
        "common ingredients",
        "change in the share of recipes using one of the 300 most common ingredients",
        "The recipes arriving are another mix than the model was tested on; the ingredients "
        "that moved most are listed below.",
    ),
    "ingredients_per_recipe": (
        "ingredients per recipe",
        "Jensen-Shannon distance of the histograms",
        "Recipes are longer or shorter than before: a client may be cutting or merging lists.",
    ),
    "cuisine_mix": (
        "cuisine mix",
        "Jensen-Shannon distance of the predicted cuisines",
        "The model predicts another mix of cuisines. With input drift too, the traffic "
        "changed; without, look at the model served.",
    ),
    "confidence": (
        "confidence",
        "Jensen-Shannon distance of the top-1 probabilities",
        "The model is more or less sure than on its test recipes.",
    ),
    "estimated_accuracy_drop": (
        "estimated accuracy",
        "fall in mean top-1 probability (calibrated: an estimate of accuracy)",
        "Expect lower accuracy than measured at evaluation; label a sample to measure it.",
    ),
    "realized_accuracy": (
        "realized accuracy",
        "accuracy on the predictions whose true cuisine arrived (alert: under the floor)",
        "Measured accuracy is under the floor: retrain on recent recipes, or promote an "
        "earlier version (`cuisineflow models promote`).",
    ),
}


def _checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        c for group in (*report["drift"].values(), report["performance"]) for c in group["checks"]
    ]


RATIO_CAP = 10.0  # past this a bar or point is off the scale of the others


def _ratio(check: dict[str, Any]) -> float:
    """A check's statistic over its threshold, within 0 to RATIO_CAP: past 1 is large enough
    to alert. Realized accuracy alerts under its floor, so its ratio is floor / accuracy."""
    value, threshold = check["value"], check["threshold"]
    if check["name"] == "realized_accuracy":
        value, threshold = threshold, value
    if threshold <= 0:
        return RATIO_CAP if value > 0 else 0.0
    # A change the good way (fewer unknown ingredients, accuracy up) is no drift: drawn at 0.
    return float(min(max(value / threshold, 0.0), RATIO_CAP))


def _check_label(check: dict[str, Any]) -> str:
    """A check's name on a page; the common-ingredient check's names its ingredient."""
    label = CHECKS[check["name"]][0]
    return f"{label} ({check['ingredient']})" if check.get("ingredient") else label


def _verdict(report: dict[str, Any]) -> Section:
    """What the reader should conclude: nothing to do, or what each alert asks for."""
    section = Section("Verdict")
    if not report["alerts"]:
        return section.text(
            f"No alert over {report['n_predictions']:,} predictions: every check is under its "
            "threshold, or its change is within what chance explains (alpha "
            f"{report.get('alpha', 0.001)}). Nothing to act on."
        )
    for alert in report["alerts"]:
        advice = CHECKS[alert["name"]][2]
        section.parts.append(
            f"<p><span class='alert'>ALERT {html.escape(_check_label(alert))}</span>: "
            f"{alert['value']:.4f} "
            f"(threshold {alert['threshold']}, p = {alert['p_value']:.2g}). "
            f"{html.escape(advice)}</p>"
        )
    return section


def monitor_page(report: dict[str, Any], links: Sequence[str] = PAGES) -> str:
    """`monitor`'s page (monitor.html): one window of logged predictions against the
    reference: verdict, accuracy, every check. The pipeline's page is monitoring_page.

    links: the pipeline's pages beside this one, linked to."""
    checks = _checks(report)
    labels = report["labels"]
    realized = report["realized_accuracy"]
    accuracy = [
        {"measure": "estimated accuracy (mean top-1 probability)",
         "value": report["estimated_accuracy"]},
        {"measure": "reference estimate (the test split)",
         "value": report["reference_accuracy_estimate"]},
        {"measure": f"realized accuracy ({labels['matched']:,} labelled predictions)",
         "value": "no labels matched" if realized is None else realized},
        {"measure": "realized macro-F1 (cuisines labelled or predicted)",
         "value": "no labels matched" if realized is None else report["realized_macro_f1"]},
    ]  # fmt: skip
    rows = [
        {
            "check": _check_label(c),
            "measures": CHECKS[c["name"]][1],
            "value": c["value"],
            "threshold": c["threshold"],
            "p-value": f"{c['p_value']:.2g}",
            "verdict": "ALERT" if c["detected"] else "ok",
        }
        for c in checks
    ]
    ratios = [_ratio(c) for c in checks]
    sections = [
        _verdict(report),
        Section("Accuracy").rows(accuracy),
        Section("Checks")
        .text(
            "An alert needs a change both large (over the threshold) and significant "
            "(p-value under alpha): small windows are noisy, huge ones find trivia."
        )
        .figure(
            plots.threshold_bars(
                [CHECKS[c["name"]][0] for c in checks],
                ratios,
                [c["detected"] for c in checks],
                "Each check against its threshold",
            )
        )
        .rows(rows),
    ]
    common = next(c for c in checks if c["name"] == "common_ingredient_shift")
    sections.append(
        Section("Common ingredients that moved most")
        .text(
            "Share of recipes using each, in the reference (test split) and in the window"
            + (
                f"; the check's value is the change of {common['ingredient']}."
                if common.get("ingredient")
                else "."
            )
        )
        .rows(common["largest_changes"])
    )
    mix = next(c for c in checks if c["name"] == "cuisine_mix")
    if "reference" in mix:
        cuisines = sorted(mix["window"])
        sections.append(
            Section("Cuisine mix").figure(
                plots.grouped_bars(
                    cuisines,
                    {
                        "reference": [mix["reference"][c] for c in cuisines],
                        "window": [mix["window"][c] for c in cuisines],
                    },
                    "Share of predictions per cuisine",
                    "share of predictions",
                    top=None,
                )
            )
        )
    repeated = labels.get("repeated_predictions", 0)
    notes = [f"{labels['given']:,} labels given, {labels['matched']:,} matched to a prediction"]
    if labels["unknown_ids"]:
        notes.append(f"{labels['unknown_ids']:,} label ids not in the window")
    if repeated:
        notes.append(f"{repeated:,} earlier predictions of labelled ids left out (latest counts)")
    sections.append(Section("Labels").text("; ".join(notes) + "."))
    return page(
        "cuisineflow: monitoring report",
        f"{window_text(report['window'])}: {report['n_predictions']:,} predictions",
        sections,
        links=links,
    )


def monitoring_page(
    days: list[dict[str, Any]],
    why_empty: str = "no prediction logs yet",
    model: str = "",
    *,
    min_window: int | None = None,
    floor: float | None = None,
    earlier: int = 0,
) -> str:
    """The pipeline's page (monitoring.html), per day of logged predictions: the verdict,
    estimated and realized accuracy, drift.

    days: {"date", "n_predictions", "report"}, the report None when the day is under
    monitor.min_window; model: the NAME@VERSION monitored; floor: the realized-accuracy
    floor (monitor.min_realized_accuracy), drawn with or without labels; earlier: the
    predictions logged before the first of `days`, which the page leaves out.
    """
    about = f"{model}: " if model else ""
    judged = [d for d in days if d["report"] is not None]
    logged = sum(d["n_predictions"] for d in days)
    too_few = "too few for a verdict" + (f" (under {min_window:,})" if min_window else "")
    rows = [
        {
            "date": d["date"],
            "predictions": d["n_predictions"],
            "verdict": too_few
            if d["report"] is None
            else "ALERT: " + ", ".join(_check_label(a) for a in d["report"]["alerts"])
            if d["report"]["alerts"]
            else "ok",
            "estimated accuracy": None
            if d["report"] is None
            else d["report"]["estimated_accuracy"],
            "realized accuracy": None if d["report"] is None else d["report"]["realized_accuracy"],
            "labels": None if d["report"] is None else d["report"]["labels"]["matched"],
        }
        for d in reversed(days)  # the latest first: what a reader looks for
    ]
    older = (
        f" {earlier:,} predictions logged before {days[0]['date']} are left out: "
        "`cuisineflow monitor --since … --until …` reports any window."
        if earlier and days
        else ""
    )
    if not judged:
        window = (
            f"`monitor.min_window` in params.yaml, {min_window:,}"
            if min_window
            else ("`monitor.min_window` in params.yaml")
        )
        why = (
            f"{logged:,} predictions logged over {len(days)} day(s); no day has enough for a "
            f"verdict ({window})." + older
            if days
            else why_empty
        )
        sections = [Section("Days").rows(rows)] if days else []
        return page("cuisineflow: monitoring", f"{about}no verdict", sections, lead=why)
    alerted = [d for d in judged if d["report"]["alerts"]]
    if alerted:
        names = sorted({CHECKS[a["name"]][0] for d in alerted for a in d["report"]["alerts"]})
        latest = alerted[-1]["date"]
        after = (dt.date.fromisoformat(latest) + dt.timedelta(days=1)).isoformat()
        model = alerted[-1]["report"]["window"].get("model")
        chosen = f" --model {model}" if model else ""
        conclusion = (
            f"{len(alerted)} of {len(judged)} days raised alerts ({', '.join(names)}); the "
            f"latest on {latest}. Run `cuisineflow monitor{chosen} --since {latest} --until "
            f"{after}` for that day's report and what each alert asks for."
        )
    else:
        conclusion = f"No alert on any of the {len(judged)} days judged. Nothing to act on."
    dates = [dt.date.fromisoformat(d["date"]) for d in judged]
    unjudged = [dt.date.fromisoformat(d["date"]) for d in days if d["report"] is None]
    reports = [d["report"] for d in judged]
    drift: dict[str, Sequence[float | None]] = {
        CHECKS[name][0]: [
            next(_ratio(c) for c in _checks(r) if c["name"] == name)
            for r in reports
        ]
        for name in ("out_of_vocabulary_rate_increase", "common_ingredient_shift",
                     "ingredients_per_recipe", "cuisine_mix", "confidence",
                     "estimated_accuracy_drop")
    }  # fmt: skip
    if floor is None:  # a page built without params: the floor the labelled days were held to
        floor = next(
            (c["threshold"] for r in reports for c in _checks(r)
             if c["name"] == "realized_accuracy"),
            None,
        )  # fmt: skip
    sections = [
        Section("Accuracy over time").figure(
            plots.daily_lines(
                dates,
                {
                    "estimated (calibrated confidence)": [r["estimated_accuracy"] for r in reports],
                    "realized (labels)": [r["realized_accuracy"] for r in reports],
                    "reference estimate": [r["reference_accuracy_estimate"] for r in reports],
                },
                "Accuracy per day",
                "accuracy",
                threshold=None if floor is None else (floor, "realized accuracy floor"),
                unjudged=unjudged,
            )
        ),
        Section("Drift over time")
        .text(
            "Each statistic over its alert threshold, so that one axis fits them all: above 1 "
            "is large enough to alert, and an alert also needs significance (see the days). "
            f"Values past {RATIO_CAP:g} are drawn at {RATIO_CAP:g}; a change the good way "
            "(fewer unknown ingredients, higher accuracy) at 0."
        )
        .figure(
            plots.daily_lines(
                dates,
                drift,
                "Drift statistics per day",
                "statistic / threshold",
                threshold=(1.0, "alert threshold"),
                unjudged=unjudged,
            )
        ),
        Section("Days").rows(rows),
    ]
    return page("cuisineflow: monitoring", f"{about}{logged:,} logged predictions", sections,
                lead=conclusion + older)  # fmt: skip
