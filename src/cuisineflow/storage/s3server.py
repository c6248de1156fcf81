"""The embedded S3 endpoint: moto's server on loopback, for trials and tests.

It is a real HTTP S3 endpoint, but it keeps every object in memory: stopping it loses
them. Durable use goes to AWS S3 or another S3-compatible server.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

# moto accepts any credentials; these name themselves so nobody mistakes them for real ones.
EMBEDDED_ACCESS_KEY = "cuisineflow-embedded"
EMBEDDED_SECRET_KEY = "cuisineflow-embedded-secret"
EMBEDDED_REGION = "us-east-1"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")  # S3's naming rules


class _OneLineErrors(logging.Filter):
    """A request moto fails on (an S3 Select query it cannot parse) reaches the client as a
    500 with the error; the server's console gets its last line, not the whole traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Error on request"):
            last = message.strip().splitlines()[-1]
            record.msg, record.args = "a request failed in moto (the client got a 500): %s", (last,)
        return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on the host (an IPv4 or IPv6 address) right now."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def s3_client(endpoint_url: str | None, region: str | None = None) -> Any:
    """A boto3 S3 client with retries off, so a failing request fails in seconds."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region or EMBEDDED_REGION,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=120),
    )


@dataclass
class EmbeddedS3:
    """moto's threaded S3 server on loopback, with one bucket created."""

    host: str = "127.0.0.1"
    port: int = 0
    bucket: str = "cuisineflow"
    _server: Any = field(default=None, init=False, repr=False)

    @property
    def endpoint_url(self) -> str:
        """The HTTP address clients connect to."""
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return f"http://{host}:{self.port}"

    def environment(self) -> dict[str, str]:
        """The variables that point cuisineflow (and DVC, boto3) at this endpoint."""
        return {
            "CUISINEFLOW_STORE": f"s3://{self.bucket}/cuisineflow",
            "CUISINEFLOW_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": EMBEDDED_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": EMBEDDED_SECRET_KEY,
            "AWS_DEFAULT_REGION": EMBEDDED_REGION,
        }

    def start(self) -> EmbeddedS3:
        """Start the server, wait until it answers, and create the bucket."""
        from moto.server import ThreadedMotoServer

        served = logging.getLogger("werkzeug")
        served.setLevel(logging.WARNING)  # not a line per request
        if not any(isinstance(f, _OneLineErrors) for f in served.filters):
            served.addFilter(_OneLineErrors())

        if self.host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError(f"the embedded S3 endpoint listens on loopback only, not {self.host}")
        if not _BUCKET.match(self.bucket) or ".." in self.bucket:
            raise ValueError(
                f"bucket {self.bucket!r}: S3 bucket names are 3 to 63 lower-case letters, "
                "digits, dots and hyphens, starting and ending with a letter or digit"
            )
        if self.port == 0:
            self.port = free_port(self.host)
        with socket.socket(_family(self.host), socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server's own
            try:  # moto's server would wait forever on a port that is taken
                probe.bind((self.host, self.port))
            except OSError:
                raise ValueError(f"port {self.port} on {self.host} is in use") from None
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=EMBEDDED_ACCESS_KEY,
            aws_secret_access_key=EMBEDDED_SECRET_KEY,
            region_name=EMBEDDED_REGION,
            config=Config(retries={"max_attempts": 1}),
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                client.create_bucket(Bucket=self.bucket)
                return self
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server; every object it held is gone."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> EmbeddedS3:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
