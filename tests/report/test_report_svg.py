"""SVG helpers: well-formed, escaped, and safe on empty or flat data."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest

from repo_sdk.report import svg
from repo_sdk.report.stats import histogram_bins, nice_ticks


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # raises on malformed XML


@pytest.mark.parametrize(
    "chart",
    [
        lambda: svg.histogram([], color="#000"),
        lambda: svg.histogram(histogram_bins([1.0]), color="#000"),
        lambda: svg.histogram(histogram_bins([i * 0.37 for i in range(200)]), color="#000"),
        lambda: svg.scatter([], color="#000", x_label="x", y_label="y"),
        lambda: svg.scatter([(5.0, 1.0)] * 3, color="#000", x_label="len", y_label="<reward>"),
        lambda: svg.scatter([(1.0, 2.0), (3.0, 1.0), (9.0, -4.0)], color="#000", x_label="x", y_label="y"),
        lambda: svg.heatmap([], []),
        lambda: svg.heatmap(["a<", "b"], [[(1.0, 3), (None, 0)], [(None, 0), (-0.5, 3)]]),
    ],
)
def test_charts_are_well_formed_svg(chart) -> None:  # type: ignore[no-untyped-def]
    root = parse(chart())
    assert root.tag.endswith("svg") and root.get("viewBox")


def test_text_is_escaped() -> None:
    out = svg.scatter([(1.0, 2.0), (2.0, 1.0)], color="#000", x_label="<script>x</script>", y_label="y")
    assert "<script>" not in out and "&lt;script&gt;" in out


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(0, 9), (-0.2, 0), (5, 5), (0, 0), (-45, 0), (1, 5), (0.001, 0.0013), (12, 1234)],
)
def test_nice_ticks_cover_the_range(lo: float, hi: float) -> None:
    ticks = nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi and len(ticks) >= 2
    assert all(b > a for a, b in itertools.pairwise(ticks))


@pytest.mark.parametrize(("r", "color"), [(None, "#e2e8f0"), (0.0, "#f8fafc"), (1.0, "#dc2626"), (-1.0, "#2563eb")])
def test_diverging_color(r: float | None, color: str) -> None:
    assert svg.diverging_color(r) == color


@pytest.mark.parametrize(
    "values",
    [
        [i * 0.37 for i in range(200)],
        [0.0012 + i * 0.0001 for i in range(300)],
        [-5.5 + i * 0.013 for i in range(500)],
        [i * 1234.5 for i in range(100)],
    ],
)
def test_histogram_axis_labels_fit_inside_the_chart(values: list[float]) -> None:
    root = parse(svg.histogram(histogram_bins(values), color="#000"))
    width = float(root.get("viewBox", "").split()[2])
    labels = [t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text]
    assert labels
    for t in labels:  # 12 px text: about 7.2 px a character
        x, size, anchor = float(t.get("x", 0)), len(t.text or "") * 7.2, t.get("text-anchor")
        left = x - size / 2 if anchor == "middle" else x - size if anchor == "end" else x
        assert 0 <= left and left + size <= width, (t.text, x, width)
