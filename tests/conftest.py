"""Shared fixtures: tiny recipe sets written by tests, DVC projects, the embedded S3 endpoint."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cuisineflow.storage.s3server import free_port

# A handful of ingredients typical of each cuisine, so tiny data sets still carry signal.
TYPICAL = {
    "italian": ["olive oil", "garlic", "parmesan cheese", "basil", "tomatoes", "pasta"],
    "mexican": ["tortillas", "cumin", "jalapeno chilies", "cilantro", "black beans", "lime"],
    "chinese": ["soy sauce", "ginger", "scallions", "sesame oil", "rice vinegar", "bok choy"],
    "indian": ["garam masala", "turmeric", "ghee", "cumin seed", "basmati rice", "cardamom"],
}

# botocore looks for credentials at the EC2 metadata address when none are set: tests
# talk to loopback only.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "cuisineflow tests",
    "GIT_AUTHOR_EMAIL": "tests@cuisineflow.invalid",
    "GIT_COMMITTER_NAME": "cuisineflow tests",
    "GIT_COMMITTER_EMAIL": "tests@cuisineflow.invalid",
}


def make_recipes(n: int = 40, seed: int = 0, labelled: bool = True) -> list[dict[str, Any]]:
    """Synthetic recipes: 3-6 typical ingredients of a cuisine, salt, and one of their own
    (so that no two recipes are duplicates)."""
    rng = random.Random(seed)
    cuisines = sorted(TYPICAL)
    recipes = []
    for i in range(n):
        cuisine = cuisines[i % len(cuisines)]
        ingredients = [
            *rng.sample(TYPICAL[cuisine], rng.randint(3, 6)),
            "salt",
            f"garnish {seed}-{i}",
        ]
        recipe: dict[str, Any] = {"id": 1000 + i, "ingredients": ingredients}
        if labelled:
            recipe["cuisine"] = cuisine
        recipes.append(recipe)
    return recipes


def write_kaggle_zip(path: Path, recipes: list[dict[str, Any]]) -> Path:
    """Write recipes as Kaggle ships them: a zip holding one JSON array."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(path.name.removesuffix(".zip"), json.dumps(recipes))
    return path


def cli(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run the real `cuisineflow` command in a folder, as a user would."""
    result = subprocess.run(
        [sys.executable, "-m", "cuisineflow", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"cuisineflow {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def git(*args: str, cwd: Path) -> str:
    """Run git with a test identity."""
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def commit_and_clone(project: Path, clone: Path, message: str = "raw data") -> Path:
    """Commit all of the project, then clone it to `clone`: a fresh checkout, as a
    colleague's would be."""
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", message, cwd=project)
    git("clone", "-q", str(project), str(clone), cwd=clone.parent)
    return clone


def init_project(folder: Path) -> Path:
    """A new git + DVC repository, as `git init && dvc init` make it."""
    folder.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "-b", "main", cwd=folder)
    subprocess.run(
        [sys.executable, "-m", "dvc", "init", "-q"],
        cwd=folder,
        check=True,
        env={**os.environ, "DVC_NO_ANALYTICS": "1"},
    )
    git("add", "-A", cwd=folder)
    git("commit", "-q", "-m", "init", cwd=folder)
    return folder


PROJECT = Path(__file__).resolve().parents[1]


