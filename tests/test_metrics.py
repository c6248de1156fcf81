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


def test_evaluate_summary() -> None:
    probabilities = np.eye(3)[PREDICTED] * 0.8 + 0.2 / 3
    result = evaluate(probabilities, TRUTH, ("a", "b", "c"), n_bins=10, k=2)
    assert result["accuracy"] == pytest.approx(0.6)
    assert (result["accuracy_ci_low"], result["accuracy_ci_high"]) == accuracy_interval(6, 10)
    assert result["macro_f1"] == pytest.approx((0.75 + 4 / 7 + 0.4) / 3)
    assert result["per_cuisine"]["b"]["recall"] == pytest.approx(0.5)
    assert result["n"] == 10


def test_macro_f1_averages_the_cuisines_that_occur() -> None:
    # "c" is neither labelled nor predicted: no mistake, so not an F1 of 0 in the mean.
    truth, predicted = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
    probabilities = np.eye(3)[predicted] * 0.8 + 0.2 / 3
    f1_a, f1_b = 2 * 1 * 0.5 / 1.5, 2 * (2 / 3) * 1 / (5 / 3)  # by hand: 0.667 and 0.8
    assert evaluate(probabilities, truth, ("a", "b", "c"), 5, 1)["macro_f1"] == pytest.approx(
        (f1_a + f1_b) / 2
    )


def test_accuracy_interval_is_wilsons() -> None:
    # Wilson's 95% interval of 8 successes in 10: 0.4902 to 0.9433 (the textbook example).
    low, high = accuracy_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    # Never outside [0, 1], even at 0 or n correct, and narrower with more recipes.
    assert accuracy_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)
    assert accuracy_interval(10, 10)[1] == pytest.approx(1.0, abs=1e-12)
    assert accuracy_interval(2830, 3538)[1] - accuracy_interval(2830, 3538)[0] < 0.027
    with pytest.raises(ValueError, match="at least one"):
        accuracy_interval(0, 0)
