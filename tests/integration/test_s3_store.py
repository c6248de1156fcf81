"""The store API over HTTP against the embedded S3 endpoint, and its failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from cuisineflow.storage import Store, StoreError
from cuisineflow.storage.s3server import free_port, s3_client
from tests.conftest import S3Endpoint

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def s3_credentials(s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in s3_endpoint.env.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3_store(s3_endpoint: S3Endpoint) -> Store:
    return Store.open(f"s3://{s3_endpoint.bucket}/store-api", endpoint_url=s3_endpoint.url)


def test_write_read_list_delete_over_http(s3_store: Store, s3_endpoint: S3Endpoint) -> None:
    s3_store.check()
    s3_store.write_bytes("registry/m/1/metadata.json", b'{"v": 1}')
    s3_store.write_bytes("registry/m/1/model.npz", b"\x00" * 70_000)
    assert s3_store.list("registry") == ["registry/m/1/metadata.json", "registry/m/1/model.npz"]
    assert s3_store.read_bytes("registry/m/1/metadata.json") == b'{"v": 1}'
    # The object is really in the bucket, as another S3 client sees it.
    client = s3_client(s3_endpoint.url)
    body = client.get_object(Bucket=s3_endpoint.bucket, Key="store-api/registry/m/1/model.npz")
    assert len(body["Body"].read()) == 70_000
    s3_store.delete("registry")
    assert s3_store.list("registry") == []
    assert not s3_store.exists("registry/m/1/metadata.json")


def test_missing_bucket_names_bucket_and_endpoint(s3_endpoint: S3Endpoint) -> None:
    store = Store.open("s3://no-such-bucket/x", endpoint_url=s3_endpoint.url)
    with pytest.raises(StoreError) as caught:
        store.check()
    assert str(caught.value) == (
        f"bucket 'no-such-bucket' (s3://no-such-bucket/x) at {s3_endpoint.url}: "
        "the bucket does not exist; create it or fix CUISINEFLOW_STORE"
    )


def test_a_missing_key_is_not_a_missing_bucket_whatever_their_names(
    s3_endpoint: S3Endpoint,
) -> None:
    # s3fs words a missing key as its path: one through a bucket named "my-bucket" (the
    # README's example) once read as a missing bucket, and a new store's first run failed.
    client = s3_client(s3_endpoint.url)
    client.create_bucket(Bucket="my-bucket")
    store = Store.open("s3://my-bucket/bucket-store", endpoint_url=s3_endpoint.url)
    with pytest.raises(FileNotFoundError):
        store.read_bytes("lake/manifest.json")
    assert store.list("registry") == []  # a prefix not written yet: empty, not an error
    missing = Store.open("s3://no-such-bucket/x", endpoint_url=s3_endpoint.url)
    with pytest.raises(StoreError, match=r"the bucket does not exist; create it"):
        missing.read_bytes("lake/manifest.json")
    with pytest.raises(StoreError, match=r"the bucket does not exist; create it"):
        missing.list("registry")  # not "no models": the store itself is missing


def test_unreachable_endpoint_names_it(s3_endpoint: S3Endpoint) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    store = Store.open("s3://bucket/x", endpoint_url=dead)
    with pytest.raises(StoreError) as caught:
        store.write_bytes("a", b"1")
    message = str(caught.value)
    expected = f"cannot reach the S3 endpoint for bucket 'bucket' (s3://bucket/x) at {dead}"
    assert message.startswith(expected)
    assert "CUISINEFLOW_S3_ENDPOINT_URL" in message


def test_missing_credentials_are_named(
    s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    store = Store.open(f"s3://{s3_endpoint.bucket}/x", endpoint_url=s3_endpoint.url)
    with pytest.raises(
        StoreError, match=r"^no usable AWS credentials for bucket 'cuisineflow-tests'"
    ):
        store.check()


def test_create_is_exclusive_over_http(s3_store: Store) -> None:
    # A conditional PUT (If-None-Match: *), which the endpoint enforces as AWS S3 does.
    key = "claims/registry/m/7/.claim"
    s3_store.delete("claims")
    assert s3_store.create_bytes(key, b"first")
    assert not s3_store.create_bytes(key, b"second")
    assert s3_store.read_bytes(key) == b"first"
    s3_store.delete("claims")


def test_store_check_says_where_the_store_is_in_or_outside_a_project(
    s3_endpoint: S3Endpoint, tmp_path: Path
) -> None:
    from tests.conftest import cli

    outside = tmp_path / "not-a-project"  # a machine that only serves or inspects models
    outside.mkdir()
    reached = cli("store", "check", cwd=outside, env=s3_endpoint.store_env("check"))
    assert reached.stdout == (
        f"ok: bucket '{s3_endpoint.bucket}' (s3://{s3_endpoint.bucket}/check) at "
        f"{s3_endpoint.url}\n"
    )
    local = {"CUISINEFLOW_STORE": str(tmp_path / "new-store")}
    created = cli("store", "check", cwd=outside, env=local)
    assert (
        created.stdout
        == f"ok: local store {tmp_path / 'new-store'} (new: created empty just now)\n"
    )
    assert cli("store", "check", cwd=outside, env=local).stdout == (
        f"ok: local store {tmp_path / 'new-store'}\n"
    )
    (tmp_path / "a-file").write_text("x")
    refused = cli("store", "check", cwd=outside, env={"CUISINEFLOW_STORE": str(tmp_path / "a-file")},
                  check=False)  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: local store {tmp_path / 'a-file'} is a file, not a folder: fix CUISINEFLOW_STORE\n"
    )
