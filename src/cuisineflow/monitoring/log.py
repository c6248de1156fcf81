"""Prediction logs: buffered off the request path, written as Parquet partitioned by date.

A full buffer or a store that cannot be written drops records and counts them; logging
never blocks or fails a prediction.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import logging
import threading
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cuisineflow.monitoring.records import records_for as records_for  # its callers' import
from cuisineflow.storage import Store

PREFIX = "monitoring/predictions"
SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("timestamp", pa.timestamp("ms", tz="UTC")),
        ("model_name", pa.string()),
        ("model_version", pa.string()),
        ("id", pa.string()),
        ("ingredients", pa.list_(pa.string())),
        ("cuisine", pa.string()),
        ("confidence", pa.float64()),
        ("top_cuisines", pa.list_(pa.string())),
        ("top_probabilities", pa.list_(pa.float64())),
        ("latency_ms", pa.float64()),
    ]
)
log = logging.getLogger(__name__)
# How long close() waits for a write in flight (a slow store) before giving it up as dropped.
CLOSE_TIMEOUT = 30.0


def _table(records: list[dict[str, Any]]) -> pa.Table:
    """Records as an Arrow table, built column by column: Table.from_pylist is ~300x slower
    here, and a flush holds the GIL that requests need."""
    return pa.table({f.name: pa.array([r[f.name] for r in records], type=f.type) for f in SCHEMA})


def _warm_up() -> None:
    """Pay pyarrow's one-time set-up (about 0.7 s holding the GIL) now, at start-up, not in
    the first flush while requests wait."""
    prediction = SimpleNamespace(
        cuisine="", confidence=0.0, top=[{"cuisine": "", "probability": 0.0}]
    )
    table = _table(records_for([prediction], [(None, ["salt"])], "", "", "", 0.0))
    pc.strftime(table["timestamp"], format="%Y-%m-%d")
    pq.write_table(table, io.BytesIO())


class PredictionLogger:
    """Buffers records in memory (bounded) and writes them from a background thread."""

    def __init__(
        self,
        store: Store,
        max_buffer: int = 20_000,
        flush_records: int = 2_000,
        flush_seconds: float = 30.0,
    ) -> None:
        self.store, self.max_buffer = store, max_buffer
        self.flush_records, self.flush_seconds = flush_records, flush_seconds
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.dropped = 0
        self.written = 0
        # Each flush's records not yet counted as written or dropped: close() may give up on
        # them, and a write that ends after that must not count them again.
        self._unfinished: dict[int, int] = {}
        self._flushes = itertools.count()
        self.on_drop: Callable[[int], None] | None = None  # told how many, e.g. a metric
        _warm_up()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def log(self, records: list[dict[str, Any]]) -> None:
        """Queue records; drop (and count) them when the buffer is full. Never blocks long."""
        with self._lock:
            if len(self._buffer) + len(records) > self.max_buffer:
                self._drop(len(records))
                return
            self._buffer.extend(records)
            due = len(self._buffer) >= self.flush_records
        if due:
            self._wake.set()

    def flush(self) -> int:
        """Write what is buffered, a file a day; the records of a day not written are dropped
        and counted. Returns how many were written."""
        with self._lock:
            batch, self._buffer = self._buffer, []
            if not batch:
                return 0
            flush = next(self._flushes)
            self._unfinished[flush] = len(batch)
        written = 0
        try:
            table = _table(batch)
            days = pc.strftime(table["timestamp"], format="%Y-%m-%d")
            for day in sorted(set(days.to_pylist())):
                part = table.filter(pc.equal(days, day))
                sink = io.BytesIO()
                pq.write_table(part, sink)
                stamp = dt.datetime.now(dt.UTC).strftime("%H%M%S%f")
                key = f"{PREFIX}/date={day}/part-{stamp}-{uuid.uuid4().hex[:8]}.parquet"
                self.store.write_bytes(key, sink.getvalue())
                with self._lock:  # the days before a failure stay written
                    if flush in self._unfinished:
                        self._unfinished[flush] -= part.num_rows
                        self.written += part.num_rows
                        written += part.num_rows
        except Exception as error:  # an unreachable store must not take the server down
            with self._lock:
                lost = self._unfinished.pop(flush, 0)
                if lost:
                    self._drop(lost)
            if lost:
                log.warning("dropped %d prediction log records: %s", lost, error)
        with self._lock:
            self._unfinished.pop(flush, None)
        return written

    def _drop(self, count: int) -> None:
        self.dropped += count
        if self.on_drop is not None:
            self.on_drop(count)

    def close(self) -> None:
        """Stop the background thread and write what is left; a write still in flight after
        CLOSE_TIMEOUT seconds is given up: its records are counted as dropped."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=CLOSE_TIMEOUT)
        if self._thread.is_alive():
            with self._lock:
                lost = sum(self._unfinished.values())
                self._unfinished.clear()
                if lost:
                    self._drop(lost)
            if lost:
                log.warning(
                    "dropped %d prediction log records: their write was still in flight after %g s",
                    lost,
                    CLOSE_TIMEOUT,
                )
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            if not self._stop.is_set():
                self.flush()
