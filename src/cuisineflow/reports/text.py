"""Arrow tables as text a terminal or another program reads: an aligned table, CSV, JSON lines."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.csv as pacsv

MAX_CELL = 60


def format_table(table: pa.Table, output_format: str) -> str:
    """Render a table as `table`, `csv` or `json` (one object per line)."""
    if output_format == "csv":
        sink = io.BytesIO()
        pacsv.write_csv(_flatten_lists(table), sink)
        return sink.getvalue().decode()
    if output_format == "json":
        rows = table.to_pylist()
        return "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)
    return _aligned(table)


def _flatten_lists(table: pa.Table) -> pa.Table:
    """CSV has no lists: join them with `|`, a character no ingredient holds."""
    columns = []
    for column in table.columns:
        if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            column = pa.array(["|".join(v) if v is not None else None for v in column.to_pylist()])
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _aligned(table: pa.Table) -> str:
    names = table.column_names
    rows = [[_cell(value) for value in row.values()] for row in table.to_pylist()]
    widths = [max([len(name)] + [len(row[i]) for row in rows]) for i, name in enumerate(names)]
    lines = ["  ".join(name.ljust(width) for name, width in zip(names, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _cell(value: object) -> str:
    text = "" if value is None else ", ".join(value) if isinstance(value, list) else str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"
