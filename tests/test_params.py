"""params.yaml: every key checked, by type and across sections, before any stage runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cuisineflow.errors import DataError
from cuisineflow.params import load_params
from tests.conftest import PROJECT


def test_the_projects_params_load() -> None:
    params = load_params(PROJECT / "params.yaml")
    assert (params.split.seed, params.evaluate.top_k, params.train.C) == (42, 3, 0.5)


def test_an_alias_the_registry_takes_the_params_take() -> None:
    from cuisineflow.params import RegisterParams
    from cuisineflow.registry import _NAME

    for alias in ("1st", "2026-q1", "v.2"):
        assert _NAME.fullmatch(alias)
        assert RegisterParams(alias=alias).alias == alias


def test_the_largest_seed_numpy_takes_is_a_seed() -> None:
    from cuisineflow.params import SplitParams, TrainParams

    assert SplitParams(seed=2**32 - 1).seed == TrainParams(seed=2**32 - 1).seed == 4294967295
    # id_hash only hashes its seed with each id: any integer, as before the check.
    assert SplitParams(method="id_hash", seed=-7).seed == -7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("evalute:\n  top_k: 5\n", r"evalute: Extra inputs are not permitted"),
        ("split:\n  seed: '7'\n", r"split.seed: Input should be a valid integer"),
        ("evaluate:\n  top_k: true\n", r"evaluate.top_k: Input should be a valid integer"),
        ("evaluate:\n  top_k: 50\n", r"evaluate.top_k: Input should be less than or equal to 20"),
        ("train:\n  max_iter: 1e3\n", r"train.max_iter: Input should be a valid integer"),
        (
            "split:\n  seed: -1\n",
            r"split: split.seed -1 must lie in 0 to 4294967295 for method "
            r"stratified \(numpy's seeds\); id_hash takes any integer",
        ),
        ("train:\n  seed: -3\n", r"train.seed: Input should be greater than or equal to 0"),
        # YAML spells infinity and NaN; scikit-learn then failed with a traceback.
        ("train:\n  C: .inf\n", r"train.C: Input should be a finite number"),
        ("monitor:\n  alpha: .nan\n", r"monitor.alpha: Input should be a finite number"),
        (
            "featurize:\n  blocks:\n    - analyzer: words\n      weight: .inf\n",
            r"featurize.blocks.0.weight: Input should be a finite number",
        ),
        (
            "train:\n  seed: 4294967296\n",
            r"train.seed: Input should be less than or equal to 4294967295",
        ),
        # The registry's rule: a name, not all digits (a version).
        ("register:\n  alias: '7'\n", r"register: register.alias '7': use a name such as latest"),
        ("register:\n  alias: Latest\n", r"register.alias: String should match pattern"),
        (
            "train:\n  trees:\n    analyzers: [words]\n",
            r"train.trees.analyzers \['words'\] are not among featurize.blocks' analyzers",
        ),
    ],
)
def test_a_wrong_value_is_named_before_any_stage_runs(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        load_params(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe", r"params.yaml: not UTF-8 text \('utf-8' codec can't decode byte 0xff"),
        (
            b"lake: {csv_separator: ','}\n",
            r"params.yaml: lake.csv_separator ',' must be one of validate.forbidden_characters",
        ),
        (b"- validate\n", r"params.yaml: Input should be a valid dictionary"),
    ],
)
def test_a_file_or_check_with_no_key_is_named_without_an_empty_one(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "params.yaml"
    path.write_bytes(content)
    with pytest.raises(DataError, match=rf"^{re.escape(str(tmp_path))}/{message}"):
        load_params(path)
