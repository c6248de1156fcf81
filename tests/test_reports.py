"""Report pieces: distinctive ingredients by hand, confused pairs, self-contained pages."""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from cuisineflow.models.metrics import accuracy_interval, evaluate
from cuisineflow.reports import pages, plots
from cuisineflow.reports.experiments import experiment_rows, top_ks
from cuisineflow.reports.html import Lines, Section, page, svg, table
from cuisineflow.reports.plots import histogram, horizontal_bars
from cuisineflow.reports.text import format_table


def test_distinctive_ingredients_rank_by_log_odds() -> None:
    recipes = [("thai", ["fish sauce", "lime", "salt"])] * 6 + [("italian", ["basil", "salt"])] * 6
    distinctive = pages.distinctive_ingredients(recipes, top=2)
    assert distinctive["thai"] == ["fish sauce", "lime"]  # salt is everywhere: not distinctive
    assert distinctive["italian"][0] == "basil"


def test_confused_pairs() -> None:
    confusion = [[5, 3, 0], [1, 7, 0], [0, 4, 2]]
    assert pages.confused_pairs(confusion, ["a", "b", "c"], top=2) == [("c", "b", 4), ("a", "b", 3)]


def test_pages_are_self_contained_and_reproducible() -> None:
    def build() -> str:
        section = (
            Section("Bars")
            .text("<not markup>")
            .figure(horizontal_bars(["x", "y"], [1, 2], "t", "n"))
        )
        return page("Title & co", "sub", [section.rows([{"a": 1.5, "b": ["p", "q"]}])])

    first = build()
    assert first == build()  # no random ids or dates in the SVG
    assert "&lt;not markup&gt;" in first
    assert "<svg" in first
    assert "Title &amp; co" in first
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", first)
    assert "<script" not in first


def test_svg_is_inline_markup() -> None:
    assert svg(horizontal_bars(["x"], [1.0], "t", "n")).startswith("<svg")


def test_model_page_states_the_accuracy_interval() -> None:
    truth = np.array([0] * 6 + [1] * 4)
    probabilities = np.eye(2)[np.array([0] * 5 + [1] * 5)] * 0.8 + 0.1  # 9 of 10 right
    evaluation = evaluate(probabilities, truth, ("thai", "greek"), n_bins=5, k=1)
    html = pages.model_page(evaluation, ("thai", "greek"), {}, {"model": "m"})
    low, high = accuracy_interval(9, 10)
    assert f"accuracy 0.9000 (95% interval {low:.3f} to {high:.3f}, Wilson)" in html
    assert "0.596 to 0.982" in html  # Wilson's interval of 9 in 10, worked out by hand


def _lead(html: str) -> str:
    found = re.search(r"<p class='lead'>(.*?)</p>", html)
    assert found, "the page states its conclusion"
    return found.group(1)


def test_model_page_says_what_the_scores_are_of_and_where_the_model_fails() -> None:
    classes = ("thai", "greek", "irish")
    truth = np.array([0] * 10 + [1] * 10 + [2] * 10)
    guess = np.array([0] * 10 + [1] * 9 + [0] + [2] * 4 + [1] * 5 + [0])  # irish: recall 0.4
    probabilities = np.eye(3)[guess] * 0.7 + 0.1
    evaluation = evaluate(probabilities, truth, classes, n_bins=5, k=1)
    refit = {"evaluated_rows": 1200, "served": "cuisine@7", "refit_rows": 1500}
    lead = _lead(pages.model_page(evaluation, classes, {}, {}, refit))
    assert lead.startswith("The evaluated fit learnt from 1,200 recipes and scored accuracy 0.7667")
    assert "The served model, cuisine@7, was then refit on all 1,500 labelled recipes" in lead
    assert "trails accuracy: the cuisines recalled least are irish 0.40, greek 0.90, thai 1.00" in (
        lead
    )
    assert "the most common mistake is irish taken for greek (5 recipes)" in lead
    perfect = evaluate(np.eye(3)[truth] * 0.7 + 0.1, truth, classes, n_bins=5, k=1)
    assert "trails" not in _lead(pages.model_page(perfect, classes, {}, {}, refit))
    # A cuisine the test recipes lack has recall 0 by convention: it is not the weakest.
    four = (*classes, "brazilian")
    padded = np.hstack([probabilities, np.zeros((30, 1))])
    sparse = evaluate(padded, truth, four, n_bins=5, k=1)
    assert "recalled least are irish 0.40, greek 0.90, thai 1.00" in _lead(
        pages.model_page(sparse, four, {}, {}, refit)
    )
    same = {"evaluated_rows": 1200, "served": "cuisine@7", "refit_rows": None}
    assert "The served model, cuisine@7, is this fit." in _lead(
        pages.model_page(evaluation, classes, {}, {}, same)
    )


