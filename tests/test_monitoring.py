"""Drift statistics on generated scenarios: no alarm on fresh samples, alarms on clear changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from cuisineflow.monitoring.drift import (
    alerts,
    compare,
    js_distance,
    realized_accuracy_check,
    two_sample_p_value,
)
from cuisineflow.monitoring.profile import build_profile
from cuisineflow.params import MonitorParams
from cuisineflow.predict import Predictor
from tests.conftest import make_recipes, typical_recipes

PARAMS = MonitorParams()


@pytest.fixture(scope="module")
def setup(tiny_model: Path) -> tuple[Predictor, dict]:
    predictor = Predictor(tiny_model)
    reference = typical_recipes(600, seed=100)
    profile = build_profile(reference, predictor.predict_proba(reference), predictor.classes,
                            [r["ingredients"] for r in make_recipes(120)])  # fmt: skip
    return predictor, profile


def check(setup: tuple[Predictor, dict], recipes: list[list[str]]) -> tuple[dict, list[dict]]:
    predictor, profile = setup
    probabilities = predictor.predict_proba(recipes)
    predicted = [predictor.classes[i] for i in probabilities.argmax(axis=1)]
    report = compare(profile, recipes, predicted, probabilities.max(axis=1), PARAMS)
    return report, alerts(report)


def test_distances_and_tests_by_hand() -> None:
    assert js_distance(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)
    assert js_distance(np.array([2.0, 2.0]), np.array([5.0, 5.0])) == pytest.approx(0.0)
    assert two_sample_p_value(np.array([500.0, 500.0]), np.array([50.0, 50.0])) == pytest.approx(
        1.0
    )
    assert two_sample_p_value(np.array([500.0, 500.0]), np.array([90.0, 10.0])) < 1e-6
    # A cell expected 0.3 times in the window: the chi-square tail would say p = 5e-5; the
    # exact distribution (Monte Carlo, seeded) says some evidence, short of alpha.
    sparse = two_sample_p_value(np.array([2900.0, 590.0, 10.0]), np.array([80.0, 17.0, 3.0]))
    assert 0.001 < sparse < 0.02
    assert sparse == two_sample_p_value(np.array([2900.0, 590.0, 10.0]), np.array([80, 17, 3.0]))
    # Sparse, and a complete shift: as small as 10,000 draws can show.
    one_bin = np.array([0.0] * 19 + [3500.0])
    moved = np.array([0.0] * 5 + [100.0] + [0.0] * 14)
    assert two_sample_p_value(one_bin, moved) == 1 / 10_001  # never 0: 1 / (draws + 1)
    assert two_sample_p_value(np.array([3490.0, 10.0]), np.array([60.0, 40.0])) < 0.001


def test_degenerate_tables_are_no_evidence() -> None:
    # Empty cells in both samples are dropped, not divided by (histograms have empty bins).
    assert two_sample_p_value(np.array([500.0, 500.0, 0.0]), np.array([50.0, 50.0, 0.0])) == 1.0
    assert two_sample_p_value(np.array([100.0]), np.array([10.0])) == 1.0  # one category
    assert two_sample_p_value(np.array([50.0, 50.0]), np.array([0.0, 0.0])) == 1.0  # no window


def test_chi_square_from_five_expected_per_cell_monte_carlo_below() -> None:
    # Every cell expected exactly 5 or more: the chi-square tail (statistic 8/15, 1 df).
    assert two_sample_p_value(np.array([14.0, 6.0]), np.array([16.0, 4.0])) == pytest.approx(
        stats.chi2.sf(2 * (1 / 15 + 1 / 5), 1)
    )
    # Smallest expected 4.5: the exact distribution; this table is its most likely one: p = 1.
    assert two_sample_p_value(np.array([15.0, 5.0]), np.array([16.0, 4.0])) == 1.0


def test_chi_square_degrees_of_freedom_are_categories_less_one() -> None:
    reference, window = np.array([30.0, 30.0, 40.0]), np.array([20.0, 40.0, 40.0])
    expected = stats.chi2_contingency(np.vstack([reference, window]), correction=False).pvalue
    assert two_sample_p_value(reference, window) == pytest.approx(expected)  # 0.180, 2 df


def test_monte_carlo_matches_the_exact_hypergeometric_p_value() -> None:
    # 2x2, window [5, 5] against [90, 10]: the window's second cell is hypergeometric
    # (110 recipes, 15 in the column, 10 drawn); the statistic exceeds its observed value
    # exactly when that cell is 5 or more.
    exact = stats.hypergeom(110, 15, 10).sf(4)  # 0.00407
    p = two_sample_p_value(np.array([90.0, 10.0]), np.array([5.0, 5.0]))
    assert p == pytest.approx(exact, abs=0.002)  # 10,000 draws: standard error 0.0006
    # Both tails, and the reference row's own cells (expected 17.9 and 7.1) in the statistic:
    # X ~ hypergeom(35, 10, 10), expected 2.86; as extreme as 5: X >= 5 or X = 0.
    h = stats.hypergeom(35, 10, 10)
    p = two_sample_p_value(np.array([20.0, 5.0]), np.array([5.0, 5.0]))
    assert p == pytest.approx(h.sf(4) + h.pmf(0), abs=0.01)  # 0.107; standard error 0.003


def test_fresh_samples_raise_no_alarm(setup: tuple[Predictor, dict]) -> None:
    alarms = sum(bool(check(setup, typical_recipes(size, seed))[1]) for seed, size in
                 enumerate([200, 500, 1000] * 10, start=1))  # fmt: skip
    assert alarms == 0  # 30 windows; the measured rate on the real data is in the README


def test_three_cuisines_only_is_prediction_drift(setup: tuple[Predictor, dict]) -> None:
    report, fired = check(setup, typical_recipes(600, seed=7, cuisines=("italian",)))
    assert report["drift"]["prediction"]["detected"]
    assert "cuisine_mix" in {a["name"] for a in fired}
    assert report["drift"]["prediction"]["checks"][0]["window"]["italian"] > 0.9


def test_renamed_ingredients_are_input_drift(setup: tuple[Predictor, dict]) -> None:
    renamed = [[f"organic {i}" for i in recipe] for recipe in typical_recipes(600, seed=8)]
    report, fired = check(setup, renamed)
    oov = report["drift"]["input"]["checks"][0]
    assert oov["name"] == "out_of_vocabulary_rate_increase"
    assert oov["rate"] > 0.9
    assert {"out_of_vocabulary_rate_increase", "common_ingredient_shift"} <= {
        a["name"] for a in fired
    }


def hand_profile(shares: dict[str, float], n: int) -> dict:
    """A reference profile of n recipes using these ingredients at these shares."""
    return {
        "n": n,
        "vocabulary": sorted(shares),
        "out_of_vocabulary_rate": 0.0,
        "n_ingredients": n * 10,
        "ingredient_share": shares,
        "ingredients_per_recipe": [0] * 29 + [n],
        "prediction_share": {"italian": 1.0},
        "confidence_histogram": [0] * 19 + [n],
        "mean_confidence": 0.99,
    }


def sugar_window() -> tuple[dict, list[list[str]]]:
    """A reference, and 100 recipes in which sugar moved a lot (0.16 to 0.25) but within
    chance, and golden raisin significantly (0.006 to 0.05) but little."""
    profile = hand_profile({"sugar": 0.16, "golden raisin": 0.006, "salt": 0.5}, 3500)
    window = (
        [["sugar", "golden raisin"]] * 5 + [["sugar", "salt"]] * 20 + [["salt"]] * 30
        + [["flour"]] * 45
    )  # fmt: skip
    return profile, window


def test_ingredient_shift_needs_one_ingredient_both_large_and_significant() -> None:
    """Sugar moved a lot but within chance; golden raisin moved significantly but little.

    Taking the largest change from one and the smallest p-value from the other alerted.
    """
    profile, window = sugar_window()
    report = compare(profile, window, ["italian"] * 100, np.full(100, 0.99), PARAMS)
    shift = report["drift"]["input"]["checks"][1]
    assert shift["name"] == "common_ingredient_shift"
    assert shift["ingredient"] == "sugar"
    assert shift["value"] == pytest.approx(0.25 - 0.16)
    # Fisher's exact test for sugar, 25 of 100 against 560 of 3,500, times 3 ingredients.
    table = [[25, 75], [560, 2940]]
    from scipy.stats import fisher_exact

    assert shift["p_value"] == pytest.approx(min(1.0, 3 * fisher_exact(table).pvalue))
    assert not shift["detected"]
    # Twice the window, the same shares: now sugar's rise is significant too.
    doubled = compare(profile, window * 4, ["italian"] * 400, np.full(400, 0.99), PARAMS)
    assert doubled["drift"]["input"]["checks"][1]["detected"]


def test_estimated_accuracy_drop_needs_significance() -> None:
    profile = hand_profile({"salt": 0.5}, 3500)
    window = [["salt"]] * 100
    # A drop of 0.056, over the 0.05 threshold, in spread-out confidence: z = 2.9, p = 0.002.
    spread = np.array([1.0] * 89 + [0.4] * 11)
    report = compare(profile, window, ["italian"] * 100, spread, PARAMS)
    (check,) = report["performance"]["checks"]
    assert check["value"] == pytest.approx(0.056)
    assert 0.001 < check["p_value"] < 0.003
    assert not check["detected"]
    assert "estimated_accuracy_drop" not in {a["name"] for a in alerts(report)}
    steady = compare(profile, window, ["italian"] * 100, np.full(100, 0.934), PARAMS)
    # Every window prediction at 0.934, every reference one in the top bin (0.95 to 1): the
    # spread within that bin (Sheppard's 1/12 of its width squared) keeps the error finite.
    assert steady["performance"]["checks"][0]["p_value"] < 1e-10
    one = compare(profile, window[:1], ["italian"], np.array([0.6]), PARAMS)
    assert one["performance"]["checks"][0]["p_value"] == 1.0  # one prediction: no spread known
    # The reference's own spread counts: the same drop against a spread-out reference is
    # less sure than against a narrow one.
    spread_out = {**profile, "confidence_histogram": [0] * 10 + [350] * 10}
    wide = compare(spread_out, window, ["italian"] * 100, spread, PARAMS)
    assert wide["performance"]["checks"][0]["p_value"] > check["p_value"]
    # Measured on the bin centres 0.525 .. 0.975: variance 0.020625, plus 1/(12 * 20**2)
    # within a bin.
    error = np.sqrt(spread.var(ddof=1) / 100 + (0.020625 + 1 / 4800) / 3500)
    expected = stats.norm.sf((0.99 - spread.mean()) / error)
    assert wide["performance"]["checks"][0]["p_value"] == pytest.approx(expected)
    # A narrow spread: the same drop is sure.
    narrow = compare(profile, window, ["italian"] * 100, np.array([0.9, 0.968] * 50), PARAMS)
    assert narrow["performance"]["checks"][0]["p_value"] < 1e-10
    assert "estimated_accuracy_drop" in {a["name"] for a in alerts(narrow)}
    # A significant drop, but under the threshold (0.02 < 0.05): no alert.
    small = compare(profile, window, ["italian"] * 100, np.array([0.96, 0.98] * 50), PARAMS)
    (small_check,) = small["performance"]["checks"]
    assert small_check["value"] == pytest.approx(0.02)
    assert small_check["p_value"] < PARAMS.alpha
    assert not small_check["detected"]


def test_a_window_of_no_ingredients_and_one_of_two_predictions() -> None:
    profile = hand_profile({"salt": 0.5}, 3500)
    report = compare(profile, [["2 oz"]] * 10, ["italian"] * 10, np.full(10, 0.99), PARAMS)
    oov = report["drift"]["input"]["checks"][0]
    assert (oov["rate"], oov["p_value"]) == (0.0, 1.0)
    # Two predictions: their spread is known (one is no spread: see above).
    two = compare(profile, [["salt"]] * 2, ["italian"] * 2, np.array([0.5, 0.7]), PARAMS)
    error = np.sqrt(np.var([0.5, 0.7], ddof=1) / 2 + (1 / 4800) / 3500)
    expected = stats.norm.sf((0.99 - 0.6) / error)
    assert two["performance"]["checks"][0]["p_value"] == pytest.approx(expected)


def test_out_of_vocabulary_rate_and_its_fisher_p_value() -> None:
    profile = {**hand_profile({"salt": 0.5, "pepper": 0.5}, 3500), "out_of_vocabulary_rate": 0.1}
    window = [["salt", "durian"]] * 14 + [["salt", "pepper"]] * 36  # 14 of 100 unknown
    report = compare(profile, window, ["italian"] * 50, np.full(50, 0.99), PARAMS)
    oov = report["drift"]["input"]["checks"][0]
    assert oov["rate"] == 0.14
    assert oov["value"] == pytest.approx(0.04)
    table = [[14, 86], [3500, 31500]]  # one-sided: 0.124 (two-sided would be 0.181)
    assert oov["p_value"] == pytest.approx(stats.fisher_exact(table, alternative="greater").pvalue)
    # A profile without n_ingredients: the reference rate as exact (binomial), one-sided.
    old = {k: v for k, v in profile.items() if k != "n_ingredients"}
    report = compare(old, window, ["italian"] * 50, np.full(50, 0.99), PARAMS)
    expected = stats.binomtest(14, 100, 0.1, alternative="greater").pvalue  # 0.124
    assert report["drift"]["input"]["checks"][0]["p_value"] == pytest.approx(expected)


def test_one_ingredient_window_is_tested_too() -> None:
    report = compare(hand_profile({"salt": 0.5}, 3500), [["durian"]], ["italian"],
                     np.array([0.99]), PARAMS)  # fmt: skip
    # 1 unknown of 1 against 0 of 35,000: Fisher's one-sided p = 1/35,001
    assert report["drift"]["input"]["checks"][0]["p_value"] == pytest.approx(1 / 35_001)


def test_report_names_flags_shares_and_largest_changes() -> None:
    profile, window = sugar_window()
    report = compare(profile, window, ["italian"] * 100, np.full(100, 0.9), PARAMS)
    assert report["n_predictions"] == 100
    assert report["estimated_accuracy"] == pytest.approx(0.9)
    assert report["reference_accuracy_estimate"] == 0.99
    names = [c["name"] for group in report["drift"].values() for c in group["checks"]]
    assert names == ["out_of_vocabulary_rate_increase", "common_ingredient_shift",
                     "ingredients_per_recipe", "cuisine_mix", "confidence"]  # fmt: skip
    # flour is unknown and the recipes are short; the shift alone is within chance
    assert [c["detected"] for c in report["drift"]["input"]["checks"]] == [True, False, True]
    assert report["drift"]["input"]["detected"] is True
    assert report["drift"]["prediction"]["detected"] is False
    assert report["drift"]["confidence"]["detected"] is True  # 0.9 against 0.95 to 1
    assert report["drift"]["prediction"]["checks"][0]["reference"] == {"italian": 1.0}
    assert report["drift"]["prediction"]["checks"][0]["window"] == {"italian": 1.0}
    assert report["drift"]["input"]["checks"][1]["largest_changes"] == [
        {"ingredient": "sugar", "reference": 0.16, "window": 0.25},
        {"ingredient": "golden raisin", "reference": 0.006, "window": 0.05},
        {"ingredient": "salt", "reference": 0.5, "window": 0.5},
    ]


def test_ingredient_shift_reports_the_smallest_p_value_and_caps_it_at_one() -> None:
    profile = hand_profile({"sugar": 0.16, "salt": 0.5}, 3500)
    window = [["sugar", "salt"]] * 30 + [["salt"]] * 30 + [["flour"]] * 40
    shift = compare(profile, window, ["italian"] * 100, np.full(100, 0.99), PARAMS)
    check = shift["drift"]["input"]["checks"][1]  # sugar +0.14 and salt +0.10: both large
    assert check["ingredient"] == "sugar"
    assert check["p_value"] == pytest.approx(2 * stats.fisher_exact([[30, 70], [560, 2940]]).pvalue)
    same = hand_profile({"sugar": 0.2, "salt": 0.5}, 3500)
    window = [["sugar", "salt"]] * 20 + [["salt"]] * 30 + [["flour"]] * 50
    check = compare(same, window, ["italian"] * 100, np.full(100, 0.99), PARAMS)
    assert check["drift"]["input"]["checks"][1]["p_value"] == 1.0  # Bonferroni, capped


def test_edge_windows() -> None:
    profile = hand_profile({"salt": 0.5}, 3500)
    with pytest.raises(ValueError, match="empty window"):
        compare(profile, [], [], np.array([]), PARAMS)
    # A reference of no ingredients: no shift, and none to name.
    empty = {**profile, "ingredient_share": {}, "vocabulary": []}
    shift = compare(empty, [["salt"]] * 10, ["italian"] * 10, np.full(10, 0.99), PARAMS)
    assert shift["drift"]["input"]["checks"][1] == {
        "name": "common_ingredient_shift", "value": 0.0, "p_value": 1.0, "threshold": 0.05,
        "detected": False, "ingredient": None, "largest_changes": [],
    }  # fmt: skip
    # Six ingredients changed: the five largest are named.
    six = hand_profile({f"spice {i}": 0.1 for i in range(6)}, 3500)
    shift = compare(six, [["salt"]] * 10, ["italian"] * 10, np.full(10, 0.99), PARAMS)
    assert len(shift["drift"]["input"]["checks"][1]["largest_changes"]) == 5


def labelled_window(
    setup: tuple[Predictor, dict], recipes: list[list[str]], labels: list[str]
) -> dict:
    """The report of a window whose recipes carry these labels."""
    import datetime as dt

    import pyarrow as pa

    from cuisineflow.monitoring.report import build_report

    predictor, profile = setup
    probabilities = predictor.predict_proba(recipes)
    window = pa.table({
        "id": [str(i) for i in range(len(recipes))],
        "ingredients": recipes,
        "cuisine": [predictor.classes[i] for i in probabilities.argmax(axis=1)],
        "confidence": probabilities.max(axis=1),
        "timestamp": [dt.datetime(2026, 1, 1, tzinfo=dt.UTC)] * len(recipes),
    })  # fmt: skip
    return build_report(profile, window, {str(i): c for i, c in enumerate(labels)}, PARAMS, {})


def test_realized_accuracy_alerts_only_on_clear_evidence(setup: tuple[Predictor, dict]) -> None:
    recipes = typical_recipes(300, seed=8)
    predicted = [p.cuisine for p in setup[0].predict(recipes)]
    wrong = [next(c for c in ("italian", "thai") if c != p) for p in predicted]
    # One label, and it is wrong: realized accuracy 0 on 1 label is no evidence.
    one = labelled_window(setup, recipes, wrong[:1])
    assert one["realized_accuracy"] == 0.0
    assert [a["name"] for a in one["alerts"]] == []
    # 300 labels, 180 right (0.6 against a floor of 0.75): p about 1e-9.
    labels = predicted[:180] + wrong[180:]
    many = labelled_window(setup, recipes, labels)
    assert many["realized_accuracy"] == pytest.approx(0.6)
    (alert,) = [a for a in many["alerts"] if a["name"] == "realized_accuracy"]
    assert alert["p_value"] < 1e-6


def test_realized_accuracy_is_one_sided() -> None:
    # Only a drop below the floor is evidence: the lower tail alone.
    check = realized_accuracy_check(2 / 3, 300, PARAMS)
    assert check["value"] == 0.666667
    expected = stats.binomtest(200, 300, 0.75, alternative="less").pvalue
    assert check["p_value"] == pytest.approx(expected)


def test_realized_macro_f1_counts_cuisines_predicted_but_not_labelled(
    setup: tuple[Predictor, dict],
) -> None:
    recipes = typical_recipes(200, seed=9, cuisines=("italian", "mexican"))
    predicted = [p.cuisine for p in setup[0].predict(recipes)]
    report = labelled_window(setup, recipes, ["italian"] * len(recipes))
    # scikit-learn averages over the cuisines labelled or predicted.
    from sklearn.metrics import f1_score

    expected = f1_score(["italian"] * len(recipes), predicted, average="macro")
    assert report["realized_macro_f1"] == pytest.approx(expected)
    assert expected < 0.7  # the Mexican recipes, labelled Italian, count against it


def test_realized_macro_f1_counts_labelled_cuisines_the_model_does_not_know() -> None:
    import datetime as dt

    import pyarrow as pa
    from sklearn.metrics import f1_score

    from cuisineflow.monitoring.report import build_report

    recipes = [["salt", "garlic"]] * 100
    # A model that knows only Italian and Mexican.
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8]] * 50)
    reference = build_profile(recipes, probabilities, ("italian", "mexican"), recipes)
    predicted = ["italian" if i < 50 else "mexican" for i in range(100)]
    truth = ["italian" if i < 50 else "brazilian" for i in range(100)]
    window = pa.table({
        "id": [str(i) for i in range(100)],
        "ingredients": recipes,
        "cuisine": predicted,
        "confidence": [0.9] * 100,
        "timestamp": [dt.datetime(2026, 1, 1, tzinfo=dt.UTC)] * 100,
    })  # fmt: skip
    labels = {str(i): c for i, c in enumerate(truth)}
    report = build_report(reference, window, labels, PARAMS, {})
    assert report["realized_accuracy"] == 0.5
    # Brazilian recipes predicted Mexican: brazilian recall 0, mexican precision 0.
    expected = f1_score(truth, predicted, average="macro")
    assert expected == pytest.approx(1 / 3)
    assert report["realized_macro_f1"] == pytest.approx(expected)


def test_labels_of_unknown_cuisines_are_refused(tmp_path: Path) -> None:
    import json

    from cuisineflow.errors import DataError
    from cuisineflow.monitoring.window import add_labels
    from cuisineflow.storage import Store

    store = Store.open(str(tmp_path / "store"))
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps([{"id": 1, "cuisine": " Thai", "ingredients": ["x"]},
                                  {"id": 2, "cuisine": "klingon", "ingredients": ["x"]}]))  # fmt: skip
    with pytest.raises(DataError, match="recipe 2: unknown cuisine 'klingon'; the cuisines are"):
        add_labels(store, labels)
    assert store.list("monitoring") == []
    labels.write_text(json.dumps([{"id": 1, "cuisine": " Thai", "ingredients": ["x"]}]))
    assert add_labels(store, labels) == 1


def test_labels_need_only_an_id_and_a_cuisine(tmp_path: Path) -> None:
    from cuisineflow.errors import DataError
    from cuisineflow.monitoring.window import add_labels, read_labels
    from cuisineflow.storage import Store

    store = Store.open(str(tmp_path / "store"))
    late = tmp_path / "late.jsonl"
    late.write_text('{"id": 7, "cuisine": "thai"}\n{"id": 8, "cuisine": "Greek "}\n')
    assert add_labels(store, late) == 2
    assert read_labels(store, None) == {"7": "thai", "8": "greek"}
    late.write_text('{"id": 7, "cuisine": "thai"}\n{"cuisine": "greek"}\n')
    with pytest.raises(DataError) as refused:
        add_labels(store, late)
    assert str(refused.value) == (
        "late.jsonl: not labels ({id, cuisine} records): line 2: field 'id' is missing"
    )
    late.write_text("cuisine,id\nthai,7\n")
    with pytest.raises(
        DataError, match=r'late.jsonl: not labels; expected a JSON array of \{"id", "cuisine"\}'
    ):
        add_labels(store, late)


READ_LABELS_AND_EXIT = """
import sys
from cuisineflow.monitoring.window import read_labels
from cuisineflow.storage import Store
sys.exit(3 if read_labels(Store.open(sys.argv[1]), None) == {"7": "thai"} else 4)
"""


def test_a_process_that_read_labels_exits_with_its_own_status(tmp_path: Path) -> None:
    # Read with read_table, an in-memory Parquet file left Arrow threads that aborted more
    # than a third of such processes at exit (134), so `monitor` lost its exit status.
    import subprocess
    import sys

    from cuisineflow.monitoring.window import add_labels
    from cuisineflow.storage import Store

    (tmp_path / "late.jsonl").write_text('{"id": 7, "cuisine": "thai"}\n')
    add_labels(Store.open(str(tmp_path / "store")), tmp_path / "late.jsonl")
    command = [sys.executable, "-c", READ_LABELS_AND_EXIT, str(tmp_path / "store")]
    statuses = [subprocess.run(command, capture_output=True).returncode for _ in range(6)]
    assert statuses == [3] * 6


def test_a_profile_by_hand() -> None:
    from collections import Counter

    from cuisineflow.features import normalise_recipe
    from cuisineflow.monitoring.profile import (
        confidence_histogram,
        ingredient_counts_histogram,
        most_common,
    )

    counts = Counter({"b": 2, "a": 2, "c": 3})
    assert most_common(counts) == [("c", 3), ("a", 2), ("b", 2)]  # ties alphabetically
    assert most_common(counts, 2) == [("c", 3), ("a", 2)]
    assert ingredient_counts_histogram([]) == [0] * 30
    # No ingredient counts as one; 30 or more share the last bin.
    assert ingredient_counts_histogram([[], ["salt"], ["x"] * 29, ["x"] * 45]) == (
        [2] + [0] * 27 + [1, 1]
    )
    assert confidence_histogram(np.array([0.0, 0.04, 0.06, 0.999, 1.0])) == [2, 1] + [0] * 17 + [2]
    profile = build_profile(
        [["Salt", "garlic"], ["salt ", "saffron", "mint"], ["garlic"]],
        np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]]),
        ["italian", "thai"],
        [["salt", "garlic"], ["garlic"]],
    )
    assert profile == {
        "n": 3,
        "vocabulary": ["garlic", "salt"],
        "out_of_vocabulary_rate": pytest.approx(2 / 6),
        "n_ingredients": 6,
        "ingredient_share": {
            "garlic": pytest.approx(2 / 3),
            "salt": pytest.approx(2 / 3),
            "mint": pytest.approx(1 / 3),
            "saffron": pytest.approx(1 / 3),
        },
        "ingredients_per_recipe": [1, 1, 1] + [0] * 27,
        "prediction_share": {"italian": pytest.approx(2 / 3), "thai": pytest.approx(1 / 3)},
        "confidence_histogram": [0] * 12 + [1, 0, 1, 0, 0, 0, 1, 0],
        "mean_confidence": pytest.approx(2.2 / 3),
        "calibration": [],
    }
    assert list(profile["ingredient_share"]) == ["garlic", "salt", "mint", "saffron"]
    calibration = [{"confidence": 0.9, "accuracy": 0.85, "n": 40.0}]
    empty = build_profile([[]], np.array([[1.0]]), ["italian"], [["salt"]], calibration)
    assert (empty["out_of_vocabulary_rate"], empty["n_ingredients"]) == (0.0, 0)
    assert empty["calibration"] == calibration
    # The most common 300 ingredients are profiled, no more.
    names = [f"herb {a}{b}o" for a in "abcdefghijklmnopqrst" for b in "abcdefghijklmnopqrst"]
    assert len(set(normalise_recipe(names))) > 300
    wide = build_profile([names], np.array([[1.0]]), ["italian"], [])
    assert len(wide["ingredient_share"]) == 300


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("confidence_histogram", [float("nan")] + [0] * 19, "'confidence_histogram' holds NaN"),
        ("ingredients_per_recipe", [0] * 29 + [-3], "'ingredients_per_recipe' holds -3, below 0"),
        (
            "confidence_histogram",
            [1, 2],
            "'confidence_histogram' is [1, 2], not a list of 20 counts",
        ),
        (
            "ingredients_per_recipe",
            None,
            "'ingredients_per_recipe' is null, not a list of 30 counts",
        ),
        (
            "prediction_share",
            {"italian": 0.5, "thai": float("nan")},
            "'prediction_share' holds NaN for 'thai'",
        ),
        ("prediction_share", {}, "'prediction_share' is {}, not an object of shares by name"),
        ("ingredient_share", {"salt": 1.5}, "'ingredient_share' holds 1.5 for 'salt', over 1"),
        ("mean_confidence", float("inf"), "'mean_confidence' holds Infinity"),
        ("mean_confidence", "0.9", "'mean_confidence' holds \"0.9\", not a number"),
        ("out_of_vocabulary_rate", None, "'out_of_vocabulary_rate' holds null, not a number"),
        ("n_ingredients", -1, "'n_ingredients' holds -1, below 0"),
        ("n", 0, "'n' is 0, not a number of recipes (1 or more)"),
        ("n", float("nan"), "'n' is NaN, not a number of recipes (1 or more)"),
        ("n", True, "'n' is true, not a number of recipes (1 or more)"),
        ("vocabulary", ["salt", 3], "'vocabulary' is [\"salt\", 3], not a list of ingredients"),
    ],
)
def test_a_damaged_reference_profile_is_named(field: str, value: object, problem: str) -> None:
    """A profile edited by hand: NaN statistics (report.json refused them) or a traceback."""
    from cuisineflow.monitoring.profile import profile_problem

    profile = build_profile([["salt", "garlic"], ["thai basil"]], np.array([[0.9, 0.1], [0.2, 0.8]]),
                            ["italian", "thai"], [["salt", "garlic"]])  # fmt: skip
    assert profile_problem(profile) is None
    assert profile_problem({**profile, field: value}) == problem
    missing = {k: v for k, v in profile.items() if k != "confidence_histogram"}
    assert profile_problem(missing) == "no 'confidence_histogram'"
    # Older profiles lack n_ingredients; a mean over 1 by rounding is still a share.
    older = {k: v for k, v in profile.items() if k != "n_ingredients"}
    assert profile_problem({**older, "mean_confidence": 1 + 1e-12}) is None


def log_row(number: int, day: int, hour: int, version: str = "1") -> dict:
    """One logged prediction, as the server writes it."""
    import datetime as dt

    return {
        "request_id": f"request-{number}", "timestamp": dt.datetime(2026, 1, day, hour, tzinfo=dt.UTC),
        "model_name": "cuisine", "model_version": version, "id": str(number),
        "ingredients": ["salt"], "cuisine": "thai", "confidence": 0.9,
        "top_cuisines": ["thai"], "top_probabilities": [0.9], "latency_ms": 1.0,
    }  # fmt: skip


def test_a_window_holds_the_logs_from_since_up_to_until(tmp_path: Path) -> None:
    import datetime as dt
    import io
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from cuisineflow.errors import DataError
    from cuisineflow.monitoring import INCOMING
    from cuisineflow.monitoring.log import PREFIX, SCHEMA
    from cuisineflow.monitoring.window import by_model, read_predictions
    from cuisineflow.storage import Store

    store = Store.open(str(tmp_path / "store"))
    with pytest.raises(DataError, match=r"^no prediction logs in local store .*: serve the model"):
        read_predictions(store, None, None)
    sink = io.BytesIO()
    rows = [log_row(1, 1, 10), log_row(2, 2, 10), log_row(3, 3, 10, version="2")]
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), sink)
    store.write_bytes(f"{PREFIX}/date=2026-01-01/part-1.parquet", sink.getvalue())
    assert read_predictions(store, None, None).num_rows == 3  # no Lambda logs: fine
    from_lambda = {**log_row(4, 2, 12), "timestamp": "2026-01-02T12:00:00+00:00"}
    store.write_bytes(f"{INCOMING}/batch.jsonl", (json.dumps(from_lambda) + "\n\n").encode())

    def ids(window: pa.Table) -> list[str]:
        return sorted(window["id"].to_pylist())

    since, until = (
        dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 3, 10, tzinfo=dt.UTC),
    )
    assert ids(read_predictions(store, since, until)) == ["2", "4"]  # until itself is out
    assert ids(read_predictions(store, since, None)) == ["2", "3", "4"]
    assert ids(read_predictions(store, None, until)) == ["1", "2", "4"]
    everything = read_predictions(store, None, None)
    assert ids(everything) == ["1", "2", "3", "4"]
    assert ids(by_model(everything, "cuisine", 1)) == ["1", "2", "4"]
    with pytest.raises(
        DataError,
        match=r"no predictions of cuisine@7 in the window; it holds cuisine@1 \(3\), cuisine@2 \(1\)$",
    ):
        by_model(everything, "cuisine", 7)
    assert by_model(everything.slice(0, 0), "cuisine", 7).num_rows == 0  # nothing to tell
    # Logs of a Lambda of an earlier release named a folder model's name null.
    unnamed = everything.set_column(
        everything.schema.get_field_index("model_name"),
        "model_name",
        pa.array([None, "cuisine", "cuisine", "cuisine"], pa.string()),
    )
    with pytest.raises(
        DataError, match=r"it holds cuisine@1 \(2\), cuisine@2 \(1\), None@1 \(1\)$"
    ):
        by_model(unnamed, "cuisine", 7)
    # A local folder of logs, as `monitor --logs` reads it.
    folder = tmp_path / "logs" / "date=2026-01-01"
    folder.mkdir(parents=True)
    (folder / "part.parquet").write_bytes(sink.getvalue())
    assert ids(read_predictions(store, since, until, tmp_path / "logs")) == ["2"]
    with pytest.raises(DataError, match=r"no such prediction log file or folder$"):
        read_predictions(store, None, None, tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as empty:
        read_predictions(store, None, None, tmp_path / "empty")
    assert str(empty.value) == f"{tmp_path / 'empty'}: no Parquet log files in this folder"
    garbage = tmp_path / "garbage.parquet"
    garbage.write_text("not Parquet at all")
    with pytest.raises(DataError) as refused:
        read_predictions(store, None, None, garbage)
    assert str(refused.value) == (
        f"{garbage}: not a prediction log (Parquet of the log schema): Parquet magic bytes not "
        "found in footer. Either the file is corrupted or this is not a parquet file"
    )
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"id": ["1"], "cuisine": ["thai"]}), other)
    with pytest.raises(DataError) as refused:
        read_predictions(store, None, None, other)
    assert str(refused.value) == (
        f"{other}: not a prediction log (Parquet of the log schema): no column request_id, "
        "timestamp, model_name, model_version, ingredients, confidence, top_cuisines, "
        "top_probabilities, latency_ms"
    )


def test_labels_are_read_from_a_file_or_from_the_store(tmp_path: Path) -> None:
    import json
    import re

    from cuisineflow.errors import DataError
    from cuisineflow.monitoring.window import add_labels, read_labels
    from cuisineflow.storage import Store

    store = Store.open(str(tmp_path / "store"))
    late = tmp_path / "late.jsonl"
    late.write_text('{"id": 7, "cuisine": "Thai"}\n{"id": 8}\n{"id": 9, "cuisine": " greek "}\n')
    assert read_labels(store, late) == {"7": "thai", "9": "greek"}  # a recipe without: none
    assert read_labels(store, None) == {}  # none recorded yet
    assert add_labels(store, late) == 2
    assert read_labels(store, None) == {"7": "thai", "9": "greek"}
    (key,) = store.list("monitoring/labels")
    assert re.fullmatch(r"monitoring/labels/labels-\d{8}T\d{12}-[0-9a-f]{8}\.parquet", key)
    for cuisine in ("chinese", "korean", "thai", "vietnamese", "greek"):  # within a second
        late.write_text(json.dumps({"id": 7, "cuisine": cuisine}))
        add_labels(store, late)
    assert read_labels(store, None) == {"7": "greek", "9": "greek"}  # the last correction
    late.write_text('{"id": 8}\n')
    with pytest.raises(DataError, match=r"^late.jsonl: no recipe has a cuisine: nothing to record"):
        add_labels(store, late)
    # `monitor --labels` refuses it as `labels add` does, not a report without accuracy.
    with pytest.raises(DataError, match=r"^late.jsonl: no recipe has a cuisine: nothing to record"):
        read_labels(store, late)


def _log_row(i: int) -> dict:
    import datetime as dt

    return {"request_id": "r", "timestamp": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            "model_name": "cuisine", "model_version": "1", "id": str(i),
            "ingredients": ["salt"], "cuisine": "thai", "confidence": 0.9,
            "top_cuisines": ["thai"], "top_probabilities": [0.9], "latency_ms": 1.0}  # fmt: skip


def test_one_bad_log_file_is_named_not_a_traceback(tmp_path: Path) -> None:
    import io
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from cuisineflow.errors import DataError
    from cuisineflow.monitoring.log import SCHEMA
    from cuisineflow.monitoring.window import read_predictions
    from cuisineflow.storage import Store

    store = Store.open(str(tmp_path / "store"))
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([_log_row(0), _log_row(1)], schema=SCHEMA), sink)
    store.write_bytes("monitoring/predictions/date=2026-01-01/part-a.parquet", sink.getvalue())
    line = json.dumps({**_log_row(2), "timestamp": "2026-01-01T00:00:00+00:00"})
    store.write_bytes("monitoring/incoming/date=2026-01-01/part-a.jsonl", (line + "\n").encode())
    assert read_predictions(store, None, None).num_rows == 3
    # A Lambda write cut off mid-line.
    cut = "monitoring/incoming/date=2026-01-01/part-b.jsonl"
    store.write_bytes(cut, (line + "\n" + line[:40]).encode())
    with pytest.raises(DataError) as refused:
        read_predictions(store, None, None)
    assert str(refused.value).startswith(
        f"{store.url(cut)}: not a prediction log (JSON Lines of the log schema): line 2: not "
        "JSON (Unterminated string"
    )
    assert str(refused.value).endswith("; move it out of monitoring/incoming/ and run again")
    # A line that is not UTF-8 (its timestamp is fine), and an ingredient UTF-8 cannot
    # write (a lone surrogate, escaped in the JSON).
    latin1 = line.replace('"r"', '"r\u00ff"').encode("latin-1")
    surrogate = json.dumps({**_log_row(2), "timestamp": "2026-01-01T00:00:00+00:00",
                            "ingredients": ["\udc00"]})  # fmt: skip
    for damaged, why in ((latin1, "line 1: not UTF-8"), (surrogate.encode(), "surrogates")):
        store.write_bytes(cut, damaged)
        with pytest.raises(DataError, match=why) as refused:
            read_predictions(store, None, None)
        assert str(refused.value).startswith(f"{store.url(cut)}: not a prediction log")
    store.delete(cut)
    # Something that is not Parquet among the Parquet logs.
    junk = "monitoring/predictions/date=2026-01-01/part-zzz.parquet"
    store.write_bytes(junk, b"not parquet at all")
    with pytest.raises(DataError) as refused:
        read_predictions(store, None, None)
    assert str(refused.value) == (
        f"{store.url(junk)}: not a prediction log (Parquet of the log schema): Parquet magic "
        "bytes not found in footer. Either the file is corrupted or this is not a parquet "
        "file; move it out of monitoring/predictions/ and run again"
    )


def test_a_log_file_lacking_a_column_or_a_value_is_named(tmp_path: Path) -> None:
    import io
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from cuisineflow.monitoring.log import PREFIX, SCHEMA
    from cuisineflow.monitoring.window import BadLogError, read_predictions
    from cuisineflow.storage import Store

    store = Store.open(str(tmp_path / "store"))
    good = pa.Table.from_pylist([_log_row(0), _log_row(1), _log_row(2)], schema=SCHEMA)

    def parquet(table: pa.Table) -> bytes:
        sink = io.BytesIO()
        pq.write_table(table, sink)
        return sink.getvalue()

    store.write_bytes(f"{PREFIX}/date=2026-01-01/part-a.parquet", parquet(good))
    # A recipe sent without an id, and a folder model's null name (an earlier Lambda): logs.
    allowed = good.set_column(4, "id", pa.array([None] * 3, pa.string())).set_column(
        2, "model_name", pa.array([None] * 3, pa.string())
    )
    store.write_bytes(f"{PREFIX}/date=2026-01-01/part-b.parquet", parquet(allowed))
    assert read_predictions(store, None, None).num_rows == 6
    # Read as the log schema, a file without confidence gave nulls: a NaN estimated accuracy.
    bad = f"{PREFIX}/date=2026-01-01/part-c.parquet"
    store.write_bytes(bad, parquet(good.slice(0, 2).drop_columns(["confidence", "latency_ms"])))
    fix = f"; move it out of {PREFIX}/ and run again"
    with pytest.raises(BadLogError) as refused:
        read_predictions(store, None, None)
    assert str(refused.value) == (
        f"{store.url(bad)}: not a prediction log (Parquet of the log schema): no column "
        f"confidence, latency_ms{fix}"
    )
    # The column there, its values null (or NaN), or an ingredient null.
    for column, value in (("confidence", None), ("confidence", float("nan")),
                          ("ingredients", None), ("ingredients", ["salt", None]),
                          ("timestamp", None)):  # fmt: skip
        rows = [_log_row(0), {**_log_row(1), column: value}]
        store.write_bytes(bad, parquet(pa.Table.from_pylist(rows, schema=SCHEMA)))
        with pytest.raises(BadLogError) as refused:
            read_predictions(store, None, None)
        assert str(refused.value) == (
            f"{store.url(bad)}: not a prediction log (Parquet of the log schema): no value in "
            f"{column} of some records{fix}"
        )
    # Within a window too: a null timestamp is in none, and is not left out unsaid.
    since = _log_row(0)["timestamp"]
    with pytest.raises(BadLogError, match="no value in timestamp of some records"):
        read_predictions(store, since, None)
    store.delete(bad)
    assert read_predictions(store, None, None).num_rows == 6
    # A confidence that is no probability: an infinite one was an infinite estimated
    # accuracy, which report.json refused with a traceback.
    for value in (float("inf"), -0.5, 85.0):
        rows = [_log_row(0), {**_log_row(1), "confidence": value}]
        store.write_bytes(bad, parquet(pa.Table.from_pylist(rows, schema=SCHEMA)))
        with pytest.raises(BadLogError) as refused:
            read_predictions(store, None, None)
        assert str(refused.value) == (
            f"{store.url(bad)}: not a prediction log (Parquet of the log schema): a confidence "
            f"outside [0, 1] (no probability) in some records{fix}"
        )
    store.delete(bad)
    # A Lambda log line without a field, or with a null where the Lambda writes a value.
    lambda_log = "monitoring/incoming/date=2026-01-01/part-a.jsonl"
    line = {**_log_row(3), "timestamp": "2026-01-01T00:00:00+00:00"}
    incoming = f"{store.url(lambda_log)}: not a prediction log (JSON Lines of the log schema)"
    fix = "; move it out of monitoring/incoming/ and run again"
    for field in ("confidence", "ingredients"):
        lines = [json.dumps(line), json.dumps({k: v for k, v in line.items() if k != field})]
        store.write_bytes(lambda_log, "\n".join(lines).encode())
        with pytest.raises(BadLogError) as refused:
            read_predictions(store, None, None)
        assert str(refused.value) == f"{incoming}: line 2: no field {field}{fix}"
    store.write_bytes(lambda_log, json.dumps({**line, "confidence": None}).encode())
    with pytest.raises(BadLogError) as refused:
        read_predictions(store, None, None)
    assert str(refused.value) == f"{incoming}: no value in confidence of some records{fix}"
    store.write_bytes(lambda_log, json.dumps({**line, "confidence": float("inf")}).encode())
    with pytest.raises(BadLogError) as refused:  # json.loads reads Infinity
        read_predictions(store, None, None)
    assert str(refused.value) == (
        f"{incoming}: a confidence outside [0, 1] (no probability) in some records{fix}"
    )
    store.write_bytes(lambda_log, json.dumps({k: v for k, v in line.items() if k != "id"}).encode())
    assert read_predictions(store, None, None).num_rows == 7  # a recipe without an id: fine
    # monitor --log checks every file, not the first one's schema alone.
    folder = tmp_path / "logs" / "date=2026-01-01"
    folder.mkdir(parents=True)
    (folder / "part-a.parquet").write_bytes(parquet(good))
    (folder / "part-b.parquet").write_bytes(parquet(good.drop_columns(["confidence"])))
    with pytest.raises(BadLogError) as refused:
        read_predictions(store, None, None, tmp_path / "logs")
    assert str(refused.value) == (
        f"{folder / 'part-b.parquet'}: not a prediction log (Parquet of the log schema): no "
        f"column confidence; move it out of {tmp_path / 'logs'}/ and run again"
    )


def test_a_damaged_or_foreign_labels_file_is_named(tmp_path: Path) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from cuisineflow.monitoring.window import LABELS, BadLogError, add_labels, read_labels
    from cuisineflow.storage import Store

    store = Store.open(str(tmp_path / "store"))
    (tmp_path / "late.jsonl").write_text('{"id": 7, "cuisine": "thai"}\n')
    add_labels(store, tmp_path / "late.jsonl")
    assert read_labels(store, None) == {"7": "thai"}
    odd = f"{LABELS}/labels-zzz.parquet"
    fix = f"; move it out of {LABELS}/ and run again"
    store.write_bytes(odd, b"junk\n")
    with pytest.raises(BadLogError) as refused:
        read_labels(store, None)
    assert str(refused.value) == (
        f"{store.url(odd)}: not labels (Parquet of id and cuisine, as `labels add` writes): "
        f"Parquet file size is 5 bytes, smaller than the minimum file footer (8 bytes){fix}"
    )
    for table, why in (
        (pa.table({"id": ["7"], "label": ["thai"]}), "no column cuisine"),
        (pa.table({"recipe": ["7"]}), "no column id"),
        (pa.table({"id": [7], "cuisine": ["thai"]}), "column id is not text in every row"),
        (pa.table({"id": ["7"], "cuisine": [None]}), "column cuisine is not text in every row"),
    ):
        sink = io.BytesIO()
        pq.write_table(table, sink)
        store.write_bytes(odd, sink.getvalue())
        with pytest.raises(BadLogError) as refused:
            read_labels(store, None)
        assert str(refused.value) == (
            f"{store.url(odd)}: not labels (Parquet of id and cuisine, as `labels add` "
            f"writes): {why}{fix}"
        )
    store.delete(odd)
    assert read_labels(store, None) == {"7": "thai"}


def test_an_alpha_the_monte_carlo_tests_cannot_reach_is_refused(tmp_path: Path) -> None:
    from cuisineflow.errors import DataError
    from cuisineflow.params import load_params

    params = tmp_path / "params.yaml"
    # 10,000 draws: the smallest p-value is 1/10,001, under 0.0001 but never under 0.00005.
    one_bin = np.array([0.0] * 19 + [3500.0])
    moved = np.array([0.0] * 5 + [100.0] + [0.0] * 14)
    assert two_sample_p_value(one_bin, moved) == 1 / 10_001
    params.write_text("monitor:\n  alpha: 0.0001\n")
    assert load_params(params).monitor.alpha == 0.0001
    params.write_text("monitor:\n  alpha: 0.00005\n")
    with pytest.raises(DataError) as refused:
        load_params(params)
    assert str(refused.value) == (
        f"{params}: monitor.alpha: 5e-05 is under 0.0001, the smallest allowed: the tests of "
        "cuisine mix, confidence and ingredients per recipe draw 10,000 Monte Carlo samples, "
        "so their p-values never fall under 1/10,001 and they could never alert"
    )


class _FailingDay:
    """A store that cannot take one day's log file (a write refused, say)."""

    def __init__(self, day: str) -> None:
        self.day, self.keys = day, []

    def write_bytes(self, key: str, data: bytes) -> None:
        if f"date={self.day}/" in key:
            raise OSError(f"refused: {key}")
        self.keys.append(key)


