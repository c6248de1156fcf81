"""Benchmark: serving the same model in-process, over our HTTP server, over MLflow, and Lambda.

  in-process   Predictor.predict on one recipe at a time (2,000 different test recipes)
               and on 1,000 at once (the floor)
  HTTP         p50, p99 and requests/s at 1, 16 and 64 concurrent clients (wrk), for
               `cuisineflow serve` and `mlflow models serve`, same model, same workers,
               both with gc.freeze() after loading; each level --repeats times, the two
               servers taking turns to go first; medians, and the ratio of median req/s
  Lambda       cold init (import + model load from the embedded S3 endpoint), zip size

Usage: make bench-serve   (or: .venv/bin/python benchmarks/serve.py --model models/cuisine)
Needs wrk (apt-get install wrk) and the `bench` dependency group (MLflow).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import run_child

from cuisineflow.predict import Predictor
from cuisineflow.storage.s3server import free_port

RECIPE = ["soy sauce", "ginger", "scallions", "sesame oil", "garlic", "rice vinegar", "sugar",
          "chicken breasts", "cornstarch", "water"]  # fmt: skip
LEVELS = (1, 16, 64)


def varied_recipes(model: Path) -> list[list[str]]:
    """The test split's recipes when the pipeline has run: real traffic is not one recipe
    repeated, whose ingredients the normalisation cache always holds."""
    test = model.parent.parent / "data" / "split" / "test.parquet"
    if not test.exists():
        return [RECIPE]
    import pyarrow.parquet as pq

    recipes: list[list[str]] = pq.read_table(test, columns=["ingredients"])[
        "ingredients"
    ].to_pylist()
    return recipes


def in_process(model: Path) -> None:
    predictor = Predictor(model)
    recipes = varied_recipes(model)
    for recipe in recipes[:100]:
        predictor.predict([recipe])
    single = []
    for k in range(2000):
        recipe = recipes[k % len(recipes)]
        begin = time.perf_counter()
        predictor.predict([recipe])
        single.append(time.perf_counter() - begin)
    batches = []
    for start in range(0, 5000, 1000):
        batch = [recipes[(start + k) % len(recipes)] for k in range(1000)]
        begin = time.perf_counter()
        predictor.predict(batch)
        batches.append(time.perf_counter() - begin)
    seconds = statistics.median(batches)
    single.sort()
    print(f"in-process ({len(recipes):,} different recipes): one recipe p50 {single[1000] * 1e3:.3f} ms, "
          f"p99 {single[1980] * 1e3:.3f} ms; 1,000 recipes in {seconds * 1e3:.0f} ms "
          f"({1000 / seconds:,.0f}/s, median of 5)")  # fmt: skip


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready")


def wrk(url: str, body: dict[str, Any], connections: int, seconds: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = [[{json.dumps(body)}]]\n"
        )
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(script.name)

    def millis(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.MULTILINE)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    assert rate, out
    assert total, out
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return {"p50": millis("50"), "p99": millis("99"), "rps": float(rate.group(1)),
            "errors": float(errors), "requests": float(total.group(1))}  # fmt: skip


def serve_ours(model: Path, workers: int, port: int, folder: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "cuisineflow", "serve", "--model", str(model), "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    # Benchmark traffic stays out of the project's prediction logs (mlflow logs nothing).
    env = {**os.environ, "CUISINEFLOW_LOG_PREDICTIONS": "false"}
    log = (folder / "cuisineflow.log").open("wb")  # shown if it does not start
    return subprocess.Popen(command, stderr=log, env=env, start_new_session=True)


def serve_mlflow(model: Path, workers: int, port: int, folder: Path) -> subprocess.Popen[bytes]:
    code = f"""
import mlflow.pyfunc
from cuisineflow.predict import Predictor

class Cuisine(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        self.predictor = Predictor(__import__("pathlib").Path(context.artifacts["model"]))
        __import__("gc").freeze()  # as `cuisineflow serve` does: no full collections over the model
    def predict(self, context, model_input, params=None):
        return [p.cuisine for p in self.predictor.predict(list(model_input["ingredients"]))]

mlflow.pyfunc.save_model({str(folder / "pyfunc")!r}, python_model=Cuisine(), artifacts={{"model": {str(model)!r}}})
"""
    saved = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if saved.returncode != 0:
        sys.exit(f"saving the MLflow model failed:\n{saved.stderr[-2000:]}")
    mlflow = Path(sys.executable).parent / "mlflow"
    command = [str(mlflow), "models", "serve", "-m", str(folder / "pyfunc"), "-p", str(port),
               "--env-manager", "local", "--workers", str(workers), "--host", "127.0.0.1"]  # fmt: skip
    # mlflow starts `uvicorn` through the shell: it must find this environment's.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    log = (folder / "mlflow.log").open("wb")  # shown if it does not start
    return subprocess.Popen(command, stderr=log, stdout=log, env=env, start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a server and what it started (its own process group: mlflow starts uvicorn
    through the shell): SIGTERM, then SIGKILL if it is not gone in 30 s."""
    for kill, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, kill)
        except ProcessLookupError:  # the group is gone
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