def test_the_lineage_is_of_the_model_this_workspace_registered(
    tiny_model: Path, tmp_path: Path
) -> None:
    from cuisineflow.errors import CuisineflowError
    from cuisineflow.registry import Registry
    from cuisineflow.stages.report import _lineage
    from cuisineflow.storage import Store

    store = Store.open(str(tmp_path / "store"))
    refit = {"recipes": "all_labelled", "fit_rows": 35373}
    Registry(store).register(
        "cuisine",
        tiny_model,
        {"lineage": {"git": {"commit": "abc", "dirty": True}}, "refit": refit},
    )
    stored = Registry(store).metadata("cuisine", 1)["content_sha256"]
    record = tmp_path / "models" / "registered.json"
    record.parent.mkdir()
    record.write_text(json.dumps({"name": "cuisine", "version": 1, "content_sha256": stored}))
    lineage = _lineage(tmp_path, store)
    assert lineage["git commit"] == "abc"
    assert lineage["served model learnt from"].startswith("all 35,373 labelled recipes (refit)")
    shown = table([{"field": k, "value": v} for k, v in lineage.items()])
    assert "<td>git tree dirty</td><td>yes</td>" in shown  # not True
    assert "<td>model version</td><td>cuisine@1</td>" in shown
    # Another store, where cuisine@1 is another model: its lineage is not shown as ours.
    record.write_text(json.dumps({"name": "cuisine", "version": 1, "content_sha256": "f00d"}))
    with pytest.raises(CuisineflowError, match=r"cuisine@1 in local store .* is not the model"):
        _lineage(tmp_path, store)


def test_table_counts_have_thousands_separators_and_booleans_read_yes_or_no() -> None:
    shown = table([{"rule": "empty", "records": 4458, "ok": False, "rate": 0.5, "id": "12345"}])
    assert "<td>4,458</td><td>no</td><td>0.5000</td><td>12345</td>" in shown  # text as given
    validation = {"records": 45739, "valid": 41281, "rejected": 4458,
                  "rejected_by_rule": {"empty_ingredients": 4458}}  # fmt: skip
    html = pages.data_page([("thai", ["a"])], validation)
    assert "<td>empty_ingredients</td><td>4,458</td>" in html  # as the text's 45,739


def test_calibration_text_with_bins_too_thin_to_judge() -> None:
    # 100 bins of 1% each: none holds 2% of the recipes, so no bin is singled out.
    bins = [{"confidence": (i + 0.5) / 100, "accuracy": (i + 0.5) / 100, "count": 10}
            for i in range(100)]  # fmt: skip
    text = pages._calibration_text({"calibration": bins, "expected_calibration_error": 0.01})
    assert "over 100 bins of confidence" in text
    assert "largest miss" not in text


def test_cells_keep_ingredients_with_commas_whole_and_recipes_apart() -> None:
    html = page("t", "s", [Section("x").rows([{
        "ingredients": ["lasagna noodles, cooked and drained", "salt"],
        "recipes": Lines(["a; b", "c"]),
    }])])  # fmt: skip
    assert "<td>lasagna noodles, cooked and drained; salt</td>" in html
    assert "<td><div class='line'>a; b</div><div class='line'>c</div></td>" in html


def test_figures_on_one_page_have_ids_of_their_own_and_a_label() -> None:
    one = Section("a").figure(horizontal_bars(["x"], [1.0], "First", "n"))
    two = Section("b").figure(horizontal_bars(["y", "z"], [1.0, 2.0], "Second", "n"))
    html = page("t", "s", [one, two])
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)) > 2
    referenced = re.findall(r'(?:url\(#|href="#)([^)"]+)', html)
    assert referenced
    assert set(referenced) <= set(ids)
    assert re.findall(r'<svg role="img" aria-label="([^"]+)"', html) == ["First", "Second"]
    assert ">First</text>" in html  # chart text is text: found, read aloud, copied
    odd = svg(horizontal_bars(['salt id="x"'], [1.0], "t", "n"))
    assert '>salt id="x"</text>' in odd  # an ingredient's name as written, no id prefixed


