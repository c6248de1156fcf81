"""Reading a window of logged predictions, and labels that arrive later (through storage/)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable
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
    """A file among the prediction logs (or labels) that is not one: to be moved aside."""


# Every log writer (log.records_for, the Lambda's predictionlog) writes every column, with a
# value in each but `id` (null for a recipe sent without one) and `model_name` (an earlier
# Lambda release logged a folder model's as null). A column read as nulls is no log's.
REQUIRED = [name for name in SCHEMA.names if name != "id"]
FILLED = [name for name in REQUIRED if name != "model_name"]


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
    if condition is not None:  # rows with no timestamp are read, to be refused, not left out
        condition = condition | ds.field("timestamp").is_null()
    if path is not None:
        if not path.exists():
            raise DataError(f"{path}: no such prediction log file or folder")
        try:
            local = ds.dataset(str(path), format="parquet", partitioning="hive", schema=SCHEMA)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise DataError(f"{path}: not prediction logs: {error}") from None
        if not local.files:
            raise DataError(f"{path}: no Parquet log files in this folder")
        fix = f"; move it out of {path}/ and run again" if path.is_dir() else ""
        return _read_parquet(local, condition, lambda name: name, fix)
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
        root = store.root.rstrip("/") + "/"

        def url(path: str) -> str:
            return store.url(path.removeprefix(root))

        tables.append(
            _read_parquet(dataset, condition, url, f"; move it out of {PREFIX}/ and run again")
        )
    return pa.concat_tables(tables)


def _read_parquet(
    dataset: ds.FileSystemDataset,
    condition: ds.Expression | None,
    name: Callable[[str], str],
    fix: str,
) -> pa.Table:
    """The logs' rows that meet the condition; a file that is no log is named: one bad file
    (a cut-off upload, something else copied there) would stop every report."""

    def refuse(fragment: ds.Fragment, why: str) -> BadLogError:
        return BadLogError(
            f"{name(fragment.path)}: not a prediction log (Parquet of the log schema): {why}{fix}"
        )

    # Read as SCHEMA, a file without a column would give nulls; its footer says it has none.
    for fragment in dataset.get_fragments():
        try:
            found = fragment.physical_schema.names
        except pa.ArrowException as error:
            raise refuse(fragment, _arrow_reason(error)) from None
        missing = [column for column in REQUIRED if column not in found]
        if missing:
            raise refuse(fragment, f"no column {', '.join(missing)}")
    try:
        table = dataset.to_table(filter=condition)  # the filter is pushed into the scan
    except pa.ArrowException:
        _name_unread(dataset, condition, refuse)
        raise  # no one file fails alone: not the files' fault (a connection, say)
    unfit = _unfit(table)
    if unfit:
        _name_unread(dataset, condition, refuse)
        raise DataError(f"prediction logs with {unfit}")
    return table


def _name_unread(
    dataset: ds.FileSystemDataset,
    condition: ds.Expression | None,
    refuse: Callable[[ds.Fragment, str], BadLogError],
) -> None:
    """Raise naming the first file that cannot be read as a log, or lacks a value, if any."""
    for fragment in dataset.get_fragments():
        try:
            unfit = _unfit(fragment.to_table(schema=SCHEMA, filter=condition))
        except pa.ArrowException as error:
            raise refuse(fragment, _arrow_reason(error)) from None
        if unfit:
            raise refuse(fragment, unfit)


def _unfit(table: pa.Table) -> str | None:
    """What makes some records no log's records, or None: a null (or NaN) where every log
    writer writes a value, or a confidence that is no probability (an infinite one made
    the report's estimated accuracy infinite, which report.json cannot hold)."""
    unfilled = _unfilled(table)
    if unfilled:
        return f"no value in {', '.join(unfilled)} of some records"
    confidence = table["confidence"]
    if pc.any(pc.or_(pc.less(confidence, 0), pc.greater(confidence, 1))).as_py():
        return "a confidence outside [0, 1] (no probability) in some records"
    return None


def _unfilled(table: pa.Table) -> list[str]:
    """The columns with a null (or NaN) where every log writer writes a value."""
    unfilled = []
    for column in FILLED:
        values = table[column]
        if pa.types.is_list(values.type):
            values = pc.list_flatten(values)  # an ingredient may not be null either
        if (
            table[column].null_count
            or values.null_count
            or (pa.types.is_floating(values.type) and pc.any(pc.is_nan(values)).as_py())
        ):
            unfilled.append(column)
    return unfilled


def _arrow_reason(error: pa.ArrowException) -> str:
    """Arrow's first line, less the file name the message names anyway."""
    why = re.sub(r"^Could not open Parquet input source '[^']*': ", "", str(error))
    return why.splitlines()[0].rstrip(".")


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
            missing = [name for name in REQUIRED if name not in row]  # from_pylist: null
            if missing:
                raise BadLogError(f"{bad}: line {number}: no field {', '.join(missing)}; {fix}")
            rows.append(row)
        try:
            table = pa.Table.from_pylist(rows, schema=SCHEMA)
        except (pa.ArrowException, TypeError, UnicodeError) as error:  # "\udc00": no UTF-8
            raise BadLogError(f"{bad}: {str(error).splitlines()[0].rstrip('.')}; {fix}") from None
        unfit = _unfit(table)
        if unfit:
            raise BadLogError(f"{bad}: {unfit}; {fix}")
        tables.append(table)
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
        labels.update(_stored_labels(store, key))
    return labels


def _stored_labels(store: Store, key: str) -> dict[str, str]:
    """id -> cuisine of one file `add_labels` wrote; anything else is named, to be moved aside
    (one damaged or foreign file would stop every report)."""
    bad = f"{store.url(key)}: not labels (Parquet of id and cuisine, as `labels add` writes)"
    fix = f"move it out of {LABELS}/ and run again"
    try:
        # ParquetFile, not read_table: read_table scans an in-memory file on Arrow's
        # threads, which can abort the process as it exits (exit 134; apache/arrow#34314).
        table = pq.ParquetFile(pa.BufferReader(store.read_bytes(key))).read()
    except pa.ArrowException as error:
        raise BadLogError(f"{bad}: {_arrow_reason(error)}; {fix}") from None
    for column in ("id", "cuisine"):
        if column not in table.column_names:
            raise BadLogError(f"{bad}: no column {column}; {fix}")
        if table[column].type != pa.string() or table[column].null_count:
            raise BadLogError(f"{bad}: column {column} is not text in every row; {fix}")
    return dict(zip(table["id"].to_pylist(), table["cuisine"].to_pylist(), strict=True))
