"""The Lambda deployment zip and its SAM template."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from cuisineflow.aws_lambda.package import MODULES
from cuisineflow.errors import CuisineflowError
from tests.conftest import PROJECT, cli

pytestmark = pytest.mark.integration


def test_inference_imports_only_packaged_modules(tiny_model: Path) -> None:
    code = (  # load a model with trees and predict: still nothing outside the zip
        "import sys, json, pathlib, cuisineflow.aws_lambda.handler as h; "
        f"h.Predictor(pathlib.Path({str(tiny_model)!r})).predict([['soy sauce', 'ginger']]); "
        "print(json.dumps(sorted(m for m in sys.modules)))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )
    ours = {
        m.removeprefix("cuisineflow.").replace(".", "/")
        for m in loaded
        if m.startswith("cuisineflow.")
    }
    packaged = {m.removesuffix(".py").removesuffix("/__init__") for m in MODULES}
    assert ours <= packaged
    heavy = {"scipy", "sklearn", "lightgbm", "pyarrow", "fsspec", "s3fs", "duckdb", "dvc", "pandas"}
    heavy.add("fastapi")
    assert heavy.isdisjoint({m.split(".")[0] for m in loaded})


def test_package_holds_inference_only_and_fits_the_limits(tmp_path: Path) -> None:
    output = tmp_path / "lambda.zip"
    result = cli("lambda", "package", "--output", str(output), cwd=PROJECT)
    assert "MB zipped" in result.stdout
    assert output.stat().st_size < 50 * 1024 * 1024
    with zipfile.ZipFile(output) as archive:
        names = archive.namelist()
        unzipped = sum(info.file_size for info in archive.infolist())
    assert unzipped < 250 * 1024 * 1024
    assert "cuisineflow/aws_lambda/handler.py" in names
    assert any(n.startswith("numpy/") for n in names)
    assert any(n.startswith("pydantic_core/") and "cpython-312" in n for n in names)
    tops = {n.split("/")[0] for n in names}
    assert not tops & {
        "scipy",
        "sklearn",
        "pyarrow",
        "fsspec",
        "s3fs",
        "duckdb",
        "dvc",
        "pandas",
        "boto3",
    }
    assert not any("/tests/" in n or n.endswith(".pyc") for n in names)
    assert "cuisineflow/aws_lambda/package.py" not in names


def test_a_package_over_the_limits_keeps_the_last_good_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cuisineflow.aws_lambda import package

    output = tmp_path / "lambda.zip"
    output.write_bytes(b"the last good package")
    monkeypatch.setattr(package, "ZIPPED_LIMIT", 1_000_000)  # the real zip is ~17 MB
    with pytest.raises(CuisineflowError, match=r"over Lambda's limits .*nothing was written"):
        package.build(output, "x86_64")
    assert output.read_bytes() == b"the last good package"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lambda.zip"]


def test_sam_template_passes_cfn_lint_and_reads_the_model_prefix_only() -> None:
    template = PROJECT / "deploy" / "lambda" / "template.yaml"
    lint = subprocess.run(
        [Path(sys.executable).parent / "cfn-lint", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor(
        "!", lambda loader, suffix, node: f"!{suffix} {loader.construct_scalar(node)}"
    )
    function = yaml.load(template.read_text(), Loader=Loader)["Resources"]["PredictFunction"][
        "Properties"
    ]
    assert function["Runtime"] == "python3.12"
    assert function["Handler"] == "cuisineflow.aws_lambda.handler.handler"
    (statement,) = function["Policies"][0]["Statement"]
    assert statement["Action"] == ["s3:GetObject"]
    assert statement["Resource"] == "!Sub arn:aws:s3:::${ModelBucket}/${ModelPrefix}/*"


def test_a_folder_as_output_is_refused_before_building(tmp_path: Path) -> None:
    refused = cli("lambda", "package", "--output", str(tmp_path), cwd=tmp_path, check=False)
    assert refused.returncode == 1
    assert f"--output {tmp_path} is a folder" in refused.stderr
    assert list(tmp_path.iterdir()) == []  # nothing built, nothing left behind


def test_the_cli_offers_the_architectures_the_package_builds() -> None:
    from cuisineflow.aws_lambda.package import PLATFORMS
    from cuisineflow.cli import LambdaArch

    assert {arch.value for arch in LambdaArch} == set(PLATFORMS)
