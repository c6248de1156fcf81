"""Training, export to plain arrays, and the artifact that loads without pickle."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from cuisineflow.errors import CuisineflowError
from cuisineflow.features import Featurizer
from cuisineflow.models import linear, train
from cuisineflow.models.artifact import ModelError, load_model, plain_file_name, save_model
from cuisineflow.params import FeatureBlockParams, TrainParams, TreesParams
from tests.conftest import make_recipes

BLOCKS = [
    FeatureBlockParams(analyzer="words_and_bigrams"),
    FeatureBlockParams(analyzer="word_pairs"),
]


@pytest.fixture(scope="module")
def data() -> tuple[Featurizer, object, list[str]]:
    recipes = make_recipes(80)
    ingredients = [r["ingredients"] for r in recipes]
    labels = [r["cuisine"] for r in recipes]
    featurizer = Featurizer.fit(BLOCKS, ingredients)
    return featurizer, featurizer.transform(ingredients), labels


@pytest.mark.parametrize("model", ["linear_svc", "logistic_regression"])
@pytest.mark.parametrize("calibration", ["temperature", "sigmoid"])
def test_exported_arrays_reproduce_scikit_learn(data: tuple, model: str, calibration: str) -> None:
    _, features, labels = data
    params = TrainParams(model=model, calibration=calibration, calibration_folds=3)
    estimator = train.build_estimator(params).fit(features, np.asarray(labels))
    exported = train.export(estimator)
    assert exported.classes == ("chinese", "indian", "italian", "mexican")
    np.testing.assert_allclose(
        exported.predict_proba(features), estimator.predict_proba(features), atol=1e-5
    )


@pytest.mark.parametrize("model", ["linear_svc", "logistic_regression"])
@pytest.mark.parametrize("calibration", ["temperature", "sigmoid"])
def test_two_cuisines_export_both_scores(data: tuple, model: str, calibration: str) -> None:
    # scikit-learn keeps one row of coefficients for two classes.
    _, features, labels = data
    rows = [i for i, label in enumerate(labels) if label in ("indian", "mexican")]
    two = [labels[i] for i in rows]
    params = TrainParams(model=model, calibration=calibration, calibration_folds=3)
    estimator = train.build_estimator(params).fit(features[rows], np.asarray(two))
    exported = train.export(estimator)
    expected = estimator.predict_proba(features[rows])
    np.testing.assert_allclose(exported.predict_proba(features[rows]), expected, atol=1e-5)
    assert (expected.argmax(axis=1) == [exported.classes.index(label) for label in two]).all()


def test_one_cuisine_is_a_clear_error(data: tuple) -> None:
    _, features, labels = data
    rows = [i for i, label in enumerate(labels) if label == "indian"]
    with pytest.raises(CuisineflowError, match="at least two cuisines; these 20 are all indian"):
        train.fit(features[rows], ["indian"] * len(rows), TrainParams(calibration_folds=3))


def test_a_cuisine_thinner_than_the_calibration_folds_is_a_clear_error(data: tuple) -> None:
    _, features, labels = data
    rows = [i for i, label in enumerate(labels) if label in ("indian", "mexican")]
    mexican = [i for i in rows if labels[i] == "mexican"][2:]  # leaves 2 mexican recipes
    rows = [i for i in rows if i not in mexican]
    kept = [labels[i] for i in rows]
    with pytest.raises(
        CuisineflowError,
        match=r"^train.calibration_folds is 3, more than the recipes of mexican \(2\): lower",
    ):
        train.fit(features[rows], kept, TrainParams(calibration_folds=3))
    assert train.fit(features[rows], kept, TrainParams(calibration_folds=2)).classes == (
        "indian",
        "mexican",
    )


def test_training_is_deterministic(data: tuple) -> None:
    _, features, labels = data
    first = train.fit(features, labels, TrainParams(calibration_folds=3))
    second = train.fit(features, labels, TrainParams(calibration_folds=3))
    np.testing.assert_array_equal(first.coef, second.coef)
    np.testing.assert_array_equal(first.calibration_params, second.calibration_params)


@pytest.fixture
def artifact(data: tuple, tmp_path: Path) -> Path:
    featurizer, features, labels = data
    classifier = train.fit_ensemble(featurizer, features, labels, TrainParams(calibration_folds=3))
    save_model(tmp_path / "model", featurizer, classifier)
    return tmp_path / "model"


def test_artifact_round_trip(artifact: Path, data: tuple) -> None:
    featurizer, features, labels = data
    loaded_featurizer, classifier, spec = load_model(artifact)
    assert spec["format"] == "cuisineflow-linear"
    assert spec["format_version"] == 2
    assert spec["trees"] == {"weight": 0.3}
    assert sorted(spec["sha256"]) == [
        "calibration.npy", "coef.npy", "featurizer.json", "idf-0.npy", "idf-1.npy",
        "intercept.npy", "terms-0.txt", "terms-1.txt", "trees-leaf_value.npy",
        "trees-node_feature.npy", "trees-node_mask.npy", "trees-node_tree.npy",
    ]  # fmt: skip
    again = loaded_featurizer.transform([["soy sauce", "ginger"]])
    assert (again != featurizer.transform([["soy sauce", "ginger"]])).nnz == 0
    steps: list[str] = []
    fitted = train.fit_ensemble(
        featurizer, features, labels, TrainParams(calibration_folds=3), steps.append
    )
    assert steps[0].startswith(f"fitting linear_svc on {features.shape[0]:,} recipes")
    assert steps[1].startswith("fitting 100 rounds of trees for ")  # each long step, as it starts
    np.testing.assert_array_equal(
        classifier.predict_proba(features), fitted.predict_proba(features)
    )  # training is deterministic and the artifact loses nothing


def test_plain_rows_score_as_the_scipy_matrix_does(artifact: Path) -> None:
    # Serving scores plain CSR arrays in chunks of rows; training scores scipy's matrix.
    featurizer, classifier, _ = load_model(artifact)
    recipes = [r["ingredients"] for r in make_recipes(150)]
    for empty in (0, 63, 64, 65, 149):  # no known term: rows at and around chunk edges
        recipes[empty] = ["unheard of"]
    assert len(recipes) > 2 * linear.ROWS_PER_CHUNK
    plain = classifier.linear.scores(featurizer.rows(recipes))
    np.testing.assert_allclose(
        plain, classifier.linear.scores(featurizer.transform(recipes)), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_array_equal(plain[64], classifier.linear.intercept)


def test_linear_only_artifacts_of_format_1_still_load(data: tuple, tmp_path: Path) -> None:
    featurizer, features, labels = data
    params = TrainParams(calibration_folds=3, trees=TreesParams(weight=0))
    classifier = train.fit_ensemble(featurizer, features, labels, params)
    assert classifier.trees is None
    spec = save_model(tmp_path, featurizer, classifier)
    assert spec["format_version"] == 1  # nothing in it that a reader of format 1 would miss
    del spec["trees"]
    spec["format_version"] = 1  # as written before trees existed
    (tmp_path / "model.json").write_text(json.dumps(spec))
    _, loaded, _ = load_model(tmp_path)
    np.testing.assert_array_equal(
        loaded.predict_proba(features), classifier.linear.predict_proba(features)
    )


def test_tampered_artifact_is_refused(artifact: Path) -> None:
    coef = np.load(artifact / "coef.npy")
    coef[0, 0] += 1.0
    np.save(artifact / "coef.npy", coef)
    with pytest.raises(ModelError, match=r"coef.npy does not match its checksum: refusing to load"):
        load_model(artifact)


def test_an_artifact_reads_no_file_outside_its_folder(artifact: Path, tmp_path: Path) -> None:
    # model.json and featurizer.json sit in the same folder as what they check: a tampered
    # pair could point the vocabulary at any file the server can read.
    secret = tmp_path / "secret.txt"
    secret.write_text("not a vocabulary\n")
    blocks = json.loads((artifact / "featurizer.json").read_text())
    blocks[0]["terms"] = str(secret)
    (artifact / "featurizer.json").write_text(json.dumps(blocks))
    spec = json.loads((artifact / "model.json").read_text())
    spec["blocks"][0]["terms"] = str(secret)
    spec["sha256"]["featurizer.json"] = hashlib.sha256(
        (artifact / "featurizer.json").read_bytes()
    ).hexdigest()
    (artifact / "model.json").write_text(json.dumps(spec))
    with pytest.raises(ModelError, match=r"is not a file name of a model folder: refusing it"):
        load_model(artifact)


def test_a_link_or_an_unlisted_file_in_an_artifact_is_refused(
    artifact: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret0\nsecret1\n")
    spec = json.loads((artifact / "model.json").read_text())
    del spec["sha256"]["terms-0.txt"]  # unlisted, so unchecked: it could be anything
    (artifact / "model.json").write_text(json.dumps(spec))
    with pytest.raises(ModelError, match=r"terms-0.txt not listed in model.json's checksums"):
        load_model(artifact)
    spec["sha256"]["terms-0.txt"] = hashlib.sha256(secret.read_bytes()).hexdigest()
    (artifact / "model.json").write_text(json.dumps(spec))
    (artifact / "terms-0.txt").unlink()
    (artifact / "terms-0.txt").symlink_to(secret)  # listed, and its target matches
    with pytest.raises(ModelError, match=r"terms-0.txt is a symbolic link: refusing to load"):
        load_model(artifact)


def test_a_linked_model_json_is_refused(artifact: Path, tmp_path: Path) -> None:
    # The checksums it lists would vouch for whatever folder the link leads to.
    elsewhere = tmp_path / "elsewhere.json"
    (artifact / "model.json").rename(elsewhere)
    (artifact / "model.json").symlink_to(elsewhere)
    with pytest.raises(ModelError, match=r"model\.json is a symbolic link: refusing to load"):
        load_model(artifact)


def test_tree_arrays_must_be_listed_in_the_checksums(artifact: Path) -> None:
    spec = json.loads((artifact / "model.json").read_text())
    assert spec["trees"]  # this artifact has trees
    del spec["sha256"]["trees-leaf_value.npy"]
    (artifact / "model.json").write_text(json.dumps(spec))
    with pytest.raises(ModelError, match=r"trees-leaf_value\.npy not listed in model\.json"):
        load_model(artifact)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "sklearn-pickle"}, r"unknown model format 'sklearn-pickle' version 2"),
        ({"format_version": 3}, r"unknown model format 'cuisineflow-linear' version 3"),
        ({"format_version": None}, r"unknown model format 'cuisineflow-linear' version None"),
    ],
)
def test_an_unknown_format_or_version_is_refused(
    artifact: Path, changes: dict, message: str
) -> None:
    spec = json.loads((artifact / "model.json").read_text())
    (artifact / "model.json").write_text(json.dumps(spec | changes))
    with pytest.raises(ModelError, match=message):
        load_model(artifact)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([1, 2], r"model\.json: not a model spec \(a JSON object\)"),
        ({"sha256": None}, r"model\.json: sha256 missing or malformed"),
        ({"classes": "thai", "blocks": {}}, r"model\.json: classes, blocks missing or malformed"),
        ({"blocks": [1]}, r"model\.json: blocks missing or malformed"),
        ({"blocks": [{}]}, r"model\.json: blocks missing or malformed"),
        ({"trees": 0.3}, r"model\.json: trees missing or malformed"),
    ],
)
def test_a_malformed_spec_is_refused_by_name(artifact: Path, spec: object, message: str) -> None:
    whole = json.loads((artifact / "model.json").read_text())
    (artifact / "model.json").write_text(
        json.dumps(whole | spec if isinstance(spec, dict) else spec)
    )
    with pytest.raises(ModelError, match=message):
        load_model(artifact)


def _drop_first_class(spec: dict) -> dict:
    return spec | {"classes": spec["classes"][1:]}


def _rename_first_block(spec: dict) -> dict:
    blocks = [dict(spec["blocks"][0], params={"analyzer": "letters"}), *spec["blocks"][1:]]
    return spec | {"blocks": blocks}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_drop_first_class, r"coef\.npy holds float32 \(4, \d+\), but model\.json's 3 classes"),
        (lambda s: s | {"classes": ["thai"] * 4}, r"classes name a cuisine twice"),
        (lambda s: s | {"classes": [1, 2, 3, 4]}, r"classes must be names of cuisines"),
        (lambda s: s | {"calibration": "isotonic"}, r"unknown calibration 'isotonic'"),
        (lambda s: s | {"calibration": "sigmoid"}, r"calibration\.npy holds float\d+ \(1,\)"),
        (_rename_first_block, r"model\.json: blocks malformed \(analyzer: Input should be"),
        (lambda s: s | {"trees": {}}, r"trees' weight None is not between 0 and 1"),
        (lambda s: s | {"trees": {"weight": "0.3"}}, r"trees' weight '0\.3' is not between"),
        (lambda s: s | {"trees": {"weight": 1.5}}, r"trees' weight 1\.5 is not between"),
    ],
)
def test_a_spec_that_disagrees_with_its_arrays_is_refused(
    artifact: Path, change: object, message: str
) -> None:
    # The checksums vouch for the arrays, not for model.json: a spec edited by hand (or by
    # another version of the code) must fail on loading, not at the first prediction.
    spec = json.loads((artifact / "model.json").read_text())
    (artifact / "model.json").write_text(json.dumps(change(spec)))  # type: ignore[operator]
    with pytest.raises(ModelError, match=message):
        load_model(artifact)


def _shortened(idf: np.ndarray) -> np.ndarray:
    return idf[:-10]


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("idf-0.npy", _shortened, r"idf-0\.npy: holds float32 \(\d+,\), but terms-0\.txt's"),
        ("idf-0.npy", lambda idf: idf[:, None], r"idf-0\.npy: holds float32 \(\d+, 1\), but"),
        ("idf-1.npy", lambda idf: idf.astype(np.int64), r"idf-1\.npy: holds int64 \(\d+,\)"),
        ("terms-1.txt", lambda terms: b"\xff" + terms, r"terms-1\.txt: the terms are not UTF-8"),
    ],
)
def test_a_featurizer_whose_files_disagree_is_refused(
    artifact: Path, name: str, change: object, message: str
) -> None:
    # Checksums vouch for each file, not that the terms and IDF weights agree: a mismatch
    # would fail (or score wrong columns) only at prediction time.
    path = artifact / name
    if name.endswith(".npy"):
        np.save(path, change(np.load(path)))  # type: ignore[operator]
    else:
        path.write_bytes(change(path.read_bytes()))  # type: ignore[operator]
    spec = json.loads((artifact / "model.json").read_text())
    spec["sha256"][name] = hashlib.sha256(path.read_bytes()).hexdigest()
    (artifact / "model.json").write_text(json.dumps(spec))
    with pytest.raises(ModelError, match=message) as refused:
        load_model(artifact)
    assert str(refused.value).startswith(str(path))  # the file is named whole
    if change is _shortened:
        terms = len((artifact / "terms-0.txt").read_text().splitlines())
        assert f"({terms - 10},), but terms-0.txt's {terms} terms need floats ({terms},)" in str(
            refused.value
        )


def test_a_sigmoid_calibrated_artifact_loads(data: tuple, tmp_path: Path) -> None:
    featurizer, features, labels = data
    params = TrainParams(calibration="sigmoid", calibration_folds=3)
    classifier = train.fit_ensemble(featurizer, features, labels, params)
    save_model(tmp_path, featurizer, classifier)
    _, loaded, _ = load_model(tmp_path)
    assert loaded.linear.calibration_params.shape == (2, 4)
    np.testing.assert_array_equal(
        loaded.predict_proba(features), classifier.predict_proba(features)
    )


@pytest.mark.parametrize(
    "name", ["", ".", "..", "a/b", "/etc/passwd", "a\\b", "..\\x", "c:x", "C:", "a\0b", 5, None]
)
def test_plain_file_name_refuses_anything_but_a_plain_name(name: object) -> None:
    # Each of these, from a tampered model.json, would name a file outside the folder.
    with pytest.raises(ModelError, match="is not a file name of a model folder"):
        plain_file_name(name, "model.json")


def test_plain_file_name_keeps_a_plain_name() -> None:
    assert plain_file_name("terms-0.txt", "model.json") == "terms-0.txt"
    assert plain_file_name("..hidden", "model.json") == "..hidden"  # dots, but no ".." part


def test_partial_artifact_is_refused(artifact: Path) -> None:
    (artifact / "terms-1.txt").unlink()
    with pytest.raises(ModelError, match=r"terms-1\.txt is missing: the artifact is partial"):
        load_model(artifact)


def test_pickled_arrays_are_never_loaded(artifact: Path) -> None:
    spec = json.loads((artifact / "model.json").read_text())
    np.save(artifact / "intercept.npy", np.array([object()], dtype=object), allow_pickle=True)
    spec["sha256"]["intercept.npy"] = (
        __import__("hashlib").sha256((artifact / "intercept.npy").read_bytes()).hexdigest()
    )
    (artifact / "model.json").write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="allow_pickle=False"):
        load_model(artifact)


def test_not_a_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"no model\.json; not a cuisineflow model folder"):
        load_model(tmp_path)
