"""Inline SVG charts as strings: histogram, scatter, heatmap.

No plotting library and nothing external: each function returns one ``<svg>`` element
that scales to its container (``viewBox``), with every text escaped. Hovering a mark
shows its exact numbers (an SVG ``<title>``).

Example:
    >>> from repo_sdk.report.stats import histogram_bins
    >>> s = histogram(histogram_bins([1.0, 2.0, 2.0]), color="#4f46e5")
    >>> s.startswith("<svg") and s.count("<rect") >= 2
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from repo_sdk.report.stats import Bin, fmt, nice_ticks

__all__ = ["diverging_color", "heatmap", "histogram", "nice_ticks", "scatter"]

_AXIS = "#94a3b8"
_GRID = "#e2e8f0"
_TEXT = "#475569"


def _svg(width: int, height: int, body: list[str], label: str, max_width: float | None = None) -> str:
    style = f' style="max-width:{max_width:.0f}px"' if max_width else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img"{style} '
        f'aria-label="{escape(label)}" class="chart" font-family="inherit" font-size="12">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "middle", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{_TEXT}"{extra}>{escape(text)}</text>'


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def histogram(
    bins: Sequence[Bin],
    *,
    color: str,
    width: int = 380,
    height: int = 190,
    label: str = "",
    overlay: Sequence[int] | None = None,
    overlay_label: str = "baseline",
) -> str:
    """Vertical bars of bin counts; few distinct values get one labelled bar each.

    ``overlay``: counts of a second run on the same bins, drawn as dashed outlines over the bars.
    """
    if not bins:
        return _svg(width, height, [_text(width / 2, height / 2, "no values")], label or "histogram")
    categorical = bins[0].lo == bins[0].hi
    last = "" if categorical else _clip(fmt(bins[-1].hi), 8)
    # room on the right for the last edge label, centred on the plot's right edge
    ml, mr, mt, mb = 36, max(10, math.ceil(len(last) * 3.6) + 3), 10, 30
    pw, ph = width - ml - mr, height - mt - mb
    top = nice_ticks(0, max(b.count for b in bins) if overlay is None else max(*(b.count for b in bins), *overlay), 4)
    ymax = top[-1] or 1
    body = []
    for t in top:
        y = mt + ph - t / ymax * ph
        body.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="{_GRID}"/>')
        body.append(_text(ml - 5, y + 3.5, fmt(t), "end"))
    # one bar per distinct value: cap the bar width so a single value does not fill the plot
    slot = min(pw / len(bins), 64.0) if categorical else pw / len(bins)
    x0 = ml + (pw - slot * len(bins)) / 2
    gap = min(slot * 0.15, 6) if categorical else 1
    every = max(1, math.ceil(len(bins) / max(1, pw // 46)))
    for i, b in enumerate(bins):
        h = b.count / ymax * ph
        x = x0 + i * slot
        rng = fmt(b.lo) if b.lo == b.hi else f"[{fmt(b.lo)}, {fmt(b.hi)})"
        body.append(
            f'<rect x="{x + gap / 2:.1f}" y="{mt + ph - h:.1f}" width="{max(slot - gap, 1):.1f}" height="{h:.1f}" '
            f'fill="{color}" rx="2"><title>{escape(rng)}: {b.count}</title></rect>'
        )
        if overlay is not None and overlay[i]:
            ho = overlay[i] / ymax * ph
            body.append(
                f'<rect x="{x + gap / 2:.1f}" y="{mt + ph - ho:.1f}" width="{max(slot - gap, 1):.1f}" '
                f'height="{ho:.1f}" fill="none" stroke="#0f172a" stroke-width="1.2" stroke-dasharray="3 2">'
                f"<title>{escape(overlay_label)} {escape(rng)}: {overlay[i]}</title></rect>"
            )
        if categorical and i % every == 0:
            body.append(_text(x + slot / 2, height - mb + 14, _clip(b.label, 8)))
    if not categorical:
        edges = [b.lo for b in bins] + [bins[-1].hi]
        for j in range(0, len(edges), every):
            body.append(_text(x0 + j * slot, height - mb + 14, _clip(fmt(edges[j]), 8)))
    body.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{mt + ph}" y2="{mt + ph}" stroke="{_AXIS}"/>')
    return _svg(width, height, body, label or "histogram")


def scatter(
    points: Sequence[tuple[float, float]],
    *,
    color: str,
    x_label: str,
    y_label: str,
    width: int = 1000,
    height: int = 340,
    trend: bool = True,
) -> str:
    """Points with round axes and, when ``trend``, the least-squares line."""
    if not points:
        return _svg(width, height, [_text(width / 2, height / 2, "no points")], f"{y_label} vs {x_label}")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    xt, yt = nice_ticks(min(xs), max(xs), 6), nice_ticks(min(ys), max(ys), 5)
    # room on the right for the last x label, centred on the plot's right edge
    ml, mr, mt, mb = 54, max(14, math.ceil(len(fmt(xt[-1])) * 3.6) + 3), 12, 40
    pw, ph = width - ml - mr, height - mt - mb
    x0, x1, y0, y1 = xt[0], xt[-1], yt[0], yt[-1]

    def px(x: float) -> float:
        return ml + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return mt + ph - (y - y0) / (y1 - y0) * ph

    body = []
    for t in yt:
        body.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="{_GRID}"/>')
        body.append(_text(ml - 6, py(t) + 3.5, fmt(t), "end"))
    for t in xt:
        body.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{mt}" y2="{mt + ph}" stroke="{_GRID}"/>')
        body.append(_text(px(t), mt + ph + 15, fmt(t)))
    body.append(_text(ml + pw / 2, height - 6, x_label))
    body.append(_text(12, mt + ph / 2, y_label, extra=f' transform="rotate(-90 12 {mt + ph / 2:.1f})"'))
    for x, y in points:
        body.append(
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}" fill-opacity="0.5">'
            f"<title>{escape(x_label)} {fmt(x)}, {escape(y_label)} {fmt(y)}</title></circle>"
        )
    n = len(points)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if trend and n >= 2 and sxx > 0:
        slope = sum((x - mx) * (y - my) for x, y in points) / sxx
        ya, yb = my + slope * (x0 - mx), my + slope * (x1 - mx)
        # a nested <svg> clips the line to the plot area without needing a document-wide id
        body.append(
            f'<svg x="{ml}" y="{mt}" width="{pw}" height="{ph}" overflow="hidden">'
            f'<line x1="0" y1="{py(ya) - mt:.1f}" x2="{pw}" y2="{py(yb) - mt:.1f}" stroke="#0f172a" '
            f'stroke-width="1.5" stroke-dasharray="5 4"><title>least-squares line</title></line></svg>'
        )
    body.append(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="{_AXIS}"/>')
    return _svg(width, height, body, f"{y_label} vs {x_label}", max_width=width * 1.1)


def diverging_color(r: float | None) -> str:
    """Blue for -1, near-white for 0, red for +1; grey for undefined.

    Example:
        >>> diverging_color(0.0), diverging_color(None)
        ('#f8fafc', '#e2e8f0')
    """
    if r is None:
        return "#e2e8f0"
    t = max(-1.0, min(1.0, r))
    base, end = (248, 250, 252), ((220, 38, 38) if t > 0 else (37, 99, 235))
    c = [round(b + (e - b) * abs(t)) for b, e in zip(base, end, strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*c)


def heatmap(
    labels: Sequence[str],
    cells: Sequence[Sequence[tuple[float | None, int]]],
    *,
    cell: int = 78,
    title: str = "correlation between sources",
) -> str:
    """A correlation matrix: each cell coloured by ``r`` and showing ``r`` and the pair count ``n``."""
    ml, mt = 80, 26
    k = len(labels)
    width, height = ml + k * cell + 4, mt + k * cell + 4
    body = []
    for i, name in enumerate(labels):
        body.append(_text(ml + i * cell + cell / 2, mt - 9, _clip(name, 11), extra=' font-weight="600"'))
        body.append(_text(ml - 8, mt + i * cell + cell / 2 + 4, _clip(name, 11), "end", ' font-weight="600"'))
    for i, line in enumerate(cells):
        for j, (r, n) in enumerate(line):
            x, y = ml + j * cell, mt + i * cell
            ink = "#ffffff" if r is not None and abs(r) > 0.6 else "#0f172a"
            tip = f"{labels[i]} \u00d7 {labels[j]}: r = {fmt(r)} over {n} turns"
            body.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell - 2}" height="{cell - 2}" rx="4" '
                f'fill="{diverging_color(r)}"><title>{escape(tip)}</title></rect>'
            )
            val = "n/a" if r is None else f"{r:+.2f}"
            body.append(
                f'<text x="{x + cell / 2}" y="{y + cell / 2}" text-anchor="middle" fill="{ink}" font-size="14" '
                f'font-weight="600">{val}</text>'
            )
            body.append(
                f'<text x="{x + cell / 2}" y="{y + cell / 2 + 16}" text-anchor="middle" fill="{ink}" '
                f'font-size="10" opacity="0.8">n={n}</text>'
            )
    return _svg(width, height, body, title)
