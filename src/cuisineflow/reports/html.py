"""Self-contained HTML pages: figures inlined as SVG, no script, nothing fetched."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

STYLE = """body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#222}h1{margin-bottom:.2rem}h2{margin-top:2.2rem;
border-bottom:2px solid #e5e9f0;padding-bottom:.2rem}
table{border-collapse:collapse;display:block;overflow-x:auto;margin:.8rem 0;font-size:.92rem}
th,td{padding:.25rem .7rem;border-bottom:1px solid #e5e9f0;
text-align:left;vertical-align:top}th{background:#f4f6fa}.figure svg{max-width:100%;
height:auto}.muted{color:#666}.alert{color:#b3261e;font-weight:600}"""


def svg(figure: Figure) -> str:
    """The figure as inline SVG markup (and the figure closed)."""
    buffer = io.StringIO()
    # A fixed salt and no date: the same data gives the same bytes (DVC sees no change).
    with plt.rc_context({"svg.hashsalt": "cuisineflow"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prologue: it is inline


def table(rows: list[dict[str, Any]], digits: int = 4) -> str:
    """An HTML table from rows of the same keys."""
    if not rows:
        return "<p class='muted'>nothing to show</p>"

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.{digits}f}"
        if isinstance(value, list):
            return html.escape(", ".join(map(str, value)))
        return html.escape("" if value is None else str(value))

    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row.values()) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


@dataclass
class Section:
    """A heading, then paragraphs, tables and figures in order (already HTML)."""

    heading: str
    parts: list[str] = field(default_factory=list)

    def text(self, words: str) -> Section:
        self.parts.append(f"<p>{html.escape(words)}</p>")
        return self

    def figure(self, figure: Figure) -> Section:
        self.parts.append(f"<div class='figure'>{svg(figure)}</div>")
        return self

    def rows(self, rows: list[dict[str, Any]]) -> Section:
        self.parts.append(table(rows))
        return self


def page(title: str, subtitle: str, sections: list[Section]) -> str:
    """One self-contained HTML document."""
    body = "".join(f"<h2>{html.escape(s.heading)}</h2>{''.join(s.parts)}" for s in sections)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p class='muted'>{html.escape(subtitle)}</p>{body}</body></html>\n"
    )
