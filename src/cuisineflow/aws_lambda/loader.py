"""Loading a registry version from S3 or a folder at cold start, checksums verified.

Only boto3 (part of the Lambda runtime) is used for S3: the deployment package carries
no fsspec, s3fs or pyarrow.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cuisineflow.errors import CuisineflowError
from cuisineflow.models.artifact import mismatched_files, plain_file_name

METADATA = "metadata.json"


def variable(name: str) -> str | None:
    """An environment variable's value; one exported empty or blank means unset, as in
    cuisineflow.settings (which the Lambda's zip does not carry)."""
    value = os.environ.get(name, "").strip()
    return value or None


@contextmanager
def fetched_version(
    uri: str, endpoint_url: str | None = None
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """A local folder holding the verified files of the version at `uri`, and its metadata.

    A version on S3 is downloaded into a temporary folder, removed on leaving the block (load
    the model inside it): Lambda's /tmp is small, and a cold start that fails is retried in
    the same environment."""
    if not uri.startswith("s3://"):
        folder = Path(uri)
        metadata = (
            _metadata((folder / METADATA).read_text(), uri, required=False)
            if (folder / METADATA).exists()
            else {}
        )
        if "sha256" in metadata:  # else a plain model folder: model.json's checksums serve
            _verify(folder, metadata)
        yield folder, metadata
        return
    import boto3
    from botocore import exceptions as boto_errors
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
        except client.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            hint = {
                "NoSuchKey": "is CUISINEFLOW_MODEL_URI a version folder?",
                "NoSuchBucket": f"no bucket {bucket!r}",
                # Without s3:ListBucket, S3 answers AccessDenied for a missing key too.
                "AccessDenied": "the function's role needs s3:GetObject on it (and the key "
                "must exist: without s3:ListBucket a missing key reads as AccessDenied)",
            }.get(code, str(error))
            raise CuisineflowError(f"s3://{bucket}/{key}: {code or 'error'}; {hint}") from None
        except (boto_errors.ConnectionError, boto_errors.HTTPClientError) as error:  # no answer
            where = f"CUISINEFLOW_S3_ENDPOINT_URL ({endpoint_url})" if endpoint_url else "S3"
            raise CuisineflowError(
                f"s3://{bucket}/{key}: {error}; is {where} reachable from the function?"
            ) from None
        except boto_errors.NoCredentialsError:
            raise CuisineflowError(
                f"s3://{bucket}/{key}: no AWS credentials; give the function a role (or set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
            ) from None
        return body

    metadata = _metadata(get(METADATA), uri)
    # TMPDIR is read here, not by tempfile, which keeps the first value it sees.
    with tempfile.TemporaryDirectory(
        prefix="cuisineflow-model-", dir=os.environ.get("TMPDIR")
    ) as work:
        folder = Path(work)
        for name in metadata["sha256"]:
            (folder / name).write_bytes(get(name))
        _verify(folder, metadata)
        yield folder, metadata


def _metadata(text: bytes | str, uri: str, required: bool = True) -> dict[str, Any]:
    """A version's metadata, its file names checked: they become paths on this machine.

    required=False: a folder's metadata.json may list no checksums (an export made before
    exports listed them)."""
    try:
        metadata = json.loads(text)
    except ValueError:
        metadata = None
    listed = required or (isinstance(metadata, dict) and "sha256" in metadata)
    if not isinstance(metadata, dict) or (listed and not isinstance(metadata.get("sha256"), dict)):
        raise CuisineflowError(f"{uri}: {METADATA} is not a registry version's metadata")
    for name in metadata.get("sha256") or {}:
        plain_file_name(name, f"{uri}/{METADATA}")
    return metadata


def _verify(folder: Path, metadata: dict[str, Any]) -> None:
    mismatched = mismatched_files(folder, metadata["sha256"], str(folder / METADATA))
    if mismatched:
        raise CuisineflowError(
            f"{', '.join(mismatched)} of the model {'does' if len(mismatched) == 1 else 'do'} "
            "not match its checksum: refusing to load"
        )