def start(
    name: str, model: Path, workers: int, folder: Path
) -> tuple[subprocess.Popen[bytes], str, dict[str, Any]]:
    """A server of the model, ready: its process, prediction URL and a request body."""
    port = free_port()
    body: dict[str, Any]
    if name == "cuisineflow":
        process = serve_ours(model, workers, port, folder)
        url, ready, body = f"http://127.0.0.1:{port}/v1/predict", "/readyz", {"ingredients": RECIPE}
    else:
        process = serve_mlflow(model, workers, port, folder)
        url, ready = f"http://127.0.0.1:{port}/invocations", "/ping"
        body = {"dataframe_records": [{"ingredients": RECIPE}]}
    try:
        wait_ready(f"http://127.0.0.1:{port}{ready}", process)
        check = httpx.post(url, json=body, timeout=10)
        if check.status_code != 200:
            raise RuntimeError(f"a first request got {check.status_code}: {check.text[:200]}")
    except (RuntimeError, httpx.HTTPError) as error:
        stop(process)
        log = folder / f"{name}.log"
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        sys.exit(f"{name} did not start ({error}):\n{detail}")
    except BaseException:  # Ctrl-C while it starts
        stop(process)
        raise
    return process, url, body


def http(model: Path, workers: int, seconds: int, repeats: int) -> None:
    print(f"HTTP, {workers} workers, {seconds} s per run, {repeats} runs per level; one recipe "
          "per request; medians")  # fmt: skip
    names = ("cuisineflow", "mlflow")
    runs: dict[tuple[str, int], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        servers: dict[str, tuple[subprocess.Popen[bytes], str, dict[str, Any]]] = {}
        try:  # each started inside, so that a failure to start the next stops the first
            for name in names:
                servers[name] = start(name, model, workers, Path(folder))
            for repeat in range(repeats):
                order = names if repeat % 2 == 0 else names[::-1]  # neither always goes first
                for level in LEVELS:
                    for name in order:
                        _, url, body = servers[name]
                        runs.setdefault((name, level), []).append(wrk(url, body, level, seconds))
        finally:
            for process, _, _ in servers.values():
                stop(process)
    print(f"{'server':12} {'clients':>7} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'req/s range':>13} "
          f"{'requests':>9} {'errors':>7}")  # fmt: skip
    median: dict[tuple[str, int], float] = {}
    for name in names:
        for level in LEVELS:
            results = runs[(name, level)]
            rates = [r["rps"] for r in results]
            median[(name, level)] = statistics.median(rates)
            print(f"{name:12} {level:7} {statistics.median(r['p50'] for r in results):8.2f} "
                  f"{statistics.median(r['p99'] for r in results):8.2f} {median[(name, level)]:8.0f} "
                  f"{f'{min(rates):.0f}-{max(rates):.0f}':>13} {sum(r['requests'] for r in results):9.0f} "
                  f"{sum(r['errors'] for r in results):7.0f}")  # fmt: skip
    for level in LEVELS:
        ratio = median[("cuisineflow", level)] / median[("mlflow", level)]
        print(f"throughput at {level} clients: cuisineflow / mlflow = {ratio:.1f}x (median req/s)")


def lambda_cold_init(model: Path, runs: int) -> None:
    from cuisineflow.registry import Registry
    from cuisineflow.storage import Store
    from cuisineflow.storage.s3server import EmbeddedS3

    with EmbeddedS3(bucket="bench-lambda") as s3:
        env = {**os.environ, **s3.environment()}
        os.environ.update(s3.environment())
        store = Store.open("s3://bench-lambda/store", endpoint_url=s3.endpoint_url)
        version, _ = Registry(store).register("cuisine", model, {})
        env["CUISINEFLOW_MODEL_URI"] = f"s3://bench-lambda/store/registry/cuisine/{version}"
        code = ("import time; t = time.perf_counter(); import cuisineflow.aws_lambda.handler as h; "
                "h.model(); print(time.perf_counter() - t)")  # fmt: skip
        times = [float(run_child([sys.executable, "-c", code], "the Lambda's cold init", env=env).stdout)
                 for _ in range(runs)]  # fmt: skip
    print(f"Lambda cold init (import + load from S3 + verify): median {statistics.median(times):.2f} s "
          f"over {runs} runs")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "lambda.zip"
        out = run_child([sys.executable, "-m", "cuisineflow", "lambda", "package", "--output", str(output)],
                        "cuisineflow lambda package").stdout  # fmt: skip
        print(f"Lambda package: {out.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/cuisine"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5, help="Lambda cold starts timed")
    parser.add_argument("--repeats", type=int, default=3, help="wrk runs per server and level")
    args = parser.parse_args()
    if not (args.model / "model.json").exists():
        parser.error(f"{args.model} is not a model folder: run `make run` first")
    if shutil.which("wrk") is None:
        parser.error("wrk is needed for the HTTP part: apt-get install wrk")
    if importlib.util.find_spec("mlflow") is None:
        parser.error("MLflow is needed: `make bench-serve` installs the bench dependency group")
    in_process(args.model.resolve())
    http(args.model.resolve(), args.workers, args.seconds, args.repeats)
    lambda_cold_init(args.model.resolve(), args.runs)


if __name__ == "__main__":
    main()
