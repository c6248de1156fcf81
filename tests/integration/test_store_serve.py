"""`cuisineflow store serve`: starts, serves S3 over HTTP, stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from cuisineflow.storage.s3server import free_port, s3_client
from tests.conftest import start_store_server

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serves_the_bucket_then_stops_on_signal(
    stop_signal: signal.Signals, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    process = start_store_server(port, "served")
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first == f"Embedded S3 endpoint at http://127.0.0.1:{port} with bucket 'served'.\n"
    assert "in memory only" in process.stdout.readline()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    client = s3_client(f"http://127.0.0.1:{port}")
    client.put_object(Bucket="served", Key="hello.txt", Body=b"hi")
    assert client.get_object(Bucket="served", Key="hello.txt")["Body"].read() == b"hi"
    with pytest.raises(ClientError, match="500"):  # moto cannot parse it: a 500, one line
        client.select_object_content(
            Bucket="served", Key="hello.txt", Expression="SELEC s.id FROM s3object s",
            ExpressionType="SQL", InputSerialization={"JSON": {"Type": "LINES"}},
            OutputSerialization={"JSON": {}},
        )  # fmt: skip
    process.send_signal(stop_signal)
    assert process.wait(timeout=15) == 0
    assert process.stderr is not None
    stdout, stderr = process.stdout.read(), process.stderr.read()
    assert "export CUISINEFLOW_S3_ENDPOINT_URL=http://127.0.0.1:" in stdout
    assert stderr.strip().endswith("Embedded S3 endpoint stopped.")
    assert "Traceback" not in stderr
    failed = [line for line in stderr.splitlines() if "a request failed in moto" in line]
    assert len(failed) == 1
    assert "(the client got a 500): " in failed[0]  # then moto's own error, one line


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_serves_on_the_ipv6_loopback_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # --host ::1 was accepted, then failed: an IPv4 port probe and a URL without brackets.
    from cuisineflow.settings import get_settings
    from cuisineflow.storage import Store
    from cuisineflow.storage.s3server import EmbeddedS3

    with EmbeddedS3(host="::1", bucket="six") as server:
        assert server.endpoint_url == f"http://[::1]:{server.port}"
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        settings = get_settings()  # the printed endpoint is one the settings accept
        store = Store.open("s3://six/x", endpoint_url=settings.s3_endpoint_url)
        store.write_bytes("a.txt", b"over IPv6")
        assert store.read_bytes("a.txt") == b"over IPv6"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--host", "0.0.0.0"], "listens on loopback only, not 0.0.0.0"),
        (["--port", "0", "--bucket", "b"], "bucket 'b': S3 bucket names are 3 to 63"),
        (["--port", "{busy}"], "port {busy} on 127.0.0.1 is in use"),  # it used to hang
    ],
)
def test_refuses_what_it_cannot_serve(options: list[str], message: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = str(taken.getsockname()[1])
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "cuisineflow",
                "store",
                "serve",
                *(o.replace("{busy}", busy) for o in options),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert message.replace("{busy}", busy) in result.stderr
    assert "Traceback" not in result.stderr
