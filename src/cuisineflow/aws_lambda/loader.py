"""Loading a registry version from S3 or a folder at cold start, checksums verified.

Only boto3 (part of the Lambda runtime) is used for S3: the deployment package carries
no fsspec, s3fs or pyarrow.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from cuisineflow.errors import CuisineflowError

METADATA = "metadata.json"


def fetch_version(uri: str, endpoint_url: str | None = None) -> tuple[Path, dict[str, Any]]:
    """A local folder holding the verified files of the version at `uri`, and its metadata."""
    if not uri.startswith("s3://"):
        folder = Path(uri)
        metadata = (
            json.loads((folder / METADATA).read_text()) if (folder / METADATA).exists() else {}
        )
        if metadata:
            _verify(folder, metadata)
        return folder, metadata
    import boto3
    from botocore.config import Config

    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        config=Config(retries={"max_attempts": 2}, connect_timeout=5),
    )

    def get(name: str) -> bytes:
        key = f"{prefix.rstrip('/')}/{name}" if prefix else name
        try:
            body: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except client.exceptions.NoSuchKey:
            raise CuisineflowError(
                f"{uri}: no {name}; is CUISINEFLOW_MODEL_URI a version folder?"
            ) from None
        return body

    metadata = json.loads(get(METADATA))
    folder = Path(tempfile.mkdtemp(prefix="cuisineflow-model-", dir=os.environ.get("TMPDIR")))
    for name in metadata["sha256"]:
        (folder / name).write_bytes(get(name))
    _verify(folder, metadata)
    return folder, metadata


def _verify(folder: Path, metadata: dict[str, Any]) -> None:
    for name, expected in metadata["sha256"].items():
        path = folder / name
        if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            raise CuisineflowError(
                f"{name} of the model does not match its checksum: refusing to load"
            )