def test_dollars_in_user_text_are_drawn_as_written_not_as_math() -> None:
    odd = [r"$\frac$ cheese", "$1 or $2 wine"]  # the first is no valid mathtext at all
    recipes = [("italian", [*odd, "salt"])] * 6 + [("thai", ["salt"])] * 3
    validation = {"records": 9, "valid": 9, "rejected": 0, "rejected_by_rule": {}}
    html = pages.data_page(recipes, validation)
    assert r">$\frac$ cheese</text>" in html
    assert ">$1 or $2 wine</text>" in html  # searchable text, dollars kept, not italic math
    # A name that is valid mathtext is drawn as written too.
    drawn = svg(horizontal_bars(["$x$", "run-2"], [1.0, 2.0], "t", "n"))
    assert ">$x$</text>" in drawn


def test_bars_write_their_values_counts_on_whole_ticks_shares_as_percentages() -> None:
    counts = horizontal_bars(["italian", "thai"], [12345, 3], "t", "recipes").axes[0]
    assert [t.get_text() for t in counts.texts] == [" 12,345", " 3"]
    small = horizontal_bars(["italian", "thai"], [20, 5], "t", "recipes").axes[0]
    ticks = small.get_xticks()
    assert len(ticks) > 2
    assert all(float(t).is_integer() for t in ticks)  # no tick at 2.5 recipes
    shares = horizontal_bars(["salt", "egg"], [0.4573, 0.05], "t", "share", share=True).axes[0]
    assert [t.get_text() for t in shares.texts] == [" 45.7%", " 5.0%"]
    few = histogram([3, 1], ["1", "2"], "t", "x", "recipes").axes[0]
    assert all(float(t).is_integer() for t in few.get_yticks())