def copy_of_project(target: Path) -> Path:
    """This project's tracked and new files (not ignored ones), committed in a new repository.

    Pipeline tests run here: dvc.yaml names the project's own modules as dependencies.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = PROJECT / name
        if source.is_file() and not name.startswith(("data/", "metrics/")):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for generated in ("dvc.lock", "data/raw.dvc"):
        (target / generated).unlink(missing_ok=True)
    git("init", "-q", "-b", "main", cwd=target)
    git("add", "-A", cwd=target)
    git("commit", "-q", "-m", "copy", cwd=target)
    return target


@pytest.fixture
def tiny_zip(tmp_path: Path) -> Path:
    """A Kaggle-format train.json.zip of 40 synthetic recipes."""
    return write_kaggle_zip(tmp_path / "source" / "train.json.zip", make_recipes())


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh DVC project with its store in a local folder of the test."""
    folder = init_project(tmp_path / "project")
    monkeypatch.setenv("CUISINEFLOW_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("CUISINEFLOW_S3_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("CUISINEFLOW_SOURCE", raising=False)
    return folder


class S3Endpoint:
    """The running embedded endpoint: its URL, bucket and the variables that reach it."""

    def __init__(self, url: str, bucket: str, env: dict[str, str]) -> None:
        self.url = url
        self.bucket = bucket
        self.env = env

    def store_env(self, prefix: str) -> dict[str, str]:
        """Variables that point cuisineflow at a fresh prefix of the bucket."""
        return {**self.env, "CUISINEFLOW_STORE": f"s3://{self.bucket}/{prefix}"}


def start_store_server(port: int, bucket: str) -> subprocess.Popen[str]:
    """`cuisineflow store serve` as its own process, its output piped for reading."""
    command = [sys.executable, "-m", "cuisineflow", "store", "serve", "--port", str(port)]
    return subprocess.Popen(
        [*command, "--bucket", bucket], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def typical_recipes(
    n: int, seed: int, cuisines: tuple[str, ...] = tuple(sorted(TYPICAL))
) -> list[list[str]]:
    """Unseen recipes like the tiny model's training data (ingredient lists only)."""
    rng = random.Random(seed)
    return [
        [*rng.sample(TYPICAL[c], rng.randint(3, 6)), "salt"] for c in rng.choices(cuisines, k=n)
    ]


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Endpoint]:
    """`cuisineflow store serve` in its own process: a real HTTP S3 endpoint on loopback."""
    port = free_port()
    bucket = "cuisineflow-tests"
    process = start_store_server(port, bucket)
    assert process.stdout is not None
    env: dict[str, str] = {}
    for line in process.stdout:
        if line.strip().startswith("export "):
            name, _, value = line.strip().removeprefix("export ").partition("=")
            env[name] = value
        if line.startswith("  export AWS_DEFAULT_REGION"):
            break
    if "CUISINEFLOW_S3_ENDPOINT_URL" not in env:
        process.kill()
        raise RuntimeError(f"the embedded S3 endpoint did not start: {process.stderr}")
    yield S3Endpoint(env["CUISINEFLOW_S3_ENDPOINT_URL"], bucket, env)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real model artifact (linear model and trees) trained on 120 synthetic recipes."""
    from cuisineflow.features import Featurizer
    from cuisineflow.models import train
    from cuisineflow.models.artifact import save_model
    from cuisineflow.params import FeatureBlockParams, TrainParams

    recipes = make_recipes(120)
    ingredients = [r["ingredients"] for r in recipes]
    blocks = [
        FeatureBlockParams(analyzer="words_and_bigrams"),
        FeatureBlockParams(analyzer="word_pairs"),
    ]
    featurizer = Featurizer.fit(blocks, ingredients)
    # The default train params: the linear model blended with boosted trees.
    classifier = train.fit_ensemble(
        featurizer,
        featurizer.transform(ingredients),
        [r["cuisine"] for r in recipes],
        TrainParams(calibration_folds=3),
    )
    folder = tmp_path_factory.mktemp("tiny-model") / "model"
    save_model(folder, featurizer, classifier)
    return folder


# As the machine's notes advise: a closed network refuses Chromium's background traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed here when missing (the test setup may run as root)."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        install = "apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)"
        result = subprocess.run(
            ["bash", "-c", install], capture_output=True, text=True, check=False
        )
        if result.returncode != 0 or not Path(path).exists():
            pytest.fail(f"Chromium is missing and could not be installed:\n{result.stderr[-2000:]}")
    return path
