"""Evaluation metrics against numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cuisineflow.models.metrics import (
    accuracy_interval,
    calibration_bins,
    confusion_matrix,
    evaluate,
    expected_calibration_error,
    macro_f1,
    per_class,
    top_k_accuracy,
)

# Three classes. Truth and predictions chosen so that
#   confusion = [[3, 1, 0],
#                [0, 2, 2],
#                [1, 0, 1]]
TRUTH = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
PREDICTED = np.array([0, 0, 0, 1, 1, 1, 2, 2, 0, 2])


def test_confusion_and_per_class_by_hand() -> None:
    confusion = confusion_matrix(TRUTH, PREDICTED, 3)
    assert confusion.tolist() == [[3, 1, 0], [0, 2, 2], [1, 0, 1]]
    table = per_class(confusion)
    # precision = diagonal / column sums: 3/4, 2/3, 1/3
    np.testing.assert_allclose(table["precision"], [0.75, 2 / 3, 1 / 3])
    # recall = diagonal / row sums: 3/4, 2/4, 1/2
    np.testing.assert_allclose(table["recall"], [0.75, 0.5, 0.5])
    # f1 = 2pr/(p+r): 0.75, 4/7, 0.4
    np.testing.assert_allclose(table["f1"], [0.75, 4 / 7, 0.4])
    np.testing.assert_array_equal(table["support"], [4, 4, 2])


def test_a_class_never_predicted_has_zero_precision_not_nan() -> None:
    table = per_class(confusion_matrix(np.array([0, 1]), np.array([0, 0]), 2))
    assert table["precision"].tolist() == [0.5, 0.0]
    assert table["f1"].tolist() == [pytest.approx(2 / 3), 0.0]


def test_top_k() -> None:
    probabilities = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.4, 0.35, 0.25]])
    truth = np.array([1, 2, 2])
    assert top_k_accuracy(probabilities, truth, 1) == pytest.approx(1 / 3)
    assert top_k_accuracy(probabilities, truth, 2) == pytest.approx(2 / 3)
    assert top_k_accuracy(probabilities, truth, 3) == 1.0
    # The most probable, not the least: the example above gives 1/3 and 2/3 either way.
    assert top_k_accuracy(probabilities, np.array([0, 2, 0]), 1) == 1.0
    assert top_k_accuracy(probabilities, np.array([2, 0, 2]), 1) == 0.0


def test_top_1_breaks_ties_as_argmax_does() -> None:
    # evaluate() predicts by argmax: top-1 accuracy must agree with its accuracy on ties.
    probabilities = np.array([[0.1] * 5 + [0.25, 0.25]])
    assert probabilities.argmax(axis=1).tolist() == [5]
    assert top_k_accuracy(probabilities, np.array([5]), 1) == 1.0


def test_calibration_error_by_hand() -> None:
    # Two bins of width 0.5. Bin (0.5, 1]: confidences 0.9, 0.7, accuracy 1/2 -> gap |0.5-0.8|.
    # Bin [0, 0.5]: confidence 0.4 (correct) -> gap |1-0.4|.
    probabilities = np.array([[0.9, 0.1, 0.0], [0.3, 0.7, 0.0], [0.4, 0.3, 0.3]])
    truth = np.array([0, 0, 0])
    bins = calibration_bins(probabilities, truth, 2)
    assert [b["count"] for b in bins] == [1, 2]
    assert bins[1]["confidence"] == pytest.approx(0.8)
    assert bins[1]["accuracy"] == pytest.approx(0.5)
    expected = (1 * abs(1 - 0.4) + 2 * abs(0.5 - 0.8)) / 3
    assert expected_calibration_error(probabilities, truth, 2) == pytest.approx(expected)


def test_calibration_bins_edges_and_empty_bins() -> None:
    probabilities = np.array([[0.9, 0.1, 0.0], [0.3, 0.7, 0.0], [0.4, 0.3, 0.3]])
    bins = calibration_bins(probabilities, np.array([0, 0, 0]), 4)
    assert [(b["lower"], b["upper"]) for b in bins] == [
        (0.0, 0.25),
        (0.25, 0.5),
        (0.5, 0.75),
        (0.75, 1.0),
    ]
    # An empty bin reports zeros, not the nan of a mean of nothing.
    assert bins[0] == {"lower": 0.0, "upper": 0.25, "count": 0, "confidence": 0.0, "accuracy": 0.0}


def test_evaluate_summary() -> None:
    probabilities = np.eye(3)[PREDICTED] * 0.8 + 0.2 / 3
    result = evaluate(probabilities, TRUTH, ("a", "b", "c"), n_bins=10, k=2)
    assert result["accuracy"] == pytest.approx(0.6)
    assert (result["accuracy_ci_low"], result["accuracy_ci_high"]) == accuracy_interval(6, 10)
    assert result["macro_f1"] == pytest.approx((0.75 + 4 / 7 + 0.4) / 3)
    assert result["per_cuisine"]["b"]["recall"] == pytest.approx(0.5)
    assert result["n"] == 10


def test_evaluate_reports_confusion_calibration_and_ece() -> None:
    probabilities = np.array([[0.9, 0.1, 0.0], [0.3, 0.7, 0.0], [0.4, 0.3, 0.3]])
    result = evaluate(probabilities, np.array([0, 0, 0]), ("a", "b", "c"), n_bins=2, k=1)
    assert result["confusion"] == [[2, 1, 0], [0, 0, 0], [0, 0, 0]]
    assert all(type(v) is int for row in result["confusion"] for v in row)  # JSON 2, not 2.0
    assert [b["count"] for b in result["calibration"]] == [1, 2]
    # As in test_calibration_error_by_hand: gaps 0.6 (one row) and 0.3 (two rows).
    assert result["expected_calibration_error"] == pytest.approx((0.6 + 2 * 0.3) / 3)


def test_macro_f1_averages_the_cuisines_that_occur() -> None:
    # "c" is neither labelled nor predicted: no mistake, so not an F1 of 0 in the mean.
    truth, predicted = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
    probabilities = np.eye(3)[predicted] * 0.8 + 0.2 / 3
    f1_a, f1_b = 2 * 1 * 0.5 / 1.5, 2 * (2 / 3) * 1 / (5 / 3)  # by hand: 0.667 and 0.8
    assert evaluate(probabilities, truth, ("a", "b", "c"), 5, 1)["macro_f1"] == pytest.approx(
        (f1_a + f1_b) / 2
    )


def test_macro_f1_counts_cuisines_labelled_or_predicted() -> None:
    # Class 2 predicted but never labelled, class 3 labelled but never predicted: both occur,
    # so both count, at F1 0.
    confusion = confusion_matrix(np.array([0, 0, 1, 3]), np.array([0, 2, 1, 1]), 4)
    table = per_class(confusion)
    assert table["recall"].tolist() == [0.5, 1.0, 0.0, 0.0]  # 0, not nan, for no support
    assert table["precision"].tolist() == [1.0, 0.5, 0.0, 0.0]
    assert macro_f1(confusion) == pytest.approx(1 / 3)  # = sklearn f1_score(average="macro")


def test_accuracy_interval_is_wilsons() -> None:
    # Wilson's 95% interval of 8 successes in 10: 0.4902 to 0.9433 (the textbook example).
    low, high = accuracy_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    # Never outside [0, 1], even at 0 or n correct, and narrower with more recipes.
    for n in range(1, 400):  # floats once gave 1.0000000000000002 and -2.8e-17
        assert accuracy_interval(n, n)[1] <= 1.0
        assert accuracy_interval(0, n)[0] >= 0.0
    assert accuracy_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)
    assert accuracy_interval(10, 10)[1] == pytest.approx(1.0, abs=1e-12)
    # One recipe, right: Wilson's interval is 0.2065 to 1, not the point 1.
    low, high = accuracy_interval(1, 1)
    assert low == pytest.approx(0.2065, abs=1e-4)
    assert high == pytest.approx(1.0)
    assert accuracy_interval(2830, 3538)[1] - accuracy_interval(2830, 3538)[0] < 0.027
    with pytest.raises(ValueError, match="at least one"):
        accuracy_interval(0, 0)
