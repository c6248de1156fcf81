"""Model construction and fitting (scikit-learn, LightGBM), then export to plain arrays."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from cuisineflow.errors import CuisineflowError
from cuisineflow.features import Featurizer
from cuisineflow.models import boosting
from cuisineflow.models.ensemble import Ensemble
from cuisineflow.models.linear import LinearClassifier
from cuisineflow.params import TrainParams


def build_estimator(params: TrainParams) -> CalibratedClassifierCV:
    """The model params.yaml names, wrapped in cross-validated probability calibration."""
    if params.model == "linear_svc":
        base = LinearSVC(C=params.C, max_iter=params.max_iter, random_state=params.seed)
    else:
        base = LogisticRegression(C=params.C, max_iter=params.max_iter, random_state=params.seed)
    # ensemble=False: one model fit on all rows; the calibrator learns from out-of-fold scores.
    return CalibratedClassifierCV(
        base, method=params.calibration, cv=params.calibration_folds, ensemble=False
    )


def fit_ensemble(
    featurizer: Featurizer,
    features: sp.csr_matrix,
    labels: Sequence[str],
    params: TrainParams,
    progress: Callable[[str], None] = lambda _: None,
) -> Ensemble:
    """The calibrated linear model, then boosted trees when train.trees.weight is above 0.

    progress is told each step as it starts (a minute or more each on the full data).
    """
    progress(
        f"fitting {params.model} on {features.shape[0]:,} recipes and {features.shape[1]:,} "
        f"features, calibrated on {params.calibration_folds} folds"
    )
    linear = fit(features, labels, params)
    if params.trees.weight == 0:
        return Ensemble(linear)
    columns = boosting.tree_columns(featurizer, features, params.trees)
    progress(f"fitting {params.trees.rounds} rounds of trees for {len(linear.classes)} cuisines "
             f"on {len(columns):,} features")  # fmt: skip
    trees = boosting.fit(features, labels, linear.classes, columns, params.trees, params.seed)
    return Ensemble(linear, trees, params.trees.weight)


def fit(features: sp.csr_matrix, labels: Sequence[str], params: TrainParams) -> LinearClassifier:
    """Fit and calibrate; return the model as arrays (no scikit-learn object survives)."""
    cuisines = sorted(set(labels))
    if len(cuisines) < 2:
        raise CuisineflowError(
            f"training needs recipes of at least two cuisines; these {len(labels)} are all "
            f"{cuisines[0] if cuisines else 'unlabelled'}"
        )
    counts = Counter(labels)
    thin = sorted(c for c in cuisines if counts[c] < params.calibration_folds)
    if thin:  # stratified calibration folds need a recipe of each cuisine in every fold
        raise CuisineflowError(
            f"train.calibration_folds is {params.calibration_folds}, more than the recipes of "
            f"{', '.join(f'{c} ({counts[c]})' for c in thin)}: lower calibration_folds, or "
            "give those cuisines more recipes"
        )
    estimator = build_estimator(params).fit(features, np.asarray(labels))
    return export(estimator)


def export(estimator: CalibratedClassifierCV) -> LinearClassifier:
    """The fitted linear model and its calibrator as plain arrays."""
    (calibrated,) = estimator.calibrated_classifiers_
    linear = calibrated.estimator
    classes = tuple(str(c) for c in estimator.classes_)
    if estimator.method == "temperature":
        (scaler,) = calibrated.calibrators
        parameters = np.array([scaler.beta_], dtype=np.float64)
    else:
        a = np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64)
        b = np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64)
        parameters = np.vstack([a, b])
    coef, intercept = linear.coef_, linear.intercept_
    if len(classes) == 2:
        # scikit-learn keeps one score s for the second class of two; calibration reads it
        # as the logits (-s, s), and a sigmoid (a, b) of s as 1 - sigmoid(a, -b) of -s.
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
        if estimator.method == "sigmoid":
            (a, b) = parameters[:, 0]
            parameters = np.array([[a, a], [-b, b]], dtype=np.float64)
    return LinearClassifier(
        classes=classes,
        coef=np.asarray(coef, dtype=np.float32),
        intercept=np.asarray(intercept, dtype=np.float32),
        calibration=estimator.method,
        calibration_params=parameters,
    )
