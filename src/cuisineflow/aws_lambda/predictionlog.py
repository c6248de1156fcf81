"""Prediction logs from Lambda: buffered across warm invocations, put to S3 as JSON Lines.

A Lambda function is frozen between invocations, so no background thread can write:
the invocation that fills the buffer (500 records, or 60 s old) writes it, one PUT.
pyarrow would not fit the package, so these land in monitoring/incoming/ as JSON Lines,
and `cuisineflow monitor` reads them beside the Parquet logs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
import uuid
from typing import Any

from cuisineflow.aws_lambda.loader import variable
from cuisineflow.errors import CuisineflowError
from cuisineflow.monitoring import INCOMING

FLUSH_RECORDS = 500
FLUSH_SECONDS = 60.0
MAX_BUFFER = 5_000

log = logging.getLogger(__name__)
_buffer: list[dict[str, Any]] = []
_oldest = 0.0
dropped = 0


def destination() -> tuple[str, str] | None:
    """The bucket and prefix CUISINEFLOW_LOG_URI names, None when it is unset.

    Checked at cold start: the log is only ever put to S3, and a folder or a malformed URL
    would otherwise drop every record, with a warning only at the first write."""
    target = variable("CUISINEFLOW_LOG_URI")
    if target is None:
        return None
    bucket, _, prefix = target.removeprefix("s3://").partition("/")
    if not target.startswith("s3://") or not re.fullmatch(r"[A-Za-z0-9._-]+", bucket):
        raise CuisineflowError(
            f"CUISINEFLOW_LOG_URI={target!r} is not s3://BUCKET[/PREFIX]: the Lambda puts its "
            "prediction logs to S3 only"
        )
    return bucket, prefix.strip("/")


def record(records: list[dict[str, Any]]) -> None:
    """Buffer records (bounded), and write them when enough have waited long enough."""
    global _oldest, dropped
    target = destination()
    if target is None:
        return
    if len(_buffer) + len(records) > MAX_BUFFER:
        dropped += len(records)
        return
    if not _buffer:
        _oldest = time.monotonic()
    _buffer.extend(records)
    if len(_buffer) >= FLUSH_RECORDS or time.monotonic() - _oldest >= FLUSH_SECONDS:
        flush(*target)


def flush(bucket: str, prefix: str) -> None:
    """PUT the buffer as one JSON Lines object; on failure drop and count it."""
    global dropped
    batch = _buffer[:]
    _buffer.clear()
    if not batch:
        return
    try:
        import boto3

        day = dt.datetime.now(dt.UTC).date().isoformat()
        key = "/".join(p for p in (prefix, INCOMING, f"date={day}",
                                   f"part-{uuid.uuid4().hex}.jsonl") if p)  # fmt: skip
        body = "".join(json.dumps(r, default=_json_value) + "\n" for r in batch).encode()
        client = boto3.client("s3", endpoint_url=variable("CUISINEFLOW_S3_ENDPOINT_URL"))
        client.put_object(Bucket=bucket, Key=key, Body=body)
    except Exception as error:  # the prediction has been made: never fail it for its log
        dropped += len(batch)
        log.warning("dropped %d prediction log records: %s", len(batch), error)


def _json_value(value: Any) -> str:
    """A record's timestamp (a datetime) as ISO 8601 text, which `monitor` reads back."""
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)
