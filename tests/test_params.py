"""params.yaml: every key checked, by type and across sections, before any stage runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cuisineflow.errors import DataError
from cuisineflow.params import load_params
from tests.conftest import PROJECT


def test_the_projects_params_load() -> None:
    params = load_params(PROJECT / "params.yaml")
    assert (params.split.seed, params.evaluate.top_k, params.train.C) == (42, 3, 0.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("evalute:\n  top_k: 5\n", r"evalute: Extra inputs are not permitted"),
        ("split:\n  seed: '7'\n", r"split.seed: Input should be a valid integer"),
        ("evaluate:\n  top_k: true\n", r"evaluate.top_k: Input should be a valid integer"),
        ("evaluate:\n  top_k: 50\n", r"evaluate.top_k: Input should be less than or equal to 20"),
        ("train:\n  max_iter: 1e3\n", r"train.max_iter: Input should be a valid integer"),
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
