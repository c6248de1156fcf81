"""`cuisineflow serve` as a real process, spoken to over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from cuisineflow.monitoring.window import read_predictions
from cuisineflow.predict import Predictor
from cuisineflow.registry import ModelRef, Registry
from cuisineflow.settings import DEFAULT_STORE
from cuisineflow.storage import Store
from cuisineflow.storage.s3server import free_port

pytestmark = pytest.mark.integration
TOKEN = "test-reload-token"
JSON = {"content-type": "application/json"}


def start_server(
    root: Path, *options: str, token: str | None = TOKEN
) -> tuple[subprocess.Popen[str], str]:
    """`cuisineflow serve` started from a subfolder of the project at `root`, once ready."""
    port = free_port()
    unset = {"CUISINEFLOW_STORE", "CUISINEFLOW_RELOAD_TOKEN"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    if token is not None:
        env["CUISINEFLOW_RELOAD_TOKEN"] = token
    command = [sys.executable, "-m", "cuisineflow", "serve", "--port", str(port), *options]
    process = subprocess.Popen(
        command, cwd=root / "notebooks", env=env, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(process.stderr.read() if process.stderr else "server did not start")


def project_with_model(root: Path, tiny_model: Path) -> Registry:
    """A project whose default store holds the tiny model as cuisine@production (version 1)."""
    (root / ".dvc").mkdir()
    (root / "notebooks").mkdir()
    registry = Registry(Store.open(str(root / DEFAULT_STORE)))
    lineage = {"lineage": {"git": {"commit": "abc", "dirty": False}}}
    registry.register("cuisine", tiny_model, {**lineage, "metrics": {"test": {"accuracy": 0.95}}})
    registry.promote(ModelRef.parse("cuisine@1"), "production")
    return registry


def second_version(registry: Registry, tiny_model: Path, folder: Path, version: int = 2) -> None:
    """Register a version 2 (or `version`) of the tiny model (same content would be
    deduplicated)."""
    shutil.copytree(tiny_model, folder)
    spec = json.loads((folder / "model.json").read_text())
    spec["note"] = f"version {version}"  # a harmless key
    (folder / "model.json").write_text(json.dumps(spec))
    assert registry.register("cuisine", folder, {}) == (version, True)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, tiny_model: Path
) -> Iterator[tuple[str, Registry, Path]]:
    # Started from a subfolder of a project: the default store is the project's, not the cwd's.
    root = tmp_path_factory.mktemp("server")
    registry = project_with_model(root, tiny_model)
    process, url = start_server(root, "--model", "cuisine@production")
    yield url, registry, root
    process.terminate()
    process.wait(timeout=10)


def test_predict_one_and_many(server: tuple[str, Registry, Path], tiny_model: Path) -> None:
    url, _, _ = server
    one = httpx.post(
        f"{url}/v1/predict", json={"ingredients": ["soy sauce", "ginger", "scallions"]}
    )
    assert one.status_code == 200
    assert len(one.headers["X-Request-ID"]) == 32
    body = one.json()
    assert body["model"] == {"name": "cuisine", "version": "1"}
    assert body["predictions"][0]["cuisine"] == "chinese"
    assert len(body["predictions"][0]["top"]) == 3
    # The model's own answer, best first, as `predict` gives it.
    (expected,) = Predictor(tiny_model).predict([["soy sauce", "ginger", "scallions"]])
    assert body["predictions"][0]["top"] == expected.top
    assert body["predictions"][0]["confidence"] == expected.top[0]["probability"]
    many = httpx.post(
        f"{url}/v1/predict",
        json={
            "recipes": [
                {"id": 7, "ingredients": ["tortillas", "cumin"]},
                {"id": "x", "ingredients": ["basil", "pasta"]},
            ]
        },
        headers={"X-Request-ID": "abc-123"},
    )
    assert many.headers["X-Request-ID"] == "abc-123"
    assert [(p["id"], p["cuisine"]) for p in many.json()["predictions"]] == [
        (7, "mexican"),
        ("x", "italian"),
    ]


def test_order_and_case_do_not_change_a_prediction(server: tuple[str, Registry, Path]) -> None:
    url, _, _ = server
    a = httpx.post(
        f"{url}/v1/predict", json={"ingredients": ["garam masala", "ghee", "Basmati Rice"]}
    )
    b = httpx.post(
        f"{url}/v1/predict", json={"ingredients": ["BASMATI RICE", "Ghee", "garam masala"]}
    )
    assert a.json()["predictions"][0]["top"] == b.json()["predictions"][0]["top"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"not json", 422, "body"),
        (b'{"recipes": [{"ingredients": []}]}', 422, "recipes.0.ingredients"),
        (b'{"recipes": [{"ingredients": "salt"}]}', 422, "recipes.0.ingredients"),
        (b'{"recipes": [{"ingredients": [1, 2]}]}', 422, "recipes.0.ingredients.0"),
        (b'{"ingredients": ["salt"], "colour": "red"}', 422, "colour"),
        (json.dumps({"recipes": [{"ingredients": ["salt"]}] * 10_000}).encode(), 422, "recipes"),
        (json.dumps({"ingredients": ["x" * 1_000_000]}).encode(), 413, "body"),
        (json.dumps({"ingredients": ["x" * 500]}).encode(), 422, "ingredients.0"),
        # A lone surrogate id would be answered, then break the log's whole batch of records.
        (b'{"ingredients": ["salt"], "id": "\\udc00"}', 422, "id"),
        (b'{"recipes": [{"ingredients": ["salt"], "id": true}]}', 422, "recipes.0.id"),
    ],
)
def test_bad_requests_get_a_4xx_naming_the_field(
    server: tuple[str, Registry, Path], body: bytes, status: int, field: str
) -> None:
    url, _, _ = server
    response = httpx.post(
        f"{url}/v1/predict", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    assert field in [problem["field"] for problem in response.json()["detail"]]


def test_a_bad_single_recipe_gets_only_its_own_problems(
    server: tuple[str, Registry, Path],
) -> None:
    url, _, _ = server
    response = httpx.post(f"{url}/v1/predict", json={"ingredients": []})
    assert response.status_code == 422
    assert [problem["field"] for problem in response.json()["detail"]] == ["ingredients"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b'{"ingredients": ["salt"]}', {"content-type": "text/plain"}, 415,
         "send JSON, with Content-Type: application/json (not text/plain)"),
        (b"ingredients=salt", {"content-type": "application/x-www-form-urlencoded"}, 415,
         "send JSON, with Content-Type: application/json (not application/x-www-form-urlencoded)"),
        (b'{"ingredients": ["cr\xe8me"]}', JSON, 422,
         "not parsable as JSON (not UTF-8, or nested too deeply)"),
        (b"\x1f\x8b\x08\x00", {**JSON, "content-encoding": "gzip"}, 415,
         "Content-Encoding gzip is not accepted: send the JSON uncompressed"),
        (b'{"ingredients": ["salt"]}', {**JSON, "content-encoding": "br"}, 415,
         "Content-Encoding br is not accepted: send the JSON uncompressed"),
        (b"[1, 2]", {**JSON, "content-encoding": "gzip"}, 415,  # JSON, but not a request
         "Content-Encoding gzip is not accepted: send the JSON uncompressed"),
        (b"[1, 2]", JSON, 422,
         'should be a JSON object: {"recipes": [...]} or {"ingredients": [...]}'),
    ],
)  # fmt: skip
def test_a_body_that_is_not_a_json_object_gets_one_plain_problem(
    server: tuple[str, Registry, Path],
    body: bytes,
    headers: dict[str, str],
    status: int,
    message: str,
) -> None:
    url, _, _ = server
    response = httpx.post(f"{url}/v1/predict", content=body, headers=headers)
    assert response.status_code == status
    assert response.json() == {"detail": [{"field": "body", "message": message}]}


def test_a_chunked_body_is_held_to_the_same_limit(server: tuple[str, Registry, Path]) -> None:
    url, _, _ = server

    def chunks(body: bytes) -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield from (body[i : i + 65536] for i in range(0, len(body), 65536))

    big = json.dumps({"ingredients": ["x" * 3_000_000]}).encode()
    response = httpx.post(f"{url}/v1/predict", content=chunks(big), headers=JSON)
    assert response.status_code == 413
    small = json.dumps({"ingredients": ["tortillas", "cumin", "lime", "jalapeno"]}).encode()
    response = httpx.post(f"{url}/v1/predict", content=chunks(small), headers=JSON)
    assert response.status_code == 200
    assert response.json()["predictions"][0]["cuisine"] == "mexican"
    # Refused before routing, the 413 is still counted under the route it was sent to.
    text = httpx.get(f"{url}/metrics").text
    assert 'cuisineflow_requests_total{route="/v1/predict",status="413"}' in text


def test_metrics_health_and_openapi(server: tuple[str, Registry, Path], tiny_model: Path) -> None:
    url, registry, _ = server
    httpx.post(f"{url}/v1/predict", json={"ingredients": ["tortillas", "cumin", "lime"]})
    text = httpx.get(f"{url}/metrics").text
    assert 'cuisineflow_requests_total{route="/v1/predict",status="200"}' in text
    assert 'cuisineflow_predictions_total{cuisine="mexican"}' in text
    assert 'cuisineflow_model_info{name="cuisine",version="1"} 1.0' in text
    assert "cuisineflow_request_seconds_bucket" in text
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{url}/readyz").json() == {"ready": True}
    spec = httpx.get(f"{url}/openapi.json").json()
    assert "/v1/predict" in spec["paths"]
    # Every answer of the model routes is described, field by field, as it is sent.
    for path, method, schema in (("/v1/model", "get", "ModelDescription"),
                                 ("/v1/model/reload", "post", "ReloadResponse")):  # fmt: skip
        answer = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]
        assert answer["schema"] == {"$ref": f"#/components/schemas/{schema}"}
    described = httpx.get(f"{url}/v1/model").json()
    assert sorted(described) == sorted(
        spec["components"]["schemas"]["ModelDescription"]["properties"]
    )
    httpx.get(f"{url}/docs")
    httpx.get(f"{url}/no-such-page")
    text = httpx.get(f"{url}/metrics").text
    assert 'cuisineflow_requests_total{route="/openapi.json",status="200"}' in text
    assert 'cuisineflow_requests_total{route="/docs",status="200"}' in text
    assert 'cuisineflow_requests_total{route="unmatched",status="404"}' in text
    described = httpx.get(f"{url}/v1/model").json()
    assert described["metrics"] == {"test": {"accuracy": 0.95}}
    assert described["reference"] == "cuisine@production"  # as asked for, not the version
    assert described["classes"] == list(Predictor(tiny_model).classes)
    assert described["lineage"] == registry.metadata("cuisine", 1)["lineage"]
    assert described["lineage"] == {"git": {"commit": "abc", "dirty": False}}


def test_reload_needs_the_token_and_keeps_serving_on_failure(
    server: tuple[str, Registry, Path], tiny_model: Path, tmp_path: Path
) -> None:
    url, registry, _ = server
    assert httpx.post(f"{url}/v1/model/reload").status_code == 401
    assert (
        httpx.post(f"{url}/v1/model/reload", headers={"Authorization": "Bearer wrong"}).status_code
        == 401
    )
    latin = httpx.post(f"{url}/v1/model/reload", headers={"Authorization": b"Bearer \xe9t\xe9"})
    assert latin.status_code == 401  # a token with letters beyond ASCII is simply wrong
    auth = {"Authorization": f"Bearer {TOKEN}"}
    # A new version whose stored coefficients are then damaged: the reload is refused.
    second_version(registry, tiny_model, tmp_path / "v2")
    registry.promote(ModelRef.parse("cuisine@2"), "production")
    coef = Path(registry.store.path("registry/cuisine/2/coef.npy"))
    good = coef.read_bytes()
    coef.write_bytes(good[:-4] + b"\x00\x00\x00\x00")
    failed = httpx.post(f"{url}/v1/model/reload", headers=auth)
    assert failed.status_code == 409
    assert "still serving version 1" in failed.json()["detail"]
    assert httpx.get(f"{url}/v1/model").json()["version"] == "1"
    assert httpx.post(f"{url}/v1/predict", json={"ingredients": ["salt"]}).status_code == 200
    coef.write_bytes(good)
    ok = httpx.post(f"{url}/v1/model/reload", headers=auth)
    assert ok.json() == {"name": "cuisine", "version": "2", "previous": "1"}
    assert (
        httpx.post(f"{url}/v1/predict", json={"ingredients": ["salt"]}).json()["model"]["version"]
        == "2"
    )
    # One worker: the version it no longer serves leaves the metrics, not kept at 0.
    text = httpx.get(f"{url}/metrics").text
    assert 'cuisineflow_model_info{name="cuisine",version="2"} 1.0' in text
    assert 'cuisineflow_model_info{name="cuisine",version="1"}' not in text


def test_workers_share_reloads_and_metrics(tiny_model: Path, tmp_path: Path) -> None:
    # Each worker holds its own model and metrics; a request reaches only one of them.
    registry = project_with_model(tmp_path, tiny_model)
    process, url = start_server(tmp_path, "--model", "cuisine@production", "--workers", "2")
    try:
        # A new connection each time: the kernel hands them to either worker.
        for _ in range(30):
            httpx.post(f"{url}/v1/predict", json={"ingredients": ["soy sauce", "ginger"]})
        scrapes = [httpx.get(f"{url}/metrics").text for _ in range(6)]
        line = 'cuisineflow_requests_total{route="/v1/predict",status="200"} 30.0'
        assert all(line in text for text in scrapes)
        assert all('cuisineflow_predictions_total{cuisine="chinese"} 30.0' in t for t in scrapes)
        second_version(registry, tiny_model, tmp_path / "v2")
        registry.promote(ModelRef.parse("cuisine@2"), "production")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.post(f"{url}/v1/model/reload", headers=auth).json()["version"] == "2"
        # The other worker looks every 0.5 s; on a loaded machine its reload takes a while.
        deadline, served = time.monotonic() + 30, []
        while time.monotonic() < deadline and served != ["2"] * 40:
            time.sleep(0.5)
            served = [httpx.get(f"{url}/v1/model").json()["version"] for _ in range(40)]
        assert served == ["2"] * 40
        text = httpx.get(f"{url}/metrics").text
        assert 'cuisineflow_model_info{name="cuisine",version="2"} 1.0' in text
        assert 'cuisineflow_model_info{name="cuisine",version="1"} 0.0' in text
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_reload_prunes_the_cached_copies_beyond_the_setting(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = project_with_model(tmp_path, tiny_model)
    monkeypatch.setenv("CUISINEFLOW_MODEL_CACHE_VERSIONS", "1")
    process, url = start_server(tmp_path, "--model", "cuisine@production")
    try:
        cached = tmp_path / ".cuisineflow" / "cache" / "models" / "cuisine"
        long_ago = time.time() - 3600  # out of the grace a process has to read its copy
        os.utime(cached / "1", (long_ago, long_ago))
        second_version(registry, tiny_model, tmp_path / "v2")
        registry.promote(ModelRef.parse("cuisine@2"), "production")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.post(f"{url}/v1/model/reload", headers=auth).json()["version"] == "2"
        assert sorted(p.name for p in cached.iterdir() if p.is_dir()) == ["2"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_request_that_fails_is_counted_as_a_500() -> None:
    # In process: every route of the real server answers what it is sent (the fuzzing test
    # below finds no 500), so the failing route is made here, behind the same middleware.
    from fastapi import FastAPI

    from cuisineflow.serve.app import Metrics, ObserveMiddleware

    app = FastAPI()

    @app.get("/v1/fails")
    def fails() -> None:
        time.sleep(0.01)  # the time until it failed is observed too
        raise RuntimeError("a defect")

    metrics = Metrics()
    app.add_middleware(ObserveMiddleware, metrics=metrics)

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://server") as client:
            return await client.get("/v1/fails")

    assert asyncio.run(get()).status_code == 500
    sample = metrics.registry.get_sample_value
    assert sample("cuisineflow_requests_total", {"route": "/v1/fails", "status": "500"}) == 1
    assert sample("cuisineflow_request_seconds_count", {"route": "/v1/fails"}) == 1
    assert sample("cuisineflow_request_seconds_sum", {"route": "/v1/fails"}) >= 0.01


def test_a_worker_whose_follow_up_reload_fails_tries_again(
    tiny_model: Path, tmp_path: Path
) -> None:
    # Two workers in one process and event loop, sharing the reload signal as `serve
    # --workers 2` does; each has a store of its own, so that only the second one's store
    # lacks a file for a while.
    from cuisineflow.serve.app import create_app
    from cuisineflow.serve.model import ModelHolder, ReloadSignal

    (tmp_path / "first").mkdir()
    first = project_with_model(tmp_path / "first", tiny_model)
    second_version(first, tiny_model, tmp_path / "v2")
    shutil.copytree(tmp_path / "first" / DEFAULT_STORE, tmp_path / "second-store")
    second = Registry(Store.open(str(tmp_path / "second-store")))
    signal = tmp_path / "reloaded"
    one, other = (
        create_app(ModelHolder("cuisine@production", registry, tmp_path / f"cache-{i}"),
                   TOKEN, None, ReloadSignal(signal))
        for i, registry in enumerate((first, second))
    )  # fmt: skip

    async def served(client: httpx.AsyncClient) -> str:
        version: str = (await client.get("/v1/model")).json()["version"]
        return version

    async def reload_and_follow() -> None:
        async with (
            one.router.lifespan_context(one),
            other.router.lifespan_context(other),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=one), base_url="http://a") as a,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://b") as b,
        ):
            for registry in (first, second):
                registry.promote(ModelRef.parse("cuisine@2"), "production")
            coef = Path(second.store.path("registry/cuisine/2/coef.npy"))
            kept = coef.read_bytes()
            coef.unlink()  # the second worker's store cannot give version 2 for now
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert (await a.post("/v1/model/reload", headers=auth)).json()["version"] == "2"
            await asyncio.sleep(2)  # the other worker has followed, and failed, at least once
            assert await served(b) == "1"
            coef.write_bytes(kept)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and await served(b) != "2":
                await asyncio.sleep(0.2)
            assert await served(b) == "2"

    asyncio.run(reload_and_follow())


def test_workers_serve_the_version_reloaded_not_what_the_alias_came_to_mean(
    tiny_model: Path, tmp_path: Path
) -> None:
    # Workers of one server, in one process and event loop, sharing the reload signal as
    # `serve --workers 2` does (it tells them the version it fetched, cuisine@1).
    from cuisineflow.serve.app import create_app
    from cuisineflow.serve.model import ModelHolder, ReloadSignal

    registry = project_with_model(tmp_path, tiny_model)
    for version in (2, 3):
        second_version(registry, tiny_model, tmp_path / f"v{version}", version)
    signal = tmp_path / "reloaded"
    ReloadSignal(signal).announce("cuisine@1")

    def worker(i: int) -> FastAPI:
        holder = ModelHolder("cuisine@production", registry, tmp_path / f"cache-{i}")
        return create_app(holder, TOKEN, None, ReloadSignal(signal))

    async def served(app: FastAPI) -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://w") as client:
            version: str = (await client.get("/v1/model")).json()["version"]
            return version

    async def respawn_then_reload() -> None:
        one, respawned = worker(1), worker(2)
        async with one.router.lifespan_context(one):
            # Promoted, not yet reloaded: a worker that starts now (respawned after a
            # crash) serves what its siblings serve.
            registry.promote(ModelRef.parse("cuisine@2"), "production")
            async with respawned.router.lifespan_context(respawned):
                assert (await served(one), await served(respawned)) == ("1", "1")
                transport = httpx.ASGITransport(app=one)
                async with httpx.AsyncClient(transport=transport, base_url="http://w") as a:
                    auth = {"Authorization": f"Bearer {TOKEN}"}
                    assert (await a.post("/v1/model/reload", headers=auth)).json()["version"] == "2"
                # Promoted again before the other worker follows: it follows to 2, the
                # version reloaded, not to 3.
                registry.promote(ModelRef.parse("cuisine@3"), "production")
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and await served(respawned) == "1":
                    await asyncio.sleep(0.1)
                assert (await served(one), await served(respawned)) == ("2", "2")

    asyncio.run(respawn_then_reload())


def test_an_exported_folder_is_described_by_its_metadata(tiny_model: Path, tmp_path: Path) -> None:
    registry = project_with_model(tmp_path, tiny_model)
    exported = tmp_path / "exported"
    registry.export(ModelRef.parse("cuisine@1"), exported)
    process, url = start_server(tmp_path, "--model", str(exported))
    try:
        described = httpx.get(f"{url}/v1/model").json()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (described["name"], described["version"]) == ("cuisine", "1")
    assert described["metrics"] == {"test": {"accuracy": 0.95}}  # as registered, not null
    assert described["created_at"] == registry.metadata("cuisine", 1)["created_at"]


def test_reload_without_a_token_is_off_and_predictions_are_logged(
    tiny_model: Path, tmp_path: Path
) -> None:
    project_with_model(tmp_path, tiny_model)
    process, url = start_server(tmp_path, "--model", "cuisine@production", token=None)
    try:
        # Logging is on by default, into the project's store: each recipe as answered.
        recipes = [["soy sauce", "ginger"], ["tortillas", "cumin"], ["basil", "pasta"]]
        answered = httpx.post(
            f"{url}/v1/predict",
            json={"recipes": [{"id": i, "ingredients": r} for i, r in enumerate(recipes)]},
            headers={"X-Request-ID": "abc"},
        ).json()["predictions"]
        refused = httpx.post(f"{url}/v1/model/reload", headers={"Authorization": "Bearer x"})
        assert refused.status_code == 403
        assert refused.json() == {
            "detail": "reload is off: start the server with CUISINEFLOW_RELOAD_TOKEN"
        }
        # A request id of 1 to 128 printable ASCII characters is echoed; any other (one of
        # 500 KB was copied into each of a request's 1,000 log records) is replaced.
        for given in (b"caf\xe9", b"r" * 129, b"a b"):
            echoed = httpx.get(f"{url}/healthz", headers={"X-Request-ID": given})
            replaced = dict(echoed.headers.raw)[b"x-request-id"]
            assert re.fullmatch(rb"[0-9a-f]{32}", replaced), given
        kept = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "r" * 128})
        assert kept.headers["x-request-id"] == "r" * 128
    finally:
        process.terminate()
        process.wait(timeout=10)
    # The log is buffered; the shutdown wrote it.
    logged = read_predictions(Store.open(str(tmp_path / DEFAULT_STORE)), None, None)
    assert logged.num_rows == 3
    assert logged["request_id"].to_pylist() == ["abc"] * 3
    assert logged["model_version"].to_pylist() == ["1"] * 3
    assert logged["id"].to_pylist() == ["0", "1", "2"]
    assert logged["ingredients"].to_pylist() == recipes
    assert logged["cuisine"].to_pylist() == [p["cuisine"] for p in answered]
    assert logged["confidence"].to_pylist() == [p["confidence"] for p in answered]
    assert logged["top_probabilities"].to_pylist() == [
        [t["probability"] for t in p["top"]] for p in answered
    ]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_model_that_cannot_load_stops_the_start(
    workers: str, tiny_model: Path, tmp_path: Path
) -> None:
    project_with_model(tmp_path, tiny_model)
    command = [sys.executable, "-m", "cuisineflow", "serve", "--model", "cuisine@7",
               "--port", str(free_port()), "--workers", workers]  # fmt: skip
    result = subprocess.run(
        command, cwd=tmp_path / "notebooks", capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    store = tmp_path / DEFAULT_STORE
    assert result.stderr == f"error: cuisine@7 is not in local store {store}\n"


def test_fuzzing_the_openapi_schema_finds_no_server_error(
    server: tuple[str, Registry, Path], tmp_path: Path
) -> None:
    url, _, _ = server
    schemathesis = Path(sys.executable).parent / "schemathesis"
    result = subprocess.run(
        [str(schemathesis), "run", f"{url}/openapi.json", "--checks", "not_a_server_error",
         "--max-examples", "40", "--seed", "1", "--no-color"],
        capture_output=True, text=True, timeout=300, check=False,
        cwd=tmp_path,  # schemathesis writes its .schemathesis/ cache here, not into the checkout
    )  # fmt: skip
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert " passed" in summary
    assert "failed" not in summary.split("Test cases:")[-1].splitlines()[1]
