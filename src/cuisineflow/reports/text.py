"""Arrow tables as text a terminal or another program reads: an aligned table, CSV, JSON lines."""

from __future__ import annotations

import csv
import io
import json
import math
from decimal import Decimal
from typing import Any

import pyarrow as pa

from cuisineflow.errors import DataError

MAX_CELL = 60


def format_table(table: pa.Table, output_format: str) -> str:
    """Render a table as `table`, `csv` or `json` (one object per line).

    Rows are read by position: SQL may name two columns alike (`SELECT r.id, i.id`), which
    a table and CSV show as such; a JSON object cannot hold them, so `json` refuses them."""
    if output_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.column_names)
        for row in _rows(table):
            writer.writerow([_csv_value(value) for value in row])
        return out.getvalue()
    if output_format == "json":
        repeated = sorted({n for n in table.column_names if table.column_names.count(n) > 1})
        if repeated:
            raise DataError(
                f"the result names {', '.join(repeated)} more than once, which a JSON object "
                "cannot hold: name the columns apart (AS), or use another format"
            )
        rows = (_json_safe(row) for row in table.to_pylist())
        return "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)
    return _aligned(table)


def format_rows(rows: list[dict[str, Any]], output_format: str) -> str:
    """Render rows of Python values as format_table does. JSON keeps each value's own type,
    so a column that mixes numbers and text (which a table shows as text) stays as it was."""
    if output_format == "json":
        names = list(dict.fromkeys(name for row in rows for name in row))
        whole = ({name: row.get(name) for name in names} for row in rows)  # every column
        return "".join(
            json.dumps(_json_safe(row), ensure_ascii=False, default=str) + "\n" for row in whole
        )
    return format_table(table_of_rows(rows), output_format)


def table_of_rows(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as a table; a column whose values mix types (a param that is 0.5 in one
    experiment and "high" in another) becomes text, where Arrow would refuse it."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    columns = []
    for name in names:
        values = [row.get(name) for row in rows]
        try:
            columns.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
    return pa.Table.from_arrays(columns, names)


def _rows(table: pa.Table) -> list[tuple[object, ...]]:
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))


def _json_safe(value: object) -> object:
    """NaN and infinities as null: JSON has no such numbers. A decimal (DuckDB's SUM of
    integers) as the number it is, not as a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _csv_value(value: object) -> object:
    """CSV has no lists: join them with `|`, a character no ingredient holds; null as empty."""
    return "|".join(map(_text, value)) if isinstance(value, list) else value


def _aligned(table: pa.Table) -> str:
    if not table.column_names:  # S3 Select names no columns when it returns no rows
        return f"({table.num_rows} rows)\n"
    names = table.column_names
    rows = [[_cell(value) for value in row] for row in _rows(table)]
    widths = [max([len(name)] + [len(row[i]) for row in rows]) for i, name in enumerate(names)]
    lines = ["  ".join(name.ljust(width) for name, width in zip(names, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _cell(value: object) -> str:
    if value is None:
        return "NULL"  # as SQL says it: a blank cell reads as an empty string
    text = ", ".join(map(_text, value)) if isinstance(value, list) else _text(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"
