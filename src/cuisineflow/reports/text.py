"""Arrow tables as text a terminal or another program reads: an aligned table, CSV, JSON lines."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa

MAX_CELL = 60


def format_table(table: pa.Table, output_format: str) -> str:
    """Render a table as `table`, `csv` or `json` (one object per line)."""
    if output_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.column_names)
        for row in table.to_pylist():
            writer.writerow([_csv_value(value) for value in row.values()])
        return out.getvalue()
    if output_format == "json":
        rows = table.to_pylist()
        return "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)
    return _aligned(table)


def _csv_value(value: object) -> object:
    """CSV has no lists: join them with `|`, a character no ingredient holds."""
    return "|".join(map(str, value)) if isinstance(value, list) else value


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
