"""Drift statistics on generated scenarios: no alarm on fresh samples, alarms on clear changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cuisineflow.monitoring.drift import alerts, compare, js_distance, two_sample_p_value
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
    return report, alerts(report, PARAMS)


def test_distances_and_tests_by_hand() -> None:
    assert js_distance(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)
    assert js_distance(np.array([2.0, 2.0]), np.array([5.0, 5.0])) == pytest.approx(0.0)
    assert two_sample_p_value(np.array([500.0, 500.0]), np.array([50.0, 50.0])) == pytest.approx(
        1.0
    )
    assert two_sample_p_value(np.array([500.0, 500.0]), np.array([90.0, 10.0])) < 1e-6


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