def test_a_flush_that_fails_on_one_day_drops_that_days_records_only() -> None:
    from cuisineflow.monitoring.log import PredictionLogger

    store = _FailingDay("2026-01-02")
    logger = PredictionLogger(store, flush_seconds=60)
    told: list[int] = []
    logger.on_drop = told.append
    logger.log([log_row(1, 1, 10), log_row(2, 1, 11), *(log_row(n, 2, 10) for n in (3, 4, 5))])
    assert logger.flush() == 2
    assert [key.split("/")[2] for key in store.keys] == ["date=2026-01-01"]
    assert (logger.written, logger.dropped, told) == (2, 3, [3])
    logger.close()
    assert (logger.written, logger.dropped) == (2, 3)


class _SlowStore:
    """A store whose writes take their time: each waits until released (or 5 s)."""

    def __init__(self) -> None:
        import threading

        self.started, self.release = threading.Event(), threading.Event()
        self.keys: list[str] = []

    def write_bytes(self, key: str, data: bytes) -> None:
        self.started.set()
        self.release.wait(5)
        self.keys.append(key)


def test_close_gives_up_a_write_in_flight_and_counts_it_dropped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from cuisineflow.monitoring import log
    from cuisineflow.monitoring.log import PredictionLogger

    monkeypatch.setattr(log, "CLOSE_TIMEOUT", 0.2, raising=False)  # not 30 s
    store = _SlowStore()
    logger = PredictionLogger(store, flush_records=3, flush_seconds=60)
    told: list[int] = []
    logger.on_drop = told.append
    logger.log([log_row(n, 1, 10) for n in (1, 2, 3)])  # a full batch: the thread writes it
    assert store.started.wait(5)
    logger.close()  # the write is still in flight: given up, so predict --log can say so
    assert (logger.written, logger.dropped, told) == (0, 3, [3])
    assert "dropped 3 prediction log records: their write was still in flight after 0.2 s" in (
        caplog.text
    )
    # The write ends after all: its records were counted once, as dropped, not again.
    store.release.set()
    logger._thread.join(5)
    assert len(store.keys) == 1
    assert (logger.written, logger.dropped, told) == (0, 3, [3])