def test_a_long_name_is_cut_in_the_chart_and_given_in_full_beside_it() -> None:
    long = (
        "1 (10 ounce) package frozen chopped spinach, thawed and squeezed dry and then chopped "
        "again very finely"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Tight layout not applied": the bars were squeezed
        axes = horizontal_bars([long, "salt"], [0.5, 1.0], "t", "share", share=True).axes[0]
    shown = [t.get_text() for t in axes.get_yticklabels()]
    assert shown == [long[:39] + "\u2026", "salt"]
    assert len(shown[0]) == 40
    html = pages.data_page([("italian", [long, "salt"]), ("mexican", ["salt"])], {})
    assert f"Cut short in the chart, in full: {long}." in html
    assert "Cut short" not in pages.data_page([("italian", ["salt"])], {})


def test_histogram_ticks_do_not_crowd_the_last_label() -> None:
    labels = [str(k) if k < 30 else "30+" for k in range(1, 31)]
    axes = histogram(list(range(30)), labels, "t", "x", "y").axes[0]
    shown = [t.get_text() for t in axes.get_xticklabels()]
    assert shown[-1] == "30+"
    assert "29" not in shown
    assert shown[:3] == ["1", "3", "5"]


def test_experiments_page_compares_runs_with_their_intervals() -> None:
    def row(name: str, accuracy: float | None, low: float | None = None) -> dict[str, Any]:
        return {"experiment": name, "train.C": 1e-05, "accuracy": accuracy,
                "macro_f1": None, "top_k_accuracy": None, "expected_calibration_error": None,
                "accuracy_ci_low": low, "accuracy_ci_high": None if low is None else 0.83}  # fmt: skip

    rows = [row("main", 0.8146, 0.801), row("c-1.0", 0.8001, 0.787), row("c-2", 0.8120, 0.80)]
    html = pages.experiments_page([*rows, row("old", None)])
    assert _lead(html) == (  # c-2 is inside main's interval (0.801 to 0.83), c-1.0 is not
        "Best test accuracy 0.8146: main. 1 of the other 2 runs lies inside its 95% interval "
        "(0.801 to 0.830): to tell them apart, compare them on more recipes "
        "(<code>cuisineflow score</code> on recipes kept back)."
    )
    assert "cannot confirm" not in html  # runs on one test split are paired: no such verdict
    assert "<td>1e-05</td>" in html  # params as given, not as 0.0000
    assert "<td>0.801\u20130.830</td>" in html
    assert "<td>not recorded</td>" in html
    assert "commit what <code>make run</code> wrote" in html
    assert html.index("<th>accuracy</th>") < html.index("<th>train.C</th>")
    assert 'aria-label="Test accuracy per experiment, best first, with its 95% interval"' in html
    alone = pages.experiments_page([row("main", 0.8146, 0.801)])
    assert "<svg" not in alone  # one run: nothing to compare
    # After `dvc exp run` the workspace holds the experiment's run: one run, not two.
    c_2 = row("c-2", 0.8160, 0.803)
    held = pages.experiments_page([{**c_2, "experiment": "workspace"}, rows[0], c_2])
    assert _lead(held).startswith(
        "Best test accuracy 0.8160: c-2. The other run lies inside its 95% interval "
        "(0.803 to 0.830): to tell them apart"
    )
    assert "<td>workspace (= c-2)</td>" in held
    assert "3 runs" not in held
    assert "2 runs (<code>dvc exp show</code>)" in held
    assert "metrics are not recorded when" not in held  # every run has its accuracy
    changed = pages.experiments_page([row("workspace", 0.8170, 0.803), rows[0], c_2])
    assert "2 of the other 2 runs lie inside" in _lead(changed)  # a workspace is a run


def test_experiments_table_puts_the_params_that_differ_first_and_the_chart_ranks_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def row(name: str, model: str, c: float, accuracy: float) -> dict[str, Any]:
        return {"experiment": name, "baseline": None if name == "main" else "main",
                "train.model": model, "train.C": c, "train.calibration": "temperature",
                "features": "words", "accuracy": accuracy, "macro_f1": 0.75,
                "top_k_accuracy": 0.94, "expected_calibration_error": 0.03,
                "accuracy_ci_low": accuracy - 0.013, "accuracy_ci_high": accuracy + 0.012}  # fmt: skip

    rows = [row("main", "linear_svc", 0.5, 0.81), row("c-1", "linear_svc", 1.0, 0.82),
            row("lr", "logistic_regression", 0.5, 0.80)]  # fmt: skip
    drawn: dict[str, Any] = {}
    intervals = pages.plots.intervals

    def record(labels: list[str], values: list[float], *args: Any) -> Any:
        drawn.update(labels=labels, values=values)
        return intervals(labels, values, *args)

    monkeypatch.setattr(pages.plots, "intervals", record)
    html = pages.experiments_page(rows, top_k=[3])
    table, folded = html.split("<details>")
    headings = re.findall(r"<th>(.*?)</th>", table)
    assert headings == [
        "experiment", "train.model", "train.C", "accuracy", "95% interval", "macro-F1",
        "top-3 accuracy", "expected calibration error", "baseline",
    ]  # fmt: skip
    assert "<th>train.calibration</th>" in folded  # the same for every run: folded away
    assert "<th>features</th>" in folded
    assert "Params that differ between the runs come first: train.model, train.C." in html
    assert drawn == {"labels": ["c-1 (best)", "main", "lr"], "values": [0.82, 0.81, 0.80]}
    assert "<th>top-k accuracy</th>" in pages.experiments_page(rows, top_k=[3, 5])


def test_data_page_leads_with_labels_imbalance_and_recipe_size() -> None:
    recipes = [("italian", ["a", "b", "c"])] * 30 + [("thai", ["a"])] * 3 + [(None, ["x", "y"])] * 2
    validation = {"records": 35, "valid": 35, "rejected": 0, "rejected_by_rule": {"not_json": 0}}
    html = pages.data_page(recipes, validation)
    assert _lead(html).startswith("33 recipes have a cuisine; 2 have none")
    assert "italian has 30 recipes, thai 3 (10 to 1)" in _lead(html)
    assert "A recipe lists a median of 3 ingredients." in _lead(html)
    assert "No record broke the other rules: not_json." in html
    even = [("italian", ["a"])] * 50 + [("thai", ["b"])] * 40
    assert "The cuisines are about even: 40 to 50 recipes each." in _lead(
        pages.data_page(even, validation)
    )


def _exp(
    rev: str, name: str | None, params: dict[str, Any], test: dict[str, float]
) -> dict[str, Any]:
    return {
        "rev": rev,
        "name": name,
        "data": {
            "params": {"params.yaml": {"data": params}},
            "metrics": {"metrics/evaluate.json": {"data": {"test": test}}},
        },
    }


def test_experiment_rows_show_the_params_that_differ_and_any_top_k() -> None:
    base = {"train": {"model": "linear_svc", "C": 0.5}, "evaluate": {"top_k": 3, "bins": 15},
            "featurize": {"blocks": [{"analyzer": "words"}, {"analyzer": "word_pairs"}]}}  # fmt: skip
    wider = {**base, "evaluate": {"top_k": 5, "bins": 15}}
    main = _exp("a" * 40, "main", base, {"accuracy": 0.81234, "top_3_accuracy": 0.94})
    main["experiments"] = [{"revs": [_exp("b" * 40, "top-5", wider, {"top_5_accuracy": 0.97})]}]
    rows = experiment_rows([main])
    assert [(r["experiment"], r["baseline"]) for r in rows] == [("main", None), ("top-5", "main")]
    assert [r["evaluate.top_k"] for r in rows] == [3, 5]  # differs: shown
    assert "evaluate.bins" not in rows[0]  # the same everywhere: left out
    assert [r["top_k_accuracy"] for r in rows] == [0.94, 0.97]
    assert top_ks([main]) == [3, 5]  # the page's heading: top-k, not one k
    assert rows[0]["accuracy"] == 0.8123
    assert rows[0]["features"] == "words+word_pairs"
    assert rows[1]["train.C"] == 0.5


def test_a_failed_or_queued_experiment_shows_its_state_not_its_baselines_metrics() -> None:
    base = {"train": {"model": "linear_svc", "C": 0.5}}
    main = _exp("a" * 40, "main", base, {"accuracy": 0.81234})
    # DVC gives a failed or queued run its baseline's metrics, marked only by its executor.
    failed = _exp("b" * 40, "bad", {"train": {"model": "linear_svc", "C": -1}},
                  {"accuracy": 0.81234})  # fmt: skip
    queued = _exp("c" * 40, "later", {"train": {"model": "linear_svc", "C": 2}},
                  {"accuracy": 0.81234})  # fmt: skip
    done = _exp("d" * 40, "good", {"train": {"model": "linear_svc", "C": 1}}, {"accuracy": 0.82})
    main["experiments"] = [
        {"revs": [failed], "executor": {"state": "failed"}},
        {"revs": [queued], "executor": {"state": "queued"}},
        {"revs": [done], "executor": None},
    ]
    rows = experiment_rows([main])
    assert [(r["experiment"], r["state"], r["accuracy"]) for r in rows] == [
        ("main", "success", 0.8123), ("bad", "failed", None), ("later", "queued", None),
        ("good", "success", 0.82),
    ]  # fmt: skip
    html = pages.experiments_page(rows)
    assert "<td>failed</td>" in html
    assert "commit what" not in html  # not "commit its outputs": the run did not finish
    assert "state" not in experiment_rows([_exp("a" * 40, "main", base, {"accuracy": 0.8})])[0]


def test_query_output_handles_lists_of_any_type_nulls_and_nan() -> None:
    table = pa.table(
        {
            "ids": pa.array([[1, 2, None], None], type=pa.list_(pa.int64())),
            "words": pa.array([["a,b", None], []], type=pa.list_(pa.string())),
            "share": [float("nan"), 0.5],
        }
    )
    aligned = format_table(table, "table").splitlines()
    assert aligned[2].split() == ["1,", "2,", "a,b,", "nan"]  # null items print empty
    assert aligned[3].split() == ["NULL", "0.5"]  # a null cell says so; [] is blank
    csv_lines = ["ids,words,share", '1|2|,"a,b|",nan', ",,0.5"]  # the comma is quoted
    assert format_table(table, "csv").splitlines() == csv_lines
    first = json.loads(format_table(table, "json").splitlines()[0])  # strict JSON: no NaN
    assert first == {"ids": [1, 2, None], "words": ["a,b", None], "share": None}


def test_rows_whose_values_mix_types_are_shown_as_text() -> None:
    from cuisineflow.reports.text import format_rows, table_of_rows

    rows = [
        {"experiment": "main", "train.C": 0.5, "accuracy": 0.81},
        {"experiment": "bad", "train.C": "high"},  # `dvc exp run -S train.C=high`
        {"experiment": "more", "train.C": 1, "accuracy": None, "note": "new"},
    ]
    table = table_of_rows(rows)
    assert table.column_names == ["experiment", "train.C", "accuracy", "note"]
    assert table.column("train.C").to_pylist() == ["0.5", "high", "1"]
    assert table.column("accuracy").to_pylist() == [0.81, None, None]  # one type: kept
    assert format_table(table, "csv").splitlines()[2] == "bad,high,,"
    as_json = [json.loads(line) for line in format_rows(rows, "json").splitlines()]
    assert [row["train.C"] for row in as_json] == [0.5, "high", 1]  # each value as it was
    assert as_json[0] == {"experiment": "main", "train.C": 0.5, "accuracy": 0.81, "note": None}
    assert format_rows(rows, "csv") == format_table(table, "csv")


def test_query_output_keeps_columns_named_alike_and_decimals_as_numbers() -> None:
    from decimal import Decimal

    from cuisineflow.errors import DataError

    table = pa.Table.from_arrays(
        [pa.array([1, 2]), pa.array([7, 8]), pa.array(["thai", "greek"])], ["id", "id", "cuisine"]
    )
    assert format_table(table, "csv").splitlines() == ["id,id,cuisine", "1,7,thai", "2,8,greek"]
    assert format_table(table, "table").splitlines()[2].split() == ["1", "7", "thai"]
    with pytest.raises(DataError, match=r"the result names id more than once"):
        format_table(table, "json")
    sums = pa.table({"total": pa.array([Decimal(587), Decimal("2.5")], pa.decimal128(38, 1))})
    assert format_table(sums, "json").splitlines() == ['{"total": 587}', '{"total": 2.5}']


def test_check_ratios_stay_finite_for_the_plots() -> None:
    def check(name: str, value: float, threshold: float) -> dict:
        return {"name": name, "value": value, "threshold": threshold}

    assert pages._ratio(check("cuisine_mix", 0.2, 0.1)) == pytest.approx(2.0)
    assert pages._ratio(check("realized_accuracy", 0.6, 0.75)) == pytest.approx(1.25)
    assert pages._ratio(check("realized_accuracy", 0.0, 0.75)) == pages.RATIO_CAP  # all wrong
    assert pages._ratio(check("cuisine_mix", 0.3, 0.0)) == pages.RATIO_CAP  # threshold 0
    assert pages._ratio(check("estimated_accuracy_drop", -0.01, 0.0)) == 0.0
    # A change the good way (accuracy up) is no drift: 0, not below the chart's scale.
    assert pages._ratio(check("estimated_accuracy_drop", -0.1, 0.05)) == 0.0


def test_an_empty_monitoring_page_says_why() -> None:
    why = "no predictions of cuisine@2 in the window; it holds cuisine@1 (9944)"
    assert why in pages.monitoring_page([], why)
    named = pages.monitoring_page([], "no prediction logs yet", model="cuisine@2")
    assert "<p class='muted'>cuisine@2: no verdict</p>" in named
    assert "no prediction logs yet" in pages.monitoring_page([])
    # Logs there, but no day has enough predictions for a verdict: say that, not "no logs".
    few = pages.monitoring_page([{"date": "2026-01-01", "n_predictions": 60, "report": None}])
    assert "60 predictions logged over 1 day(s); no day has enough for a verdict" in few
    # The days are still listed, each with the minimum it missed.
    few = pages.monitoring_page(
        [{"date": "2026-01-01", "n_predictions": 60, "report": None}], min_window=100
    )
    assert "<td>2026-01-01</td><td>60</td><td>too few for a verdict (under 100)</td>" in few


def test_daily_lines_put_days_on_a_date_axis_with_gaps_and_the_legend_beside() -> None:
    start = dt.date(2026, 3, 1)
    days = [start + dt.timedelta(days=k) for k in range(60) if k != 3]  # day 4: no logs
    values = [0.9] * len(days)
    values[days.index(dt.date(2026, 3, 6))] = None  # judged, but no labels that day
    figure = plots.daily_lines(
        days,
        {"a": values, "b": [0.8] * len(days)},
        "t",
        "accuracy",
        threshold=(0.75, "floor"),
        unjudged=[dt.date(2026, 3, 4)],
    )
    figure.canvas.draw()
    axes = figure.axes[0]
    line = next(line for line in axes.get_lines() if line.get_label() == "a")
    y = np.asarray(line.get_ydata(), dtype=float)
    # One point a calendar day: days 4 and 6 are gaps (NaN) that break the line.
    assert len(y) == 60
    assert [k for k in range(60) if np.isnan(y[k])] == [3, 5]
    ticks = [t for t in axes.get_xticklabels() if t.get_text()]
    assert 3 <= len(ticks) <= 11
    boxes = [t.get_window_extent() for t in ticks]
    assert not any(a.overlaps(b) for a, b in pairwise(boxes))
    legend = axes.get_legend()
    assert not legend.get_window_extent().overlaps(axes.get_window_extent())
    assert [t.get_text() for t in legend.get_texts()] == [
        "a", "b", "too few predictions for a verdict", "floor"
    ]  # fmt: skip


def _judged_day(date: str, estimated: float) -> dict[str, Any]:
    from cuisineflow.monitoring.profile import build_profile
    from cuisineflow.monitoring.report import build_report
    from cuisineflow.params import MonitorParams

    recipes = [["salt", "basil"]] * 200
    profile = build_profile(recipes, np.tile([[0.9, 0.1]], (200, 1)), ("a", "b"), recipes)
    table = pa.table({
        "id": [str(i) for i in range(200)],
        "ingredients": recipes,
        "cuisine": ["a"] * 200,
        "confidence": [estimated] * 200,
        "timestamp": [dt.datetime.fromisoformat(date).replace(tzinfo=dt.UTC)] * 200,
    })  # fmt: skip
    report = build_report(profile, table, {}, MonitorParams(), {"since": date})
    return {"date": date, "n_predictions": 200, "report": report}


def test_the_monitoring_page_draws_the_floor_lists_the_latest_day_first_and_says_what_it_left_out() -> (
    None
):
    days = [
        _judged_day("2026-03-01", 0.9),
        {"date": "2026-03-02", "n_predictions": 20, "report": None},
        _judged_day("2026-03-03", 0.9),
    ]
    page = pages.monitoring_page(days, model="cuisine@1", min_window=100, floor=0.75, earlier=7)
    # No labels: the floor is still drawn, from the params.
    assert "realized accuracy floor" in page
    assert "too few predictions for a verdict" in page
    dates = [d for d in ("2026-03-03", "2026-03-02", "2026-03-01") if f"<td>{d}</td>" in page]
    assert dates == ["2026-03-03", "2026-03-02", "2026-03-01"]
    assert page.index("<td>2026-03-03</td>") < page.index("<td>2026-03-01</td>")
    assert "7 predictions logged before 2026-03-01 are left out" in page


def test_the_common_ingredient_alert_names_its_ingredient(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import datetime as dt

    import typer

    from cuisineflow.cli import _say_report
    from cuisineflow.monitoring.profile import build_profile
    from cuisineflow.monitoring.report import build_report
    from cuisineflow.params import MonitorParams

    six = ["basil", "cumin", "dill", "fennel", "ginger", "honey"]
    # Six ingredients each move by 0.06 from a common base: large, barely significant.
    # Spaghetti moves by 0.055 from almost nothing: smaller, and by far the most significant.
    reference = [["salt", *(six if r < 500 else []), *(["spaghetti"] if r < 1 else [])]
                 for r in range(1000)]  # fmt: skip
    window = [["salt", *(six if r < 560 else []), *(["spaghetti"] if r < 56 else [])]
              for r in range(1000)]  # fmt: skip
    profile = build_profile(reference, np.tile([[0.9, 0.1]], (1000, 1)), ("a", "b"), reference)
    table = pa.table({
        "id": [str(i) for i in range(1000)],
        "ingredients": window,
        "cuisine": ["a"] * 1000,
        "confidence": [0.9] * 1000,
        "timestamp": [dt.datetime(2026, 1, 1, tzinfo=dt.UTC)] * 1000,
    })  # fmt: skip
    report = build_report(profile, table, {}, MonitorParams(), {})
    (alert,) = [a for a in report["alerts"] if a["name"] == "common_ingredient_shift"]
    assert (alert["ingredient"], alert["value"]) == ("spaghetti", 0.055)
    (common,) = [c for c in pages._checks(report) if c["name"] == "common_ingredient_shift"]
    moved = [row["ingredient"] for row in common["largest_changes"]]
    assert moved == [*six[:5], "spaghetti"]  # the largest, and the one
    html = pages.monitor_page(report)
    assert "ALERT common ingredients (spaghetti)</span>: 0.0550" in html
    assert "<td>common ingredients (spaghetti)</td>" in html
    assert "the check&#x27;s value is the change of spaghetti." in html
    with pytest.raises(typer.Exit):
        _say_report(report, Path("out"))
    assert "ALERT common_ingredient_shift (spaghetti): 0.055 (" in capsys.readouterr().out
