"""FastAPI app factory: /v1/predict, /v1/model, reload, health, Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Header, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cuisineflow import __version__
from cuisineflow.errors import CuisineflowError
from cuisineflow.monitoring.log import PredictionLogger, records_for
from cuisineflow.schemas import (
    NOT_AN_OBJECT,
    ModelDescription,
    PredictRequest,
    PredictResponse,
    RecipeIn,
    ReloadResponse,
    request_id_or_new,
)
from cuisineflow.serve.model import LoadedModel, ModelHolder, ReloadSignal

MAX_BODY_BYTES = 1_000_000
log = logging.getLogger(__name__)
INLINE_RECIPES = 32  # batches up to this size are predicted on the event loop (~0.1 ms each)
RELOAD_FILE_VARIABLE = "CUISINEFLOW_SERVE_RELOAD_FILE"  # set by `serve` for its workers
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"  # likewise
FOLLOW_SECONDS = 0.5  # how often a worker looks for a reload made by another
MAX_RETRY_SECONDS = 30.0  # the longest a worker waits to try a failed follow-up reload again


class Metrics:
    """Prometheus metrics of one app (its own registry, so apps in one process don't clash).

    The workers of `serve --workers N` keep their values in files of one folder
    (prometheus_client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR), and a scrape of any
    worker adds them up: otherwise each scrape would show the one worker that answered.
    """

    def __init__(self) -> None:
        self.shared = MULTIPROCESS_VARIABLE in os.environ
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cuisineflow_requests", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "cuisineflow_request_seconds", "Request latency", ["route"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )  # fmt: skip
        self.predictions = Counter(
            "cuisineflow_predictions", "Predictions by cuisine", ["cuisine"], registry=self.registry
        )
        # 1 for the version served. Across workers the value set last counts: a worker that
        # died leaves its file behind, and a sum would keep counting it.
        self.model = Gauge(
            "cuisineflow_model_info", "The model version being served", ["name", "version"],
            registry=self.registry, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.dropped = Counter(
            "cuisineflow_prediction_log_dropped", "Prediction log records dropped",
            registry=self.registry,
        )  # fmt: skip

    def serving(self, previous: LoadedModel | None, loaded: LoadedModel) -> None:
        """Count this worker under the version it now serves."""
        if previous is not None:
            # Multiprocess mode cannot remove a series: the old version drops to 0.
            if self.shared:
                self.model.labels(previous.name, previous.version).set(0)
            else:
                self.model.remove(previous.name, previous.version)
        self.model.labels(loaded.name, loaded.version).set(1)

    def exposition(self) -> bytes:
        """The text a scrape gets: this app's metrics, or every worker's added up."""
        if not self.shared:
            return generate_latest(self.registry)
        workers = CollectorRegistry()
        MultiProcessCollector(workers)  # type: ignore[no-untyped-call]
        return generate_latest(workers)


class ObserveMiddleware:
    """Pure ASGI middleware: request ids, body-size limit, Prometheus counts and latency.

    (Starlette's BaseHTTPMiddleware costs about as much per request as a prediction.)
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id")
        request_id = request_id_or_new(given.decode("latin-1") if given else None)
        scope.setdefault("state", {})["request_id"] = request_id  # the route logs it
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                echoed = request_id.encode("latin-1")  # the bytes it came as
                message["headers"] = [*message["headers"], (b"x-request-id", echoed)]
            await send(message)

        length = headers.get(b"content-length")
        if length is None:  # chunked: read up to the limit here, then hand the body on
            body, receive = await _read_limited(receive)
            too_large = body is None
        else:
            too_large = not length.isdigit() or int(length) > MAX_BODY_BYTES
        # Refused before routing: no route reads a body the server cannot read.
        encoding = headers.get(b"content-encoding", b"").decode("latin-1").strip().lower()
        if too_large:
            refused = _body_problem(413, f"larger than {MAX_BODY_BYTES} bytes")
        elif encoding not in ("", "identity"):
            # A compressed body, or one declared so though its bytes parse: not what the
            # client meant to send either way.
            refused = _body_problem(
                415, f"Content-Encoding {encoding} is not accepted: send the JSON uncompressed"
            )
        else:
            refused = None
        try:
            if refused is None:
                await self.app(scope, receive, send_with_id)
            else:
                await refused(scope, receive, send_with_id)
        finally:  # an unhandled error is answered 500 by Starlette, outside: count it so
            path = _route_path(scope)
            self.metrics.requests.labels(path, str(status["code"])).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - started)


def _route_path(scope: Scope) -> str:
    """The route a request is counted under: the one that answered, else the one its path names.

    FastAPI names its own routes in the scope; the docs routes, and a request refused here
    before routing (413), are matched against the app's routes instead.
    """
    route = scope.get("route")
    if route is not None:
        return str(route.path)
    for candidate in getattr(scope.get("app"), "routes", ()):
        match, _ = candidate.matches(scope)
        if match is not Match.NONE:  # PARTIAL: the path is right, the method is not (405)
            return str(candidate.path)
    return "unmatched"


async def _read_limited(receive: Receive) -> tuple[bytes | None, Receive]:
    """A body without Content-Length, read up to MAX_BODY_BYTES (None if longer), replayable."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"", receive
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_BODY_BYTES:
            return None, receive
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # after the body: wait for the disconnect
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


def _body_problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": [{"field": "body", "message": message}]}, status_code=status)


def _errors(error: RequestValidationError) -> list[dict[str, Any]]:
    """Each problem with the field it concerns, e.g. recipes.0.ingredients."""
    items = error.errors()
    # The body is one of two shapes; report only the problems of the shape it chose.
    if isinstance(error.body, dict):
        branch = "PredictRequest" if "recipes" in error.body else "RecipeIn"
        if "recipes" in error.body or "ingredients" in error.body:
            items = [i for i in items if branch in i["loc"]] or items
    problems = []
    for item in items:
        # Drop "body" and the union's branch names FastAPI puts in front of the field.
        parts = [str(p) for p in item["loc"] if p not in {"body", "PredictRequest", "RecipeIn"}]
        field = "body" if item["type"] == "json_invalid" else ".".join(parts) or "body"
        if field == "body" and item["type"] in {"model_attributes_type", "dict_type"}:
            message = NOT_AN_OBJECT
        else:
            message = item["msg"]
        problem = {"field": field, "message": message}
        if problem not in problems:  # each branch of the union reports a wrong shape alike
            problems.append(problem)
    return problems


def create_app(
    holder: ModelHolder,
    reload_token: str | None = None,
    logger: PredictionLogger | None = None,
    reload_signal: ReloadSignal | None = None,
) -> FastAPI:
    """The server around a model holder; the model is loaded at startup."""
    metrics = Metrics()
    if logger is not None:
        logger.on_drop = metrics.dropped.inc  # counted when dropped, with or without traffic
    swapping = threading.Lock()  # a reload and a follow-up one never interleave

    def swap(exact: str | None = None) -> tuple[LoadedModel | None, LoadedModel]:
        """Load the reference again (or `exact`, as ModelHolder.load); the previous model
        serves until the new one is in."""
        with swapping:
            previous = holder.current
            loaded = holder.load(exact)
            metrics.serving(previous, loaded)
        return previous, loaded

    async def follow_reloads(signal: ReloadSignal) -> None:
        wait = FOLLOW_SECONDS
        while True:
            await asyncio.sleep(wait)
            pending = signal.pending()
            if pending is None:  # none, or followed already (this worker reloaded)
                wait = FOLLOW_SECONDS
                continue
            announced, exact = pending
            try:
                await run_in_threadpool(swap, exact)
            except Exception as error:  # keep serving the old model, and try again later
                serving = holder.current.version if holder.current else None
                if wait == FOLLOW_SECONDS:  # said once, not at every try
                    log.warning("another worker's reload failed here; still serving version "
                                "%s, trying again: %s", serving, error)  # fmt: skip
                wait = min(2 * wait, MAX_RETRY_SECONDS)
                continue
            signal.followed(announced)
            wait = FOLLOW_SECONDS

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Where the server's other workers are, if any; a model that fails to load or
        # verify stops the start.
        swap(reload_signal.serving() if reload_signal else None)
        follower = asyncio.create_task(follow_reloads(reload_signal)) if reload_signal else None
        yield
        if follower is not None:
            follower.cancel()
        if logger is not None:
            logger.close()  # what is still buffered is written at shutdown

    app = FastAPI(
        title="cuisineflow",
        version=__version__,
        description="Predicts a recipe's cuisine from its ingredients.",
        lifespan=lifespan,
    )

    app.add_middleware(ObserveMiddleware, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if error.body and not (
            content_type == "application/json" or content_type.endswith("+json")
        ):
            return _body_problem(415, f"send JSON, with Content-Type: application/json (not "
                                      f"{content_type or 'none'})")  # fmt: skip
        return JSONResponse({"detail": _errors(error)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400 and request.url.path == "/v1/predict":  # FastAPI's own
            # "There was an error parsing the body": bytes that do not decode as JSON.
            return _body_problem(422, "not parsable as JSON (not UTF-8, or nested too deeply)")
        return JSONResponse({"detail": error.detail}, error.status_code, headers=error.headers)

    @app.post("/v1/predict", response_class=Response, responses={200: {"model": PredictResponse}})
    async def predict(payload: PredictRequest | RecipeIn, request: Request) -> Response:
        """Predict the cuisine of each recipe: {"recipes": [...]} or one {"ingredients": [...]}."""
        started = time.perf_counter()
        recipes = payload.recipes if isinstance(payload, PredictRequest) else [payload]
        loaded = holder.current
        if loaded is None:
            raise HTTPException(503, "no model loaded yet")
        ingredients = [r.ingredients for r in recipes]
        if len(ingredients) > INLINE_RECIPES:  # big batches off the event loop
            predictions = await run_in_threadpool(loaded.predictor.predict, ingredients)
        else:
            predictions = loaded.predictor.predict(ingredients)
        for prediction in predictions:
            metrics.predictions.labels(prediction.cuisine).inc()
        body = {
            "model": {"name": loaded.name, "version": loaded.version},
            "predictions": [
                {"id": r.id, "cuisine": p.cuisine, "confidence": p.confidence, "top": p.top}
                for r, p in zip(recipes, predictions, strict=True)
            ],
        }
        if logger is not None:
            request_id = getattr(request.state, "request_id", "")
            logger.log(
                records_for(predictions, [(r.id, r.ingredients) for r in recipes], loaded.name,
                            loaded.version, request_id, (time.perf_counter() - started) * 1e3)
            )  # fmt: skip
        return Response(json.dumps(body), media_type="application/json")

    @app.get("/v1/model")
    def model() -> ModelDescription:
        loaded = holder.current
        if loaded is None:
            raise HTTPException(503, "no model loaded yet")
        return ModelDescription.of(loaded.name, loaded.version, holder.ref,
                                   loaded.predictor.classes, loaded.metadata)  # fmt: skip

    @app.post("/v1/model/reload")
    def reload(authorization: str | None = Header(default=None)) -> ReloadResponse:
        if not reload_token:
            raise HTTPException(
                403, "reload is off: start the server with CUISINEFLOW_RELOAD_TOKEN"
            )
        # Compared as bytes: compare_digest refuses str with non-ASCII letters (a header
        # arrives as latin-1), and that would be a 500, not a 401.
        expected = f"Bearer {reload_token}".encode()
        given = None if authorization is None else authorization.encode("latin-1")
        if given is None or not secrets.compare_digest(given, expected):
            raise HTTPException(401, "a valid bearer token (CUISINEFLOW_RELOAD_TOKEN) is required")
        try:
            previous, loaded = swap()
        except (CuisineflowError, OSError, ValueError) as error:
            version = holder.current.version if holder.current else None
            raise HTTPException(
                409, f"reload failed, still serving version {version}: {error}"
            ) from None
        if reload_signal is not None:
            reload_signal.announce(loaded.exact)  # the server's other workers follow
        return ReloadResponse(
            name=loaded.name,
            version=loaded.version,
            previous=previous.version if previous else None,
        )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        ready = holder.current is not None
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return app


def app_from_settings() -> FastAPI:
    """The app for `uvicorn --factory` workers: settings from the environment."""
    from cuisineflow.registry import Registry
    from cuisineflow.settings import get_settings
    from cuisineflow.storage import open_store
    from cuisineflow.storage.dvc import DvcRepo

    settings = get_settings()
    root = DvcRepo.root_or_cwd()  # the same store and cache as every other command
    store = open_store(settings, root)
    holder = ModelHolder(
        settings.model, Registry(store), root / settings.model_cache, settings.model_cache_versions
    )
    logger = PredictionLogger(store) if settings.log_predictions else None
    reload_file = os.environ.get(RELOAD_FILE_VARIABLE)
    signal = ReloadSignal(Path(reload_file)) if reload_file else None
    return create_app(holder, settings.reload_token, logger, signal)