def test_monitor_log_reads_parquet_logs_and_says_so(tmp_path: Path) -> None:
    import json

    import typer.main

    from cuisineflow.cli import app
    from cuisineflow.monitoring.window import BadLogError, read_predictions
    from cuisineflow.storage import Store

    monitor = typer.main.get_command(app).commands["monitor"]  # type: ignore[attr-defined]
    (option,) = [p for p in monitor.params if p.name == "log"]
    assert option.help == (
        "Read Parquet logs (the server's and predict --log's) from this file or folder "
        "instead of the store."
    )
    # The Lambda's JSON Lines there are named as not Parquet, as the help says.
    folder = tmp_path / "logs" / "date=2026-01-01"
    folder.mkdir(parents=True)
    line = {**_log_row(0), "timestamp": "2026-01-01T00:00:00+00:00"}
    (folder / "part-a.jsonl").write_text(json.dumps(line) + "\n")
    with pytest.raises(BadLogError) as refused:
        read_predictions(Store.open(str(tmp_path / "store")), None, None, tmp_path / "logs")
    assert str(refused.value) == (
        f"{folder / 'part-a.jsonl'}: not a prediction log (Parquet of the log schema): Parquet "
        "magic bytes not found in footer. Either the file is corrupted or this is not a parquet "
        f"file; move it out of {tmp_path / 'logs'}/ and run again"
    )
