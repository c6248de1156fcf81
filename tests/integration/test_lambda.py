"""The Lambda handler with real-shaped API Gateway events, its model read from the S3 endpoint.

No Lambda runtime can run here (no container engine): the handler is called as the
runtime calls it, with the event shapes API Gateway sends.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from cuisineflow.aws_lambda import handler as lambda_handler
from cuisineflow.errors import CuisineflowError
from cuisineflow.predict import Predictor
from cuisineflow.registry import Registry
from cuisineflow.schemas import NOT_AN_OBJECT
from cuisineflow.storage import Store
from cuisineflow.storage.s3server import free_port
from tests.conftest import S3Endpoint

pytestmark = pytest.mark.integration


@pytest.fixture
def model_on_s3(s3_endpoint: S3Endpoint, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in s3_endpoint.env.items():
        monkeypatch.setenv(name, value)
    store = Store.open(f"s3://{s3_endpoint.bucket}/lambda", endpoint_url=s3_endpoint.url)
    version, _ = Registry(store).register(
        "cuisine", tiny_model, {"lineage": {"git": {"commit": "abc"}}}
    )
    uri = f"s3://{s3_endpoint.bucket}/lambda/registry/cuisine/{version}"
    monkeypatch.setenv("CUISINEFLOW_MODEL_URI", uri)
    monkeypatch.setattr(lambda_handler, "_MODEL", None)  # a cold start for each test
    return uri


def v1_event(method: str, path: str, body: str | None, base64_body: bool = False) -> dict[str, Any]:
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "X-Request-ID": "req-1"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": path, "httpMethod": method, "path": f"/prod{path}",
                           "stage": "prod", "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"},
        "body": base64.b64encode(body.encode()).decode() if base64_body and body else body,
        "isBase64Encoded": base64_body,
    }  # fmt: skip


def v2_event(method: str, path: str, body: str | None) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"accountId": "123456789012", "apiId": "api-id", "domainName": "id.execute-api.us-east-1.amazonaws.com",
                           "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "agent"},
                           "requestId": "id", "routeKey": f"{method} {path}", "stage": "$default", "timeEpoch": 1583348638390},
        "body": body,
        "isBase64Encoded": False,
    }  # fmt: skip


RECIPES = json.dumps({"recipes": [{"id": 1, "ingredients": ["soy sauce", "ginger", "scallions"]}]})


@pytest.mark.parametrize("base64_body", [False, True])
def test_rest_api_v1_event(model_on_s3: str, tiny_model: Path, base64_body: bool) -> None:
    response = lambda_handler.handler(v1_event("POST", "/v1/predict", RECIPES, base64_body), None)
    assert response["statusCode"] == 200
    assert response["headers"]["x-request-id"] == "req-1"
    # An id that is no short printable ASCII text is replaced, as the server does.
    event = v1_event("POST", "/v1/predict", RECIPES, base64_body)
    event["headers"]["X-Request-ID"] = "r" * 500
    replaced = lambda_handler.handler(event, None)["headers"]["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)
    body = json.loads(response["body"])
    assert body["model"] == {"name": "cuisine", "version": "1"}
    assert body["predictions"][0]["id"] == 1
    assert body["predictions"][0]["cuisine"] == "chinese"
    # The model's own answer, as the server and `predict` give it.
    (expected,) = Predictor(tiny_model).predict([["soy sauce", "ginger", "scallions"]])
    assert body["predictions"][0]["top"] == expected.top
    assert (
        body["predictions"][0]["confidence"]
        == expected.confidence
        == expected.top[0]["probability"]
    )


def test_http_api_v2_event_and_model_route(model_on_s3: str, tiny_model: Path) -> None:
    single = json.dumps({"ingredients": ["tortillas", "cumin", "black beans"]})
    response = lambda_handler.handler(v2_event("POST", "/v1/predict", single), None)
    assert json.loads(response["body"])["predictions"][0]["cuisine"] == "mexican"
    info = json.loads(lambda_handler.handler(v2_event("GET", "/v1/model", None), None)["body"])
    assert info["version"] == "1"
    assert info["lineage"] == {"git": {"commit": "abc"}}
    assert info["reference"] == model_on_s3  # and the server's other fields
    assert info["created_at"].startswith("20")
    assert info["classes"] == list(Predictor(tiny_model).classes)
    assert set(info) == {"name", "version", "reference", "classes", "created_at", "lineage",
                         "metrics"}  # fmt: skip
    assert lambda_handler.handler(v2_event("GET", "/nowhere", None), None)["statusCode"] == 404


def test_direct_invocation(model_on_s3: str) -> None:
    result = lambda_handler.handler({"ingredients": ["basil", "pasta", "parmesan cheese"]}, None)
    assert result["predictions"][0]["cuisine"] == "italian"
    bad = lambda_handler.handler({"ingredients": []}, None)
    assert bad["statusCode"] == 400
    assert bad["detail"][0]["field"] == "ingredients"
    # "version": "2.0" without a request context is no HTTP API event: a 400, no KeyError.
    half = lambda_handler.handler({"version": "2.0", "body": RECIPES}, None)
    assert half["statusCode"] == 400
    assert {p["field"] for p in half["detail"]} == {"recipes", "version", "body"}


def test_a_requests_log_records_are_the_servers(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Built by the server's records_for: one latency and one time per request (a hand copy
    # measured the time once per record), and the same fields.
    from cuisineflow.aws_lambda import predictionlog
    from cuisineflow.monitoring.log import SCHEMA, records_for

    monkeypatch.setenv("CUISINEFLOW_MODEL_URI", str(tiny_model))
    monkeypatch.setattr(lambda_handler, "_MODEL", None)
    logged: list[list[dict[str, Any]]] = []
    monkeypatch.setattr(predictionlog, "record", logged.append)
    recipes = [{"id": i, "ingredients": ["soy sauce", f"garnish {i}"]} for i in range(200)]
    lambda_handler.handler({"recipes": recipes}, None)
    (records,) = logged
    assert len(records) == 200
    assert len({r["latency_ms"] for r in records}) == 1
    assert len({r["timestamp"] for r in records}) == 1
    predictions = Predictor(tiny_model).predict([r["ingredients"] for r in recipes])
    pairs = [(r["id"], r["ingredients"]) for r in recipes]
    expected = records_for(predictions, pairs, "model", "local", records[0]["request_id"], 0.0)
    assert [r.keys() for r in records] == [r.keys() for r in expected]
    assert list(records[0]) == SCHEMA.names  # every column of the Parquet log, in order
    timeless = [{**r, "timestamp": None, "latency_ms": None} for r in records]
    assert timeless == [{**r, "timestamp": None, "latency_ms": None} for r in expected]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "body"),
        ('{"recipes": [{"ingredients": [1]}]}', "recipes.0.ingredients.0"),
        ('{"ingredients": ["salt"], "colour": "red"}', "colour"),
        (json.dumps({"recipes": [{"ingredients": ["salt"]}] * 10_000}), "recipes"),
        (json.dumps({"ingredients": ["x" * 1_000_000]}), "body"),
    ],
)
def test_bad_requests_are_400_naming_the_field(model_on_s3: str, body: str, field: str) -> None:
    response = lambda_handler.handler(v1_event("POST", "/v1/predict", body), None)
    assert response["statusCode"] == 400
    assert field in [p["field"] for p in json.loads(response["body"])["detail"]]


def test_bodies_that_do_not_decode_are_400(model_on_s3: str) -> None:
    event = {
        **v1_event("POST", "/v1/predict", None),
        "body": "not-base64!",
        "isBase64Encoded": True,
    }
    response = lambda_handler.handler(event, None)
    assert response["statusCode"] == 400
    assert "not valid base64" in json.loads(response["body"])["detail"][0]["message"]
    latin1 = base64.b64encode('{"ingredients": ["crème"]}'.encode("latin-1")).decode()
    event = {**event, "body": latin1}
    assert lambda_handler.handler(event, None)["statusCode"] == 400
    # The limit counts bytes: 600,000 two-byte characters are 1.2 MB.
    wide = v1_event(
        "POST", "/v1/predict", json.dumps({"ingredients": ["é" * 600_000]}, ensure_ascii=False)
    )
    message = json.loads(lambda_handler.handler(wide, None)["body"])["detail"][0]["message"]
    assert message == "larger than 1000000 bytes"
    deep = v1_event("POST", "/v1/predict", "[" * 200_000 + "]" * 200_000)
    assert lambda_handler.handler(deep, None)["statusCode"] == 400
    # A direct invocation whose event is not an object is a bad request too.
    listed = lambda_handler.handler([{"ingredients": ["salt"]}], None)
    assert listed["statusCode"] == 400
    # As the server says it, naming no internal class.
    assert listed["detail"] == [{"field": "body", "message": NOT_AN_OBJECT}]
    null = lambda_handler.handler(v1_event("POST", "/v1/predict", "null"), None)
    assert json.loads(null["body"])["detail"] == [{"field": "body", "message": NOT_AN_OBJECT}]


def test_a_tampered_metadata_cannot_write_outside_the_model_folder(
    model_on_s3: str, s3_endpoint: S3Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cuisineflow.storage.s3server import s3_client

    client, bucket = s3_client(s3_endpoint.url), s3_endpoint.bucket
    prefix = model_on_s3.removeprefix(f"s3://{bucket}/")
    key = f"{prefix}/metadata.json"
    original = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    metadata = json.loads(original)
    target = tmp_path / "outside.sh"
    payload = b"echo owned\n"
    metadata["sha256"][str(target)] = hashlib.sha256(payload).hexdigest()
    client.put_object(Bucket=bucket, Key=key, Body=json.dumps(metadata))
    client.put_object(Bucket=bucket, Key=f"{prefix}/{target}", Body=payload)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    try:
        with pytest.raises(Exception, match=r"is not a file name of a model folder: refusing it"):
            lambda_handler.handler({"ingredients": ["salt"]}, None)
    finally:  # the endpoint is the session's: later tests register into it
        client.put_object(Bucket=bucket, Key=key, Body=original)
    assert not target.exists()


def test_a_folder_export_loads_with_or_without_checksums(tiny_model: Path, tmp_path: Path) -> None:
    from cuisineflow.aws_lambda.loader import fetched_version
    from cuisineflow.registry import ModelRef

    exported = tmp_path / "exported"
    Registry(Store.open(str(tmp_path / "store"))).export(ModelRef.parse(str(tiny_model)), exported)
    with fetched_version(str(exported)) as (folder, metadata):
        assert (folder, metadata["version"]) == (exported, "local")
    assert (exported / "model.json").exists()  # a folder is read in place, never removed
    # A listed file that is a link (it could point anywhere) is refused, as the registry
    # refuses it, though the bytes it points at match.
    kept = (exported / "intercept.npy").read_bytes()
    (tmp_path / "elsewhere.npy").write_bytes(kept)
    (exported / "intercept.npy").unlink()
    (exported / "intercept.npy").symlink_to(tmp_path / "elsewhere.npy")
    with (
        pytest.raises(CuisineflowError, match=r"^intercept.npy of the model does not match its "),
        fetched_version(str(exported)),
    ):
        pass
    (exported / "intercept.npy").unlink()
    (exported / "intercept.npy").write_bytes(kept)
    # An export made before exports listed checksums: model.json's own still guard it.
    (exported / "metadata.json").write_text(json.dumps({"name": "model", "version": "local"}))
    with fetched_version(str(exported)) as (_, metadata):
        assert metadata == {"name": "model", "version": "local"}


def test_cold_starts_leave_nothing_in_tmp(
    model_on_s3: str, s3_endpoint: S3Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda's /tmp is small and outlives a failed cold start, which the next call retries."""
    from cuisineflow.storage.s3server import s3_client

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    cold = lambda_handler.handler({"ingredients": ["soy sauce", "ginger"]}, None)
    assert list(scratch.iterdir()) == []
    warm = lambda_handler.handler({"ingredients": ["soy sauce", "ginger"]}, None)
    assert warm["predictions"] == cold["predictions"]  # the model lives on in memory
    client = s3_client(s3_endpoint.url)
    key = model_on_s3.removeprefix(f"s3://{s3_endpoint.bucket}/") + "/coef.npy"
    original = client.get_object(Bucket=s3_endpoint.bucket, Key=key)["Body"].read()
    client.put_object(Bucket=s3_endpoint.bucket, Key=key, Body=original[:-4] + b"\x00" * 4)
    monkeypatch.setattr(lambda_handler, "_MODEL", None)
    try:
        for _ in range(3):  # each retry of a failing cold start downloads again
            with pytest.raises(CuisineflowError, match=r"coef\.npy of the model does not match"):
                lambda_handler.handler({"ingredients": ["salt"]}, None)
    finally:
        client.put_object(Bucket=s3_endpoint.bucket, Key=key, Body=original)
    assert list(scratch.iterdir()) == []
    monkeypatch.setenv("TMPDIR", str(tmp_path / "missing"))  # the download did go to TMPDIR
    with pytest.raises(FileNotFoundError, match=r"missing"):
        lambda_handler.handler({"ingredients": ["salt"]}, None)


