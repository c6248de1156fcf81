"""The benchmark scripts (benchmarks/): their checks and their failures, on tiny inputs."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

PROJECT = Path(__file__).resolve().parents[1]
BENCHMARKS = PROJECT / "benchmarks"


def bench(script: str, *arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a benchmark script as `make bench-...` does, on this checkout's package."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT / "src")}
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A benchmark script as a module (its sibling _common importable, as when it runs)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_train_says_why_a_models_child_failed(tmp_path: Path) -> None:
    (tmp_path / "data" / "split").mkdir(parents=True)
    (tmp_path / "data" / "split" / "train.parquet").write_bytes(b"")
    (tmp_path / "params.yaml").write_text("train:\n  C: -1\n")
    done = bench("train.py", "--project", str(tmp_path), "--models", "linear_svc", cwd=tmp_path)
    assert done.returncode == 1
    line = last_line(done.stderr)
    assert line.startswith("measuring linear_svc failed (exit status 1): ")
    assert "params.yaml: train.C" in line
    assert "CalledProcessError" not in done.stderr


def test_predict_shows_the_commands_error_line(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.json").write_text("{}")
    with zipfile.ZipFile(tmp_path / "test.json.zip", "w") as archive:
        archive.writestr("test.json", '[{"id": 1, "ingredients": ["salt"]}]')
    done = bench(
        "predict.py", "--model", str(model), "--source", str(tmp_path), "--runs", "1", cwd=tmp_path
    )
    assert done.returncode == 1
    line = last_line(done.stderr)
    assert line.startswith("cuisineflow predict, usable cores failed (exit status 1): error: ")
    assert "CalledProcessError" not in done.stderr


def test_serve_stops_the_first_server_when_the_second_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve = load("serve", monkeypatch)
    started: list[subprocess.Popen[bytes]] = []

    def server(*_: Any) -> subprocess.Popen[bytes]:
        sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
        started.append(subprocess.Popen(sleeper, start_new_session=True))
        return started[-1]

    def wait_ready(url: str, process: object, seconds: float = 120) -> None:
        if url.endswith("/ping"):  # MLflow's: it never gets ready
            raise RuntimeError(f"{url} not ready")

    monkeypatch.setattr(serve, "serve_ours", server)
    monkeypatch.setattr(serve, "serve_mlflow", server)
    monkeypatch.setattr(serve, "wait_ready", wait_ready)
    monkeypatch.setattr(httpx, "post", lambda *_, **__: httpx.Response(200))
    try:
        with pytest.raises(SystemExit, match="mlflow did not start"):
            serve.http(tmp_path / "model", 1, 1, 1)
        assert [process.poll() is not None for process in started] == [True, True]
    finally:
        for process in started:
            process.kill()
            process.wait()


def test_serve_says_why_the_cuisineflow_server_did_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve = load("serve", monkeypatch)
    monkeypatch.setenv("PYTHONPATH", str(PROJECT / "src"))
    with pytest.raises(SystemExit) as stopped:
        serve.start("cuisineflow", tmp_path / "no-model", 1, tmp_path)
    message = str(stopped.value.code)
    assert message.startswith("cuisineflow did not start (server exited with 1):")
    assert "error: " in message
    assert "no-model" in message


@pytest.mark.parametrize("models", ["linear_svc,linear_svm", "linear_svc+tress", "linear_svc+"])
def test_train_refuses_a_model_name_it_would_not_measure(tmp_path: Path, models: str) -> None:
    (tmp_path / "data" / "split").mkdir(parents=True)
    (tmp_path / "data" / "split" / "train.parquet").write_bytes(b"")
    done = bench("train.py", "--project", str(tmp_path), "--models", models, cwd=tmp_path)
    assert done.returncode == 2
    wrong = models.rsplit(",", 1)[-1]
    assert last_line(done.stderr) == (
        f"train.py: error: --models: {wrong!r} is not one of linear_svc, linear_svc+trees, "
        "logistic_regression, logistic_regression+trees"
    )
    assert done.stdout == ""  # no row measured under a name it is not


def test_train_times_no_empty_batch_on_a_small_test_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cuisineflow.predict import Predictor
    from tests.conftest import make_recipes

    split = tmp_path / "data" / "split"
    split.mkdir(parents=True)
    recipes = make_recipes(200)
    for name, part in (("train", recipes[:150]), ("test", recipes[150:])):
        columns = {key: [r[key] for r in part] for key in ("id", "cuisine", "ingredients")}
        pq.write_table(pa.table(columns), split / f"{name}.parquet")
    (tmp_path / "params.yaml").write_text(
        "featurize:\n  fit_on: train\ntrain:\n  model: logistic_regression\n  calibration_folds: 2\n"
    )
    train = load("train", monkeypatch)
    sizes: list[int] = []
    predict = Predictor.predict

    def counting(self: Predictor, batch: list[list[str]]) -> Any:
        sizes.append(len(batch))
        return predict(self, batch)

    monkeypatch.setattr(Predictor, "predict", counting)
    result = train.measure(tmp_path, "logistic_regression")
    assert sizes == [1] * 50 + [50]  # each recipe alone, then one batch of all 50: none empty
    assert result["batch_size"] == 50
    assert 0 < result["batch1000_per_s"] < 1e7


def test_trees_checks_the_recipes_file_before_fitting(tmp_path: Path) -> None:
    (tmp_path / "data" / "features" / "featurizer").mkdir(parents=True)
    missing = tmp_path / "nowhere" / "test.json.zip"
    done = bench(
        "trees.py", "--project", str(tmp_path), "--source", str(missing.parent), cwd=tmp_path
    )
    assert done.returncode == 2
    assert last_line(done.stderr) == (
        f"trees.py: error: {missing} is missing: give --source (the What's Cooking files)"
    )
    (missing.parent).mkdir()
    with zipfile.ZipFile(missing, "w") as archive:  # any member name, as predict reads it
        archive.writestr("recipes.json", "[]")
    done = bench(
        "trees.py", "--project", str(tmp_path), "--source", str(missing.parent), cwd=tmp_path
    )
    assert done.returncode == 2
    assert last_line(done.stderr) == "trees.py: error: test.json.zip: holds no recipes"


def test_predict_names_the_cases_whose_output_differs_and_exits_1(
    tmp_path: Path,
    tiny_model: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    predict = load("predict", monkeypatch)
    with zipfile.ZipFile(tmp_path / "test.json.zip", "w") as archive:
        archive.writestr("test.json", '[{"id": 1, "ingredients": ["salt", "cumin"]}]')

    def run_child(command: list[str], what: str, env: dict[str, str]) -> None:
        # The baseline revision's code writes a second line that is not today's.
        second = "old\n" if env.get("PYTHONPATH") == "baseline/src" else "new\n"
        Path(command[command.index("--output") + 1]).write_text("same\n" + second)

    monkeypatch.setattr(predict, "run_child", run_child)
    monkeypatch.setattr(predict, "_baseline_sources", lambda revision, folder: "baseline/src")
    arguments = ["--model", str(tiny_model), "--source", str(tmp_path), "--runs", "1"]
    monkeypatch.setattr(sys, "argv", ["predict.py", *arguments, "--baseline", "HEAD~1"])
    with pytest.raises(SystemExit) as stopped:
        predict.main()
    differ = [
        "HEAD~1, usable cores: 1 of 2 lines differ from usable cores",
        "HEAD~1, one thread: 1 of 2 lines differ from usable cores",
    ]
    assert stopped.value.code == f"not every case wrote the same bytes: {'; '.join(differ)}"
    shown = capsys.readouterr().out
    assert "every case wrote the same bytes: NO\n  " + "\n  ".join(differ) + "\n" in shown


@pytest.mark.parametrize("windows", ["0", "3"])
def test_monitor_needs_a_window_of_each_size(tmp_path: Path, windows: str) -> None:
    done = bench("monitor.py", "--windows", windows, cwd=tmp_path)
    assert done.returncode == 2
    assert last_line(done.stderr) == (
        f"monitor.py: error: --windows {windows}: at least 4, one of each size "
        "(100, 200, 1,000, 5,000 recipes)"
    )


def test_monitor_counts_the_windows_drawn_of_each_size(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np

    from cuisineflow.monitoring import drift

    monitor = load("monitor", monkeypatch)

    class Predictor:
        classes = ("italian", "mexican")

        def predict_proba(self, recipes: list[list[str]]) -> Any:
            return np.tile([0.9, 0.1], (len(recipes), 1))

    monkeypatch.setattr(drift, "compare", lambda *_: {})
    monkeypatch.setattr(drift, "alerts", lambda report: [{"name": "shift"}])  # every window
    recipes = [[f"ingredient {k}"] for k in range(5000)]
    monitor.false_alarms(Predictor(), {}, recipes, 6)
    assert capsys.readouterr().out == (
        "false alarms: 6 of 6 windows of unseen recipes (100.0%); by window size "
        "100: 2/2, 200: 2/2, 1,000: 1/1, 5,000: 1/1; by check: {'shift': 6}\n"
    )


def run_query_benchmark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seconds: dict[str, float]
) -> list[str]:
    """benchmarks/query.py's main with engines that sleep as told: the order they ran in."""
    import s3fs.core

    query = load("query", monkeypatch)
    # main counts the lake's bytes by patching s3fs: undone after the test.
    monkeypatch.setattr(s3fs.core.S3File, "_fetch_range", s3fs.core.S3File._fetch_range)
    (tmp_path / "train.json").write_text("[]")
    ran: list[str] = []

    def engine(name: str) -> Any:
        def run() -> tuple[list[int], int]:
            ran.append(name)
            time.sleep(seconds[name])
            return [1, 2], 1000

        return run

    class Endpoint:
        def send_signal(self, _: int) -> None: ...
        def wait(self, timeout: float) -> None: ...

    monkeypatch.setattr(query, "start_endpoint", lambda: (Endpoint(), "http://127.0.0.1:1"))
    monkeypatch.setattr(query.Store, "open", lambda *_, **__: None)
    monkeypatch.setattr(query, "publish_lake", lambda *_: None)
    monkeypatch.setattr(query, "queries", lambda _: {"a query": {n: engine(n) for n in seconds}})
    monkeypatch.setattr(sys, "argv", ["query.py", "--source", str(tmp_path), "--runs", "3"])
    query.main()
    return ran


def test_query_alternates_the_engines_run_by_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seconds = {"lake": 0.0, "select": 0.0, "download": 0.0}
    assert run_query_benchmark(tmp_path, monkeypatch, seconds) == ["lake", "select", "download"] * 3


def test_query_says_slower_when_the_lake_took_longer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seconds = {"lake": 0.05, "select": 0.005, "download": 0.2}  # sleeps far apart
    run_query_benchmark(tmp_path, monkeypatch, seconds)
    verdict = last_line(capsys.readouterr().out).split("lake: ")[1]
    versus_select, versus_download = verdict.split(", ")
    assert versus_select.endswith("x slower than S3 Select")
    assert float(versus_select.split("x")[0]) > 3  # about 10
    assert versus_download.endswith("x faster than the download")
    assert float(versus_download.split("x")[0]) > 2  # about 4
