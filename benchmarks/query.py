"""Benchmark: SQL in place on the embedded S3 endpoint, three ways, on the full data set.

  lake     DuckDB over the Parquet lake (filters and columns pushed into the scan)
  select   S3 Select on the raw JSON Lines copy (what the endpoint can do; the rest in Python)
  download GET the whole raw JSON Lines object and filter in Python

Usage: .venv/bin/python benchmarks/query.py [--source DIR] [--runs 5]
Prints the median time and bytes read of each query and engine, and the speed-ups.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs
import s3fs.core

from cuisineflow.data.lake import RAW_JSONL, build_lake
from cuisineflow.data.rawfiles import is_raw_file, load_raw_records
from cuisineflow.data.sql import query
from cuisineflow.data.tables import RECIPE_SCHEMA
from cuisineflow.data.validation import validate_records
from cuisineflow.params import LakeParams, ValidateParams
from cuisineflow.storage import Store
from cuisineflow.storage.s3server import free_port, s3_client

CUISINE = "moroccan"
INGREDIENT = "fish sauce"

BYTES_READ = collections.Counter[str]()
_fetch_range = s3fs.core.S3File._fetch_range


def _counting_fetch_range(self: Any, start: int, end: int) -> bytes:
    data: bytes = _fetch_range(self, start, end)
    BYTES_READ["lake"] += len(data)
    return data


def start_endpoint() -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    command = [sys.executable, "-m", "cuisineflow", "store", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--bucket", "bench"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()
    return process, f"http://127.0.0.1:{port}"


def publish_lake(source: Path, store: Store) -> None:
    import pyarrow as pa

    files = sorted(p for p in source.iterdir() if is_raw_file(p))
    records = [r for path in files for r in load_raw_records(path)]
    result = validate_records(records, ValidateParams())
    table = pa.Table.from_pylist(result.valid, schema=RECIPE_SCHEMA)
    with tempfile.TemporaryDirectory() as folder:
        manifest = build_lake(table, LakeParams(), Path(folder))
        (Path(folder) / "manifest.json").write_text(json.dumps(manifest))
        store.publish_folder(Path(folder), "lake", last="manifest.json")


def s3select(store: Store, sql: str) -> tuple[list[dict[str, Any]], int]:
    """Rows and bytes (scanned by the server + returned) for one S3 Select query."""
    response = s3_client(store.endpoint_url).select_object_content(
        Bucket=store.bucket,
        Key=store.path(RAW_JSONL).split("/", 1)[1],
        Expression=sql,
        ExpressionType="SQL",
        InputSerialization={"JSON": {"Type": "LINES"}},
        OutputSerialization={"JSON": {}},
    )
    payload, scanned = b"", 0
    for event in response["Payload"]:
        if "Records" in event:
            payload += event["Records"]["Payload"]
        if "Stats" in event:
            scanned = event["Stats"]["Details"].get("BytesScanned", 0)
    rows = [json.loads(line) for line in payload.splitlines() if line.strip()]
    return rows, max(scanned, len(payload))


def download(store: Store) -> tuple[list[dict[str, Any]], int]:
    body = (
        s3_client(store.endpoint_url)
        .get_object(Bucket=store.bucket, Key=store.path(RAW_JSONL).split("/", 1)[1])["Body"]
        .read()
    )
    return [json.loads(line) for line in body.splitlines()], len(body)


def per_cuisine(rows: list[dict[str, Any]]) -> dict[str, int]:
    return dict(collections.Counter(r["cuisine"] for r in rows if r["cuisine"]))


def queries(store: Store) -> dict[str, dict[str, Callable[[], tuple[Any, int]]]]:
    """Each query three ways; every way returns (a comparable answer, bytes read)."""

    def lake(sql: str, shape: Callable[[Any], Any]) -> Callable[[], tuple[Any, int]]:
        # The native Arrow filesystem keeps no byte counts: count them once through s3fs,
        # which asks for the same byte ranges, and time the native path.
        BYTES_READ["lake"] = 0
        counting = pafs.PyFileSystem(pafs.FSSpecHandler(store.fs))
        counting_store = dataclasses.replace(store)
        counting_store.__dict__["arrow_filesystem"] = counting
        query(sql, store=counting_store)
        read = BYTES_READ["lake"]

        def run() -> tuple[Any, int]:
            return shape(query(sql, store=store)), read

        return run

    def ids(table: Any) -> list[int]:
        return sorted(table.column("id").to_pylist())

    def select_ids(
        sql: str, keep: Callable[[dict[str, Any]], bool]
    ) -> Callable[[], tuple[Any, int]]:
        def run() -> tuple[Any, int]:
            rows, read = s3select(store, sql)
            return sorted(int(r["id"]) for r in rows if keep(r)), read

        return run

    def download_ids(keep: Callable[[dict[str, Any]], bool]) -> Callable[[], tuple[Any, int]]:
        def run() -> tuple[Any, int]:
            rows, read = download(store)
            return sorted(r["id"] for r in rows if keep(r)), read

        return run

    is_cuisine = lambda r: r["cuisine"] == CUISINE  # noqa: E731
    has_ingredient = lambda r: INGREDIENT in r["ingredients"]  # noqa: E731
    return {
        f"recipes of one cuisine ({CUISINE})": {
            "lake": lake(f"SELECT id FROM recipes WHERE cuisine = '{CUISINE}'", ids),
            "select": select_ids(
                f"SELECT s.id FROM s3object s WHERE s.cuisine = '{CUISINE}'", lambda r: True
            ),
            "download": download_ids(is_cuisine),
        },
        f"recipes containing '{INGREDIENT}'": {
            "lake": lake(
                f"SELECT id FROM recipe_ingredients WHERE ingredient = '{INGREDIENT}'", ids
            ),
            # moto's S3 Select has no LIKE, no list functions, and fails to project a list
            # column by name: only SELECT * returns the lists, to filter here.
            "select": select_ids("SELECT * FROM s3object s", has_ingredient),
            "download": download_ids(has_ingredient),
        },
        "counts per cuisine": {
            "lake": lake(
                "SELECT cuisine, count(*) AS n FROM recipes WHERE cuisine IS NOT NULL GROUP BY 1",
                lambda t: {r["cuisine"]: r["n"] for r in t.to_pylist()},
            ),
            # moto's S3 Select has no GROUP BY: fetch the column, count here.
            "select": lambda: (lambda rr: (per_cuisine(rr[0]), rr[1]))(
                s3select(store, "SELECT s.cuisine FROM s3object s")
            ),
            "download": lambda: (lambda rr: (per_cuisine(rr[0]), rr[1]))(download(store)),
        },
    }


def compared(ratio: float, other: str, digits: str) -> str:
    """The lake's speed against another way's: its time over the lake's."""
    if ratio >= 1:
        return f"{ratio:{digits}}x faster than {other}"
    return f"{1 / ratio:{digits}}x slower than {other}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=os.environ.get("CUISINEFLOW_SOURCE"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    s3fs.core.S3File._fetch_range = _counting_fetch_range  # count the lake's bytes off S3
    if not args.source:
        parser.error("give --source DIR (the What's Cooking files) or set CUISINEFLOW_SOURCE")
    if not Path(args.source).is_dir() or not any(map(is_raw_file, Path(args.source).iterdir())):
        parser.error(f"--source {args.source}: not a folder of recipe files (*.zip, *.json)")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    process, endpoint = start_endpoint()
    try:
        store = Store.open("s3://bench/cuisineflow", endpoint_url=endpoint)
        started = time.perf_counter()
        publish_lake(Path(args.source), store)
        print(f"lake built and published to {endpoint} in {time.perf_counter() - started:.1f} s")
        print(f"{'query':40} {'engine':9} {'median s':>9} {'MB read':>8} {'rows':>6}")
        for name, engines in queries(store).items():
            times: dict[str, list[float]] = {engine: [] for engine in engines}
            answers, reads = {}, {}
            # Alternated, run by run, so that a change in the machine's load falls on each.
            for _ in range(args.runs):
                for engine, run in engines.items():
                    begin = time.perf_counter()
                    answers[engine], reads[engine] = run()
                    times[engine].append(time.perf_counter() - begin)
            medians = {engine: statistics.median(times[engine]) for engine in engines}
            for engine in engines:
                print(
                    f"{name:40} {engine:9} {medians[engine]:9.3f} {reads[engine] / 1e6:8.2f} "
                    f"{len(answers[engine]):6}"
                )
            assert answers["lake"] == answers["select"] == answers["download"], "answers differ"
            versus_select = compared(medians["select"] / medians["lake"], "S3 Select", ".0f")
            versus_download = compared(medians["download"] / medians["lake"], "the download", ".1f")
            print(f"{'':40} lake: {versus_select}, {versus_download}")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
