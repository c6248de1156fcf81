"""Report pieces: distinctive ingredients by hand, confused pairs, self-contained pages."""

from __future__ import annotations

import re

from cuisineflow.reports import pages
from cuisineflow.reports.html import Section, page, svg
from cuisineflow.reports.plots import horizontal_bars


def test_distinctive_ingredients_rank_by_log_odds() -> None:
    recipes = [("thai", ["fish sauce", "lime", "salt"])] * 6 + [("italian", ["basil", "salt"])] * 6
    distinctive = pages.distinctive_ingredients(recipes, top=2)
    assert distinctive["thai"] == ["fish sauce", "lime"]  # salt is everywhere: not distinctive
    assert distinctive["italian"][0] == "basil"


def test_confused_pairs() -> None:
    confusion = [[5, 3, 0], [1, 7, 0], [0, 4, 2]]
    assert pages.confused_pairs(confusion, ["a", "b", "c"], top=2) == [("c", "b", 4), ("a", "b", 3)]


def test_pages_are_self_contained_and_reproducible() -> None:
    def build() -> str:
        section = (
            Section("Bars")
            .text("<not markup>")
            .figure(horizontal_bars(["x", "y"], [1, 2], "t", "n"))
        )
        return page("Title & co", "sub", [section.rows([{"a": 1.5, "b": ["p", "q"]}])])

    first = build()
    assert first == build()  # no random ids or dates in the SVG
    assert "&lt;not markup&gt;" in first
    assert "<svg" in first
    assert "Title &amp; co" in first
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", first)
    assert "<script" not in first


def test_svg_is_inline_markup() -> None:
    assert svg(horizontal_bars(["x"], [1.0], "t", "n")).startswith("<svg")
