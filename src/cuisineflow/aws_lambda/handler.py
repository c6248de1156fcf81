"""Lambda handler: API Gateway REST (v1) and HTTP API (v2) proxy events, or direct calls.

Requests and responses are the HTTP server's: POST /v1/predict with {"recipes": [...]} or
{"ingredients": [...]}; GET /v1/model; GET /healthz. The model named by
CUISINEFLOW_MODEL_URI (a registry version folder, s3:// or local) is loaded once per
cold start and verified against its checksums.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from typing import Any

from pydantic import ValidationError

from cuisineflow.aws_lambda import predictionlog
from cuisineflow.aws_lambda.loader import fetched_version, variable
from cuisineflow.errors import CuisineflowError
from cuisineflow.monitoring.records import records_for
from cuisineflow.predict import Predictor
from cuisineflow.schemas import (
    NOT_AN_OBJECT,
    ModelDescription,
    PredictRequest,
    PredictResponse,
    RecipeIn,
    request_id_or_new,
)

_MODEL: tuple[Predictor, dict[str, Any]] | None = None
MAX_BODY_BYTES = 1_000_000


def model() -> tuple[Predictor, dict[str, Any]]:
    """The predictor, loaded on first use (the cold start) and kept for warm invocations."""
    global _MODEL
    if _MODEL is None:
        predictionlog.destination()  # a log URI it cannot write to fails the cold start
        uri = variable("CUISINEFLOW_MODEL_URI")
        if uri is None:
            raise CuisineflowError(
                "CUISINEFLOW_MODEL_URI is not set: the registry version folder to serve "
                "(s3://BUCKET/PREFIX/registry/NAME/VERSION, or a folder)"
            )
        with fetched_version(uri, variable("CUISINEFLOW_S3_ENDPOINT_URL")) as (
            folder,
            metadata,
        ):
            predictor = Predictor(folder)  # read whole: the folder is removed after
        name, version = _identity(metadata)
        if version == "local":
            logging.warning(
                "%s is no registry version: predictions are logged as %s@local, which "
                "`cuisineflow monitor --model NAME@VERSION` does not see; deploy a registry "
                "version, or `cuisineflow models export NAME@VERSION` of one",
                uri,
                name,
            )
        _MODEL = (predictor, {**metadata, "uri": uri})
    return _MODEL


def _identity(metadata: dict[str, Any]) -> tuple[str, str]:
    """The name and version the model answers, logs and describes itself as: a folder that
    is no registry version is model@local."""
    return str(metadata.get("name", "model")), str(metadata.get("version", "local"))


def predict(payload: Any, request_id: str = "") -> tuple[int, dict[str, Any]]:
    """Status and JSON body for a prediction request."""
    # Validate against the shape the payload claims, so errors name its own fields.
    single = isinstance(payload, dict) and "recipes" not in payload and "ingredients" in payload
    try:
        if single:
            recipes = [RecipeIn.model_validate(payload)]
        else:
            recipes = PredictRequest.model_validate(payload).recipes
    except ValidationError as error:
        return 400, {"detail": _problems(error)}
    predictor, metadata = model()
    name, version = _identity(metadata)
    started = time.perf_counter()
    predictions = predictor.predict([r.ingredients for r in recipes])
    response = PredictResponse.model_validate(
        {
            "model": {"name": name, "version": version},
            "predictions": [
                {"id": r.id, "cuisine": p.cuisine, "confidence": p.confidence, "top": p.top}
                for r, p in zip(recipes, predictions, strict=True)
            ],
        }
    )
    latency_ms = (time.perf_counter() - started) * 1e3  # the request's, as the server logs
    pairs = [(r.id, r.ingredients) for r in recipes]
    predictionlog.record(records_for(predictions, pairs, name, version, request_id, latency_ms))
    return 200, response.model_dump()


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Lambda entry point."""
    if isinstance(event, dict) and ("httpMethod" in event or _is_http_api(event)):
        return _http(event)
    status, body = predict(event, uuid.uuid4().hex)  # a direct invocation: the request JSON
    return body if status == 200 else {"statusCode": status, **body}


def _is_http_api(event: dict[str, Any]) -> bool:
    """An HTTP API (v2) proxy event; without its request context it is a direct call."""
    context = event.get("requestContext")
    return (
        event.get("version") == "2.0"
        and isinstance(context, dict)
        and isinstance(context.get("http"), dict)
    )


def _http(event: dict[str, Any]) -> dict[str, Any]:
    if _is_http_api(event):
        method = event["requestContext"]["http"]["method"]
        path = event.get("rawPath", "/")
    else:
        method, path = event["httpMethod"], event.get("path", "/")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    request_id = request_id_or_new(headers.get("x-request-id"))
    if method == "GET" and path == "/healthz":
        return _response(200, {"status": "ok"}, request_id)
    if method == "GET" and path == "/v1/model":
        predictor, metadata = model()
        name, version = _identity(metadata)
        described = ModelDescription.of(name, version, metadata["uri"], predictor.classes, metadata)
        info = described.model_dump()  # the server's /v1/model
        return _response(200, info, request_id)
    if method != "POST" or path != "/v1/predict":
        return _response(404, {"detail": f"no route {method} {path}"}, request_id)
    body = "" if event.get("body") is None else event["body"]
    if not isinstance(body, str):  # API Gateway sends a string; a hand-made event may not
        return _bad_body("body should be a JSON string", request_id)
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else None
    except (ValueError, TypeError):
        return _bad_body("not valid base64, though isBase64Encoded is true", request_id)
    raw = body.encode("utf-8") if raw is None else raw
    if len(raw) > MAX_BODY_BYTES:
        return _bad_body(f"larger than {MAX_BODY_BYTES} bytes", request_id)
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, or nested too deep
        return _bad_body(f"not valid JSON: {error}", request_id)
    status, body = predict(payload, request_id)
    return _response(status, body, request_id)


def _bad_body(message: str, request_id: str) -> dict[str, Any]:
    return _response(400, {"detail": [{"field": "body", "message": message}]}, request_id)


def _response(status: int, body: dict[str, Any], request_id: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "x-request-id": request_id},
        "body": json.dumps(body),
    }


def _problems(error: ValidationError) -> list[dict[str, str]]:
    problems = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "body"
        wrong_shape = field == "body" and item["type"] in {"model_type", "dict_type"}
        problems.append({"field": field, "message": NOT_AN_OBJECT if wrong_shape else item["msg"]})
    return problems