def test_a_model_that_is_no_registry_version_is_warned_of_at_cold_start(
    model_on_s3: str,
    s3_endpoint: S3Endpoint,
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING"):
        lambda_handler.handler({"ingredients": ["salt"]}, None)  # a registry version: silent
    assert [r.message for r in caplog.records if r.levelname == "WARNING"] == []
    from cuisineflow.aws_lambda import predictionlog
    from cuisineflow.monitoring.window import read_predictions
    from cuisineflow.registry import ModelRef

    exported = tmp_path / "exported"
    Registry(Store.open(str(tmp_path / "store"))).export(ModelRef.parse(str(tiny_model)), exported)
    monkeypatch.setenv("CUISINEFLOW_MODEL_URI", str(exported))
    monkeypatch.setattr(lambda_handler, "_MODEL", None)
    with caplog.at_level("WARNING"):
        lambda_handler.handler({"ingredients": ["salt"]}, None)
        lambda_handler.handler({"ingredients": ["basil"]}, None)  # warm: no second warning
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{exported} is no registry version: predictions are logged as")
    assert "model@local" in warnings[0]
    # A plain model folder (no metadata.json) is answered and logged as model@local too.
    monkeypatch.setenv("CUISINEFLOW_MODEL_URI", str(tiny_model))
    monkeypatch.setattr(lambda_handler, "_MODEL", None)
    logs = f"s3://{s3_endpoint.bucket}/folder-model-logs"
    monkeypatch.setenv("CUISINEFLOW_LOG_URI", logs)
    monkeypatch.setattr(predictionlog, "FLUSH_RECORDS", 2)
    answer = lambda_handler.handler({"recipes": [{"ingredients": ["salt"]}] * 2}, None)
    assert answer["model"] == {"name": "model", "version": "local"}
    logged = read_predictions(Store.open(logs, endpoint_url=s3_endpoint.url), None, None)
    assert logged["model_name"].to_pylist() == ["model", "model"]  # as answered
    assert logged["model_version"].to_pylist() == ["local", "local"]
    described = lambda_handler.handler(
        {"version": "2.0", "rawPath": "/v1/model", "requestContext": {"http": {"method": "GET"}}}
    )
    assert json.loads(described["body"])["name"] == "model"  # as answered, not null
    assert json.loads(described["body"])["version"] == "local"


def test_a_missing_model_is_named_at_cold_start(
    model_on_s3: str, s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bucket = s3_endpoint.bucket
    monkeypatch.setenv("CUISINEFLOW_MODEL_URI", model_on_s3.replace("/cuisine/1", "/cuisine/9"))
    with pytest.raises(
        CuisineflowError, match=r"metadata.json: NoSuchKey; is CUISINEFLOW_MODEL_URI a"
    ):
        lambda_handler.handler({"ingredients": ["salt"]}, None)
    monkeypatch.setenv("CUISINEFLOW_MODEL_URI", model_on_s3.replace(bucket, "no-such-bucket"))
    with pytest.raises(CuisineflowError, match=r"NoSuchBucket; no bucket 'no-such-bucket'"):
        lambda_handler.handler({"ingredients": ["salt"]}, None)
    monkeypatch.setenv("CUISINEFLOW_MODEL_URI", model_on_s3)
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("CUISINEFLOW_S3_ENDPOINT_URL", dead)
    with pytest.raises(
        CuisineflowError,
        match=rf"Could not connect .*; is CUISINEFLOW_S3_ENDPOINT_URL \({dead}\) reachable",
    ):
        lambda_handler.handler({"ingredients": ["salt"]}, None)
    # No credentials anywhere (no variables, files or metadata endpoint): named as such.
    monkeypatch.setenv("CUISINEFLOW_S3_ENDPOINT_URL", s3_endpoint.url)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        monkeypatch.setenv(name, str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it keeps the credentials it found
    with pytest.raises(CuisineflowError, match=r"json: no AWS credentials; give the function a"):
        lambda_handler.handler({"ingredients": ["salt"]}, None)


def test_tampered_model_is_refused_at_cold_start(model_on_s3: str, s3_endpoint: S3Endpoint) -> None:
    from cuisineflow.storage.s3server import s3_client

    client = s3_client(s3_endpoint.url)
    key = model_on_s3.removeprefix(f"s3://{s3_endpoint.bucket}/") + "/intercept.npy"
    original = client.get_object(Bucket=s3_endpoint.bucket, Key=key)["Body"].read()
    client.put_object(Bucket=s3_endpoint.bucket, Key=key, Body=original[:-4] + b"\x00" * 4)
    try:
        with pytest.raises(
            Exception, match=r"intercept\.npy of the model does not match its checksum"
        ):
            lambda_handler.handler({"ingredients": ["salt"]}, None)
    finally:
        client.put_object(Bucket=s3_endpoint.bucket, Key=key, Body=original)


def test_predictions_are_logged_to_the_store_for_monitor(
    model_on_s3: str, s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cuisineflow.aws_lambda import predictionlog
    from cuisineflow.monitoring.window import read_predictions

    monkeypatch.setenv("CUISINEFLOW_LOG_URI", f"s3://{s3_endpoint.bucket}/lambda-logs")
    monkeypatch.setattr(predictionlog, "FLUSH_RECORDS", 4)
    recipes = [{"id": i, "ingredients": ["tortillas", "cumin", f"garnish {i}"]} for i in range(3)]
    direct = lambda_handler.handler({"recipes": recipes}, None)  # 3 buffered: not written yet
    store = Store.open(f"s3://{s3_endpoint.bucket}/lambda-logs", endpoint_url=s3_endpoint.url)
    assert store.list("monitoring/incoming") == []
    event = v2_event("POST", "/v1/predict", json.dumps({"recipes": recipes}))
    event["headers"]["x-request-id"] = "req-2"
    http = json.loads(lambda_handler.handler(event, None)["body"])
    (key,) = store.list("monitoring/incoming")
    assert key.startswith("monitoring/incoming/date=20")
    logged = read_predictions(store, None, None)
    assert logged.num_rows == 6
    assert logged.column("id").to_pylist() == ["0", "1", "2", "0", "1", "2"]
    assert set(logged.column("cuisine").to_pylist()) == {"mexican"}
    # Logged as answered: the request's id (one made up for a direct call), the confidence
    # and the top cuisines, best first.
    (made_up,) = set(logged.column("request_id").to_pylist()[:3])
    assert len(made_up) == 32
    assert logged.column("request_id").to_pylist()[3:] == ["req-2"] * 3
    answered = direct["predictions"] + http["predictions"]
    assert logged.column("confidence").to_pylist() == [p["confidence"] for p in answered]
    assert logged.column("top_cuisines").to_pylist() == [
        [t["cuisine"] for t in p["top"]] for p in answered
    ]
    assert [top[0] for top in logged.column("top_cuisines").to_pylist()] == ["mexican"] * 6
    assert predictionlog.dropped == 0


def test_variables_exported_empty_mean_unset(
    model_on_s3: str, s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in the settings: CUISINEFLOW_S3_ENDPOINT_URL="" is boto3's own endpoint (here the
    one AWS_ENDPOINT_URL names), not an "Invalid endpoint"."""
    from cuisineflow.aws_lambda import predictionlog
    from cuisineflow.monitoring.window import read_predictions

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint.url)
    monkeypatch.setenv("CUISINEFLOW_S3_ENDPOINT_URL", "")
    logs = f"s3://{s3_endpoint.bucket}/empty-endpoint-logs"
    monkeypatch.setenv("CUISINEFLOW_LOG_URI", logs)
    monkeypatch.setattr(predictionlog, "FLUSH_RECORDS", 1)
    monkeypatch.setattr(predictionlog, "dropped", 0)
    answer = lambda_handler.handler({"ingredients": ["soy sauce", "ginger"]}, None)
    assert answer["predictions"][0]["cuisine"] == "chinese"
    assert predictionlog.dropped == 0
    logged = read_predictions(Store.open(logs, endpoint_url=s3_endpoint.url), None, None)
    assert logged.column("ingredients").to_pylist() == [["soy sauce", "ginger"]]
    # A blank log URI is no log, and a blank model URI is named as unset.
    monkeypatch.setenv("CUISINEFLOW_LOG_URI", " ")
    lambda_handler.handler({"ingredients": ["salt"]}, None)
    assert (predictionlog._buffer, predictionlog.dropped) == ([], 0)
    monkeypatch.setenv("CUISINEFLOW_MODEL_URI", "")
    monkeypatch.setattr(lambda_handler, "_MODEL", None)
    with pytest.raises(CuisineflowError, match=r"^CUISINEFLOW_MODEL_URI is not set: the registry"):
        lambda_handler.handler({"ingredients": ["salt"]}, None)


@pytest.mark.parametrize("log_uri", ["{tmp}/logs", "s3:/bucket/logs", "s3://", "s3:///logs"])
def test_a_log_uri_that_is_not_s3_fails_the_cold_start(
    model_on_s3: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log_uri: str
) -> None:
    """The log is put to S3 only: a folder would drop every record, warning only at a write."""
    from cuisineflow.aws_lambda import predictionlog

    value = log_uri.format(tmp=tmp_path)
    monkeypatch.setenv("CUISINEFLOW_LOG_URI", value)
    monkeypatch.setattr(predictionlog, "FLUSH_RECORDS", 1)
    expected = f"CUISINEFLOW_LOG_URI={value!r} is not s3://BUCKET[/PREFIX]: the Lambda puts"
    for event in ({"ingredients": ["salt"]}, v1_event("POST", "/v1/predict", RECIPES)):
        with pytest.raises(CuisineflowError, match=rf"^{re.escape(expected)}"):
            lambda_handler.handler(event, None)
    assert lambda_handler._MODEL is None  # each invocation says so, not only the first
    assert predictionlog._buffer == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("base64_body", [False, True])
@pytest.mark.parametrize("body", [{"ingredients": ["salt"]}, ["salt"], 7, {}])
def test_a_body_that_is_not_a_string_is_400(model_on_s3: str, body: Any, base64_body: bool) -> None:
    event = {"version": "2.0", "rawPath": "/v1/predict",
             "requestContext": {"http": {"method": "POST"}},
             "body": body, "isBase64Encoded": base64_body}  # fmt: skip
    response = lambda_handler.handler(event, None)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["detail"] == [
        {"field": "body", "message": "body should be a JSON string"}
    ]
    # No body at all is still the empty body it was: not JSON.
    event["body"] = None
    message = json.loads(lambda_handler.handler(event, None)["body"])["detail"][0]["message"]
    assert message.startswith("not valid JSON")
