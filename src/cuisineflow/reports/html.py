"""Self-contained HTML pages: figures inlined as SVG, no script, nothing fetched."""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

STYLE = """body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#222}h1{margin-bottom:.2rem}h2{margin-top:2.2rem;
border-bottom:2px solid #e5e9f0;padding-bottom:.2rem}
.scroll{overflow-x:auto;margin:.8rem 0}table{border-collapse:collapse;font-size:.92rem}
th,td{padding:.25rem .7rem;border-bottom:1px solid #e5e9f0;
text-align:left;vertical-align:top}th{background:#f4f6fa}.figure svg{max-width:100%;
height:auto}.muted{color:#666}.alert{color:#b3261e;font-weight:600}nav{font-size:.9rem}
nav a{margin-right:1rem}code{background:#f4f6fa;padding:0 .2rem}.lead{font-size:1.08rem}
.line+.line{border-top:1px dashed #d5dae3;margin-top:.2rem;padding-top:.2rem}"""

SANS = ["DejaVu Sans", "Arial", "Helvetica"]  # what the charts were laid out with, then alike

# The four report pages, side by side in reports/ and in <store>/reports/.
PAGES = ("data", "model", "experiments", "monitoring")


def svg(figure: Figure) -> str:
    """The figure as inline SVG markup (and the figure closed), labelled by its title for
    screen readers, its ids its own: matplotlib numbers every figure's ids from 1."""
    title = next((a.get_title() for a in figure.axes if a.get_title()), "chart")
    buffer = io.StringIO()
    # A fixed salt and no date: the same data gives the same bytes (DVC sees no change).
    # Text stays text (not glyph outlines): it can be found, read aloud and copied; and
    # literal, as the plots made it: ticks made while drawing must not read `$` as math.
    with plt.rc_context(
        {"svg.hashsalt": "cuisineflow", "svg.fonttype": "none", "font.sans-serif": SANS,
         "text.parse_math": False}
    ):  # fmt: skip
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prologue: it is inline
    prefix = "f" + hashlib.sha256(text.encode()).hexdigest()[:8] + "-"
    ids = re.compile(r'(\bid="|url\(#|href="#)')
    # Inside tags only: chart text (an ingredient's name) is left as written.
    text = re.sub(r"<[^>]+>", lambda tag: ids.sub(lambda m: m.group(1) + prefix, tag[0]), text)
    label = html.escape(title, quote=True)
    return text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


class Lines(tuple[str, ...]):
    """A table cell of several lines (recipes, one per line)."""


def inline(words: str) -> str:
    """Plain text as HTML, `code` in backticks set as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(words))


def table(rows: list[dict[str, Any]], digits: int = 4) -> str:
    """An HTML table from rows of the same keys: an int is a count, written 45,739 as in
    the pages' text (ids, hashes, versions and dates are given as text); a bool yes or no."""
    if not rows:
        return "<p class='muted'>nothing to show</p>"

    def cell(value: Any) -> str:
        if isinstance(value, bool):  # before int: True is an int
            return "yes" if value else "no"
        if isinstance(value, int):
            return f"{value:,}"
        if isinstance(value, float):
            return f"{value:.{digits}f}"
        if isinstance(value, Lines):
            return "".join(f"<div class='line'>{html.escape(line)}</div>" for line in value)
        if isinstance(value, list):  # "; ": an ingredient may hold a comma
            return html.escape("; ".join(map(str, value)))
        return html.escape("" if value is None else str(value))

    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row.values()) + "</tr>" for row in rows
    )
    return f"<div class='scroll'><table><tr>{head}</tr>{body}</table></div>"


@dataclass
class Section:
    """A heading, then paragraphs, tables and figures in order (already HTML)."""

    heading: str
    parts: list[str] = field(default_factory=list)

    def text(self, words: str) -> Section:
        self.parts.append(f"<p>{inline(words)}</p>")
        return self

    def figure(self, figure: Figure) -> Section:
        self.parts.append(f"<div class='figure'>{svg(figure)}</div>")
        return self

    def rows(self, rows: list[dict[str, Any]], digits: int = 4) -> Section:
        self.parts.append(table(rows, digits))
        return self


def page(
    title: str,
    subtitle: str,
    sections: list[Section],
    lead: str = "",
    links: Sequence[str] = PAGES,
) -> str:
    """One self-contained HTML document: links to the other pages (`links`: those beside
    it), the title, what it is about (subtitle), its conclusion (lead), then the sections."""
    body = "".join(f"<h2>{html.escape(s.heading)}</h2>{''.join(s.parts)}" for s in sections)
    nav = " ".join(f"<a href='{name}.html'>{name}</a>" for name in links)
    conclusion = f"<p class='lead'>{inline(lead)}</p>" if lead else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><nav>{nav}</nav><h1>{html.escape(title)}</h1>"
        f"<p class='muted'>{inline(subtitle)}</p>{conclusion}{body}</body></html>\n"
    )
