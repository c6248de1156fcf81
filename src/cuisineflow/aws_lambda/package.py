"""Building the Lambda deployment zip: manylinux wheels for python3.12 plus inference code only."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from cuisineflow.errors import CuisineflowError

RUNTIME_PYTHON = "3.12"
# What inference imports, and nothing else: no scikit-learn, scipy, pyarrow, DVC or fsspec.
# boto3 is part of the Lambda runtime.
REQUIREMENTS = ("numpy", "pydantic", "pydantic-core", "annotated-types", "typing-extensions",
                "typing-inspection", "pyyaml")  # fmt: skip
MODULES = (
    "__init__.py", "errors.py", "schemas.py", "params.py", "features.py", "predict.py",
    "models/__init__.py", "models/artifact.py", "models/linear.py", "models/trees.py",
    "models/ensemble.py",
    "aws_lambda/__init__.py", "aws_lambda/handler.py", "aws_lambda/loader.py",
    "aws_lambda/predictionlog.py", "monitoring/__init__.py", "monitoring/records.py",
)  # fmt: skip
ZIPPED_LIMIT = 50 * 1024 * 1024  # direct upload
UNZIPPED_LIMIT = 250 * 1024 * 1024
PLATFORMS = {
    "x86_64": ("manylinux_2_28_x86_64", "manylinux2014_x86_64"),
    "arm64": ("manylinux_2_28_aarch64", "manylinux2014_aarch64"),
}
_DROP = ("__pycache__", "/tests/", ".pyc")


@dataclass(frozen=True)
class PackageSize:
    """The zip's size and its unzipped size, in bytes."""

    zipped: int
    unzipped: int


def build(output: Path, arch: str) -> PackageSize:
    """Download wheels for the runtime, add the inference modules, write a reproducible zip."""
    if arch not in PLATFORMS:
        raise CuisineflowError(f"--arch must be x86_64 or arm64, not {arch!r}")
    source = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="cuisineflow-lambda-") as work:
        wheels, tree = Path(work) / "wheels", Path(work) / "tree"
        pins = [f"{name}=={version(name)}" for name in REQUIREMENTS]
        platforms = [arg for p in PLATFORMS[arch] for arg in ("--platform", p)]
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   "--only-binary=:all:", "--python-version", RUNTIME_PYTHON,
                   "--implementation", "cp", *platforms, "--dest", str(wheels), *pins]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise CuisineflowError(
                f"downloading the runtime's wheels failed:\n{result.stderr.strip()}"
            )
        tree.mkdir()
        for wheel in sorted(wheels.glob("*.whl")):
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(tree)
        for module in MODULES:
            target = tree / "cuisineflow" / module
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / module, target)
        output.parent.mkdir(parents=True, exist_ok=True)
        temporary = output.with_name(f".{output.name}.tmp")
        try:
            size = PackageSize(0, _zip(tree, temporary))
            size = PackageSize(temporary.stat().st_size, size.unzipped)
            # Checked before the rename: a package over the limits keeps the last good one.
            if size.zipped > ZIPPED_LIMIT or size.unzipped > UNZIPPED_LIMIT:
                raise CuisineflowError(
                    f"{output}: {size.zipped / 2**20:.1f} MB zipped, "
                    f"{size.unzipped / 2**20:.1f} MB unzipped, over Lambda's limits (50 MB "
                    "zipped for direct upload, 250 MB unzipped); nothing was written"
                )
            temporary.replace(output)
        finally:
            temporary.unlink(missing_ok=True)
    return size


def _zip(tree: Path, output: Path) -> int:
    """Zip a tree with fixed timestamps and sorted names, so the same inputs give the same zip."""
    unzipped = 0
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(tree.rglob("*")):
            name = path.relative_to(tree).as_posix()
            if not path.is_file() or any(part in f"/{name}" for part in _DROP):
                continue
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            unzipped += len(data)
            archive.writestr(info, data)
    return unzipped
