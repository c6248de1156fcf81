"""One API over the store: a local folder or an s3://bucket/prefix, through fsspec."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import posixpath
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
import pyarrow.fs as pafs
from fsspec.implementations.local import LocalFileSystem

from cuisineflow.errors import CuisineflowError
from cuisineflow.storage.local import atomic_write_bytes, staged_folder


class StoreError(CuisineflowError):
    """The store cannot be used: unreachable endpoint, missing bucket, refused credentials."""


@dataclass(frozen=True)
class Store:
    """A store rooted at `uri`; every key is a relative, slash-separated path under it."""

    uri: str
    fs: fsspec.AbstractFileSystem
    root: str
    endpoint_url: str | None = None
    region: str | None = None

    @classmethod
    def open(cls, uri: str, endpoint_url: str | None = None, region: str | None = None) -> Store:
        """Open a store from a local path or an s3://bucket/prefix URI (nothing is contacted)."""
        if uri.startswith("s3://"):
            bucket_and_prefix = uri[len("s3://") :].rstrip("/")
            if not bucket_and_prefix or bucket_and_prefix.startswith("/"):
                raise StoreError(f"store URI {uri!r} names no bucket: use s3://BUCKET[/PREFIX]")
            return cls(
                uri="s3://" + bucket_and_prefix,
                fs=s3_filesystem(endpoint_url, region),
                root=bucket_and_prefix,
                endpoint_url=endpoint_url,
                region=region,
            )
        if "://" in uri and not uri.startswith("file://"):
            raise StoreError(f"store URI {uri!r}: only local folders and s3:// are supported")
        path = Path(uri.removeprefix("file://")).expanduser().resolve()
        return cls(uri=str(path), fs=LocalFileSystem(auto_mkdir=True), root=str(path))

    @property
    def is_s3(self) -> bool:
        """True when the store lives in an S3 bucket."""
        return self.uri.startswith("s3://")

    @property
    def bucket(self) -> str | None:
        """The bucket of an S3 store, None for a local one."""
        return self.root.split("/", 1)[0] if self.is_s3 else None

    def describe(self) -> str:
        """The store as a person should read it in a message."""
        if self.is_s3:
            endpoint = self.endpoint_url or "AWS S3"
            return f"bucket {self.bucket!r} ({self.uri}) at {endpoint}"
        return f"local store {self.uri}"

    def path(self, key: str = "") -> str:
        """The filesystem path of a key (never outside the store: keys may come from files
        in it, such as the lake's manifest)."""
        key = key.strip("/")
        if ".." in key.split("/"):
            raise StoreError(f"store key {key!r} climbs out of the store: refusing it")
        return posixpath.join(self.root, key) if key else self.root

    def url(self, key: str = "") -> str:
        """The full URI of a key, as other tools (DVC, DuckDB) take it."""
        key = key.strip("/")
        return f"{self.uri}/{key}" if key else self.uri

    @functools.cached_property
    def arrow_filesystem(self) -> pafs.FileSystem:
        """A native (C++) Arrow filesystem for the store, for fast Parquet scans (made once)."""
        if not self.is_s3:
            return pafs.LocalFileSystem()
        import botocore.session

        credentials = botocore.session.get_session().get_credentials()
        if credentials is None:
            raise StoreError(
                f"no usable AWS credentials for {self.describe()}: set AWS_ACCESS_KEY_ID "
                "and AWS_SECRET_ACCESS_KEY, or an AWS profile"
            )
        frozen = credentials.get_frozen_credentials()
        options: dict[str, Any] = {
            "access_key": frozen.access_key,
            "secret_key": frozen.secret_key,
            "session_token": frozen.token,
            "region": self.region or "us-east-1",
        }
        if self.endpoint_url:
            scheme, _, address = self.endpoint_url.partition("://")
            options |= {"endpoint_override": address.rstrip("/"), "scheme": scheme}
        return pafs.S3FileSystem(**options)

    def check(self) -> bool:
        """Fail with a StoreError unless the store can be reached and listed.

        A local store that does not exist yet is created: True then, so that a caller can
        say so (a mistyped path would otherwise pass unnoticed).
        """
        with self.errors():
            if self.is_s3:
                self.fs.ls(self.bucket, detail=False)
                return False
            root = Path(self.root)
            if root.exists() and not root.is_dir():
                raise StoreError(
                    f"{self.describe()} is a file, not a folder: fix CUISINEFLOW_STORE"
                )
            if root.is_dir():
                if not os.access(root, os.R_OK | os.W_OK | os.X_OK):
                    raise StoreError(f"{self.describe()} cannot be read and written: permissions")
                return False
            try:
                root.mkdir(parents=True)
            except OSError as error:
                raise StoreError(f"cannot create {self.describe()}: {error.strerror}") from None
            return True

    def exists(self, key: str) -> bool:
        """Whether an object (or a folder with objects) exists at the key."""
        with self.errors():
            return bool(self.fs.exists(self.path(key)))

    def read_bytes(self, key: str) -> bytes:
        """The bytes of an object; FileNotFoundError when absent."""
        with self.errors():
            data: bytes = self.fs.cat_file(self.path(key))
            return data

    def write_bytes(self, key: str, data: bytes) -> None:
        """Write an object so that readers see the old bytes or the new, never a part."""
        with self.errors():
            if self.is_s3:
                # An S3 PUT is atomic: the object appears only once fully uploaded.
                self.fs.pipe_file(self.path(key), data)
                return
            atomic_write_bytes(Path(self.path(key)), data)

    def create_bytes(self, key: str, data: bytes) -> bool:
        """Write an object only where none exists; False when one does (another writer won)."""
        with self.errors():
            if self.is_s3:
                try:
                    self.fs.pipe_file(self.path(key), data, mode="create")  # If-None-Match: *
                except FileExistsError:
                    return False
                return True
            return atomic_write_bytes(Path(self.path(key)), data, replace=False)

    def upload(self, local_path: Path, key: str) -> None:
        """Copy a local file into the store atomically."""
        with self.errors():
            if self.is_s3:
                self.fs.put_file(str(local_path), self.path(key))
                return
        self.write_bytes(key, Path(local_path).read_bytes())

    def publish_folder(self, folder: Path, key: str, last: str) -> None:
        """Replace everything under `key` with the local folder's files; `last` is written last.

        A local store swaps whole folders by rename. On S3 each object is replaced by an
        atomic PUT, stale objects are removed, and the file named `last` (a manifest that
        readers check first) goes up only when the rest is in place.
        """
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        names = {p.relative_to(folder).as_posix() for p in files}
        if last not in names:
            raise ValueError(f"{folder} has no {last} to publish last")
        if not self.is_s3:
            with staged_folder(Path(self.path(key))) as staging:
                shutil.copytree(folder, staging, dirs_exist_ok=True)
            return
        with self.errors():
            stale = set(self.list(key)) - {f"{key}/{name}" for name in names}
            self.delete(f"{key}/{last}")
            for path in files:
                name = path.relative_to(folder).as_posix()
                if name != last:
                    self.fs.put_file(str(path), self.path(f"{key}/{name}"))
            for stale_key in sorted(stale):
                self.fs.rm(self.path(stale_key))
            self.fs.put_file(str(folder / last), self.path(f"{key}/{last}"))

    def list(self, prefix: str = "") -> list[str]:
        """Keys of every object under a prefix, sorted, relative to the store root."""
        with self.errors():
            base = self.path(prefix)
            # On S3 a missing prefix lists as empty, while a missing bucket raises: an
            # exists() check first would answer "empty" for both.
            if not self.is_s3 and not self.fs.exists(base):
                return []
            found = self.fs.find(base)
        root = self.root.rstrip("/") + "/"
        return sorted(p.removeprefix(root) for p in found if not _is_temporary(p))

    def objects(self, prefix: str = "") -> dict[str, tuple[int, float]]:
        """Every object under a prefix, a write's temporary file too, by key: its size in
        bytes and when it was last written, in seconds since the epoch (S3's LastModified)."""
        with self.errors():
            base = self.path(prefix)
            if not self.is_s3 and not self.fs.exists(base):
                return {}
            found = self.fs.find(base, detail=True)
        root = self.root.rstrip("/") + "/"
        result = {}
        for path, info in found.items():
            modified = info.get("LastModified") if self.is_s3 else info.get("mtime")
            if isinstance(modified, dt.datetime):
                modified = modified.timestamp()
            # No time given: newer than any cut-off, so that nothing is taken for a leftover.
            when = float("inf") if modified is None else float(modified)
            result[path.removeprefix(root)] = (int(info.get("size") or 0), when)
        return dict(sorted(result.items()))

    def delete(self, key: str) -> None:
        """Delete an object, or everything under a prefix; absent keys are fine."""
        path = self.path(key)
        with self.errors():
            # Another delete (a second `models gc`) may take some of it meanwhile, failing a
            # pass: the next takes what is left. Each such failure is a file gone, so the
            # passes end; a missing bucket is no such race.
            for passes_left in reversed(range(100)):
                try:
                    if self.fs.exists(path):
                        self.fs.rm(path, recursive=True)
                    return
                except FileNotFoundError as error:
                    if (self.is_s3 and _is_missing_bucket(error)) or not passes_left:
                        raise

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Turn connection, bucket and credential failures into one clear StoreError."""
        try:
            yield
        except StoreError:
            raise
        except PermissionError as error:
            check = "check the AWS credentials" if self.is_s3 else "check the folder's permissions"
            raise StoreError(f"access denied to {self.describe()}: {check} ({error})") from error
        except FileNotFoundError as error:
            if self.is_s3 and _is_missing_bucket(error):
                raise StoreError(
                    f"{self.describe()}: the bucket does not exist; create it or fix "
                    "CUISINEFLOW_STORE"
                ) from error
            raise
        except Exception as error:
            if _is_connection_error(error):
                raise StoreError(
                    f"cannot reach the S3 endpoint for {self.describe()}: {error}. "
                    "Is the endpoint running and CUISINEFLOW_S3_ENDPOINT_URL right?"
                ) from error
            if _is_credentials_error(error):
                raise StoreError(
                    f"no usable AWS credentials for {self.describe()}: set AWS_ACCESS_KEY_ID "
                    "and AWS_SECRET_ACCESS_KEY, or an AWS profile"
                ) from error
            raise


def s3_filesystem(endpoint_url: str | None, region: str | None) -> fsspec.AbstractFileSystem:
    """An s3fs filesystem that fails fast instead of retrying a dead endpoint for minutes."""
    client_kwargs: dict[str, Any] = {}
    if region:
        client_kwargs["region_name"] = region
    fs = fsspec.filesystem(
        "s3",
        endpoint_url=endpoint_url,
        client_kwargs=client_kwargs,
        config_kwargs={"retries": {"max_attempts": 2}, "connect_timeout": 5},
        skip_instance_cache=True,
        use_listings_cache=False,
        # Parquet readers ask for exact byte ranges (footer, column chunks); s3fs's default
        # 50 MB read-ahead would fetch whole files instead.
        default_block_size=256 * 1024,
    )
    fs.retries = 2
    return fs


def _is_temporary(path: str) -> bool:
    name = posixpath.basename(path)
    return name.startswith(".") and name.endswith(".tmp")


def _is_connection_error(error: BaseException) -> bool:
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(
        names
        & {
            "EndpointConnectionError",
            "ConnectionError",
            "ClientConnectorError",
            "ConnectTimeoutError",
        }
    )


def _is_missing_bucket(error: BaseException) -> bool:
    """s3fs raises FileNotFoundError for a missing key and a missing bucket alike; only the
    bucket's carries S3's NoSuchBucket (the key's message is its path, which may well hold
    the word "bucket")."""
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return any(
        type(e).__name__ == "NoSuchBucket" or "specified bucket does not exist" in str(e)
        for e in chain
    )


def _is_credentials_error(error: BaseException) -> bool:
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & {"NoCredentialsError", "PartialCredentialsError"})
