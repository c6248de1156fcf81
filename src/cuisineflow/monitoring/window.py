"""Reading a window of logged predictions, and labels that arrive later (through storage/)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cuisineflow.data.rawfiles import read_label_file
from cuisineflow.errors import DataError
from cuisineflow.monitoring import INCOMING
from cuisineflow.monitoring.log import PREFIX, SCHEMA
from cuisineflow.schemas import CUISINES, known_cuisine
from cuisineflow.storage import Store

LABELS = "monitoring/labels"


class BadLogError(DataError):
    """A file among the prediction logs that is not one: to be moved aside."""


def read_predictions(
    store: Store, since: dt.datetime | None, until: dt.datetime | None, path: Path | None = None
) -> pa.Table:
    """Logged predictions with since <= timestamp < until, from the store or a local folder."""
    condition = None
    for bound, op in ((since, pc.greater_equal), (until, pc.less)):
        if bound is not None:
            stamp = pa.scalar(bound.astimezone(dt.UTC), type=pa.timestamp("ms", tz="UTC"))
            term = op(ds.field("timestamp"), stamp)
            condition = term if condition is None else condition & term
    if path is not None:
        if not path.exists():
            raise DataError(f"{path}: no such prediction log file or folder")
        not_logs = f"{path}: not prediction logs (Parquet of the log schema)"
        try:
            local = ds.dataset(str(path), format="parquet", partitioning="hive")
            if not local.files:  # else its empty schema would say every column is missing
                raise DataError(f"{path}: no Parquet log files in this folder")
            found = local.schema.names
            missing = [name for name in SCHEMA.names if name not in found]
            if missing:
                raise DataError(f"{not_logs}: no column {', '.join(missing)}")
            dataset = ds.dataset(str(path), format="parquet", partitioning="hive", schema=SCHEMA)
            return dataset.to_table(filter=condition)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise DataError(f"{not_logs}: {error}") from None
    parquet, incoming = store.list(PREFIX), _incoming(store)
    if not parquet and not incoming:
        raise DataError(
            f"no prediction logs in {store.describe()} ({PREFIX}/): serve the model, or "
            "run `cuisineflow predict --log`, to record some"
        )
    tables = [t.filter(condition) if condition is not None else t for t in incoming]
    if parquet:
        dataset = ds.dataset(store.path(PREFIX), filesystem=store.arrow_filesystem,
                             format="parquet", partitioning="hive", schema=SCHEMA)  # fmt: skip
        try:
            tables.append(dataset.to_table(filter=condition))  # the filter is pushed into the scan
        except pa.ArrowException:
            _name_bad_log(store, dataset)
            raise  # no one file fails alone: not the files' fault (a connection, say)
    return pa.concat_tables(tables)


def _name_bad_log(store: Store, dataset: ds.FileSystemDataset) -> None:
    """Raise a DataError naming the first log file that cannot be read as a log, if any:
    one bad file (a cut-off upload, something else copied there) would stop every report."""
    root = store.root.rstrip("/") + "/"
    for fragment in dataset.get_fragments():
        try:
            fragment.to_table(schema=SCHEMA)
        except pa.ArrowException as error:
            why = re.sub(r"^Could not open Parquet input source '[^']*': ", "", str(error))
            key = fragment.path.removeprefix(root)
            raise BadLogError(
                f"{store.url(key)}: not a prediction log (Parquet of the log schema): "
                f"{why.splitlines()[0].rstrip('.')}; move it out of {PREFIX}/ and run again"
            ) from None


def by_model(window: pa.Table, name: str, version: int) -> pa.Table:
    """The predictions that one model version made: a profile describes only its own model."""
    mine = pc.and_(pc.equal(window["model_name"], name),
                   pc.equal(window["model_version"], str(version)))  # fmt: skip
    chosen = window.filter(mine)
    if window.num_rows and not chosen.num_rows:
        logged = Counter(zip(window["model_name"].to_pylist(),
                             window["model_version"].to_pylist(), strict=True))  # fmt: skip
        listed = sorted(logged.items(), key=lambda item: str(item[0]))  # a name may be null
        found = ", ".join(f"{n}@{v} ({count})" for (n, v), count in listed)
        raise DataError(f"no predictions of {name}@{version} in the window; it holds {found}")
    return chosen


def _incoming(store: Store) -> list[pa.Table]:
    """Logs the Lambda function wrote as JSON Lines (monitoring/incoming/)."""
    tables = []
    for key in store.list(INCOMING):
        # One bad file (a write cut off) is named, not a traceback that stops every report.
        bad = f"{store.url(key)}: not a prediction log (JSON Lines of the log schema)"
        fix = f"move it out of {INCOMING}/ and run again"
        rows = []
        for number, line in enumerate(store.read_bytes(key).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                row["timestamp"] = dt.datetime.fromisoformat(row["timestamp"])
            except UnicodeDecodeError:  # before ValueError, which it is
                raise BadLogError(f"{bad}: line {number}: not UTF-8; {fix}") from None
            except json.JSONDecodeError as error:
                raise BadLogError(f"{bad}: line {number}: not JSON ({error.msg}); {fix}") from None
            except (KeyError, TypeError, ValueError):
                raise BadLogError(f"{bad}: line {number}: no ISO timestamp; {fix}") from None
            rows.append(row)
        try:
            tables.append(pa.Table.from_pylist(rows, schema=SCHEMA))
        except (pa.ArrowException, TypeError, UnicodeError) as error:  # "\udc00": no UTF-8
            raise BadLogError(f"{bad}: {str(error).splitlines()[0].rstrip('.')}; {fix}") from None
    return tables


def add_labels(store: Store, source: Path) -> int:
    """Store labels ({id, cuisine} records, or Kaggle-format recipes) for later joins by id."""
    rows = [{"id": i, "cuisine": c} for i, c in _labels_in(source).items()]
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    # Microseconds: `read_labels` applies files in key order, so a correction added in the
    # same second as the label it corrects must sort after it.
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    store.write_bytes(f"{LABELS}/labels-{stamp}-{uuid.uuid4().hex[:8]}.parquet", sink.getvalue())
    return len(rows)


def _labels_in(source: Path) -> dict[str, str]:
    """id -> cuisine of a file's labelled recipes; a cuisine outside the 20 is refused, and
    so is a file without one (unlabelled recipes given as labels by mistake)."""
    labels = {}
    for label in read_label_file(source):
        if label.cuisine is None:
            continue
        cuisine = known_cuisine(label.cuisine)  # as `validate` reads it
        if cuisine is None:
            raise DataError(
                f"{source.name}: recipe {label.id}: unknown cuisine {label.cuisine!r}; "
                f"the cuisines are {', '.join(CUISINES)}"
            )
        labels[str(label.id)] = cuisine
    if not labels:
        raise DataError(f"{source.name}: no recipe has a cuisine: nothing to record as labels")
    return labels


def read_labels(store: Store, source: Path | None) -> dict[str, str]:
    """id -> cuisine from a labels file, else from the labels recorded in the store (the
    latest added wins for an id)."""
    if source is not None:
        return _labels_in(source)
    labels: dict[str, str] = {}
    for key in store.list(LABELS):
        # ParquetFile, not read_table: read_table scans an in-memory file on Arrow's
        # threads, which can abort the process as it exits (exit 134; apache/arrow#34314).
        table = pq.ParquetFile(pa.BufferReader(store.read_bytes(key))).read()
        labels.update(zip(table["id"].to_pylist(), table["cuisine"].to_pylist(), strict=True))
    return labels
