"""Numbers behind the report, computed from rows of the row contract (:mod:`repo_sdk.rows`).

Every function tolerates missing keys, ``None`` values (a source that did not run),
non-finite numbers (treated as missing), empty input and constant data: where a
statistic is undefined it returns ``None`` rather than dividing by zero.

Example:
    >>> rows = [{"reward": 1.0, "sources": {"rm": 2.0}}, {"reward": 3.0, "sources": {"rm": None}}]
    >>> values_of(rows, "reward"), values_of(rows, "rm")
    ([1.0, 3.0], [2.0])
    >>> pearson([1, 2, 3], [2, 4, 6]), pearson([1, 1, 1], [1, 2, 3]) is None
    (1.0, True)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from repo_sdk.rows import DialogueRow, TurnRow, rules_per_turn

__all__ = [
    "COMBINED",
    "DASH",
    "Bin",
    "correlation_matrix",
    "count_into",
    "fire_rates",
    "fmt",
    "histogram_bins",
    "mean",
    "nice_ticks",
    "num",
    "pearson",
    "reply_length",
    "source_names",
    "value_of",
    "values_of",
    "worst_turns",
]

COMBINED = "reward"
"""The pseudo-source name of the combined reward in charts and tables."""

_PREFERRED = ("rm", "judge", "rules")
DASH = "\u2013"
"""What a missing number prints as (an en dash)."""


class Bin(NamedTuple):
    """One histogram bar: ``[lo, hi)`` (the last bin closed), its count and axis label."""

    lo: float
    hi: float
    count: int  # type: ignore[assignment]  # the bar's height; a Bin is never asked tuple.count
    label: str


def num(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` (missing, bool, text, NaN, inf)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, ``None`` for no values."""
    return sum(values) / len(values) if values else None


def source_names(turn_rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Source names seen in the rows: rm, judge, rules first, then the rest alphabetically."""
    seen: set[str] = set()
    for r in turn_rows:
        sources = r.get("sources")
        if isinstance(sources, dict):
            seen.update(str(k) for k in sources)
    return [n for n in _PREFERRED if n in seen] + sorted(seen.difference(_PREFERRED))


def value_of(row: Mapping[str, Any], name: str) -> float | None:
    """A row's value of source ``name``, or of the combined reward for ``"reward"``."""
    if name == COMBINED:
        return num(row.get("reward"))
    sources = row.get("sources")
    return num(sources.get(name)) if isinstance(sources, dict) else None


def values_of(turn_rows: Iterable[Mapping[str, Any]], name: str) -> list[float]:
    """The non-missing values of ``name`` (a source, or ``"reward"``)."""
    return [v for r in turn_rows if (v := value_of(r, name)) is not None]


def reply_length(row: Mapping[str, Any]) -> int:
    """Length of the reply in characters (0 when absent)."""
    response = row.get("response")
    return len(response) if isinstance(response, str) else 0


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson correlation of paired values; ``None`` with fewer than 2 pairs or zero variance."""
    n = len(xs)
    if n != len(ys) or n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 0 or syy <= 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def fmt(value: float | None, digits: int = 3) -> str:
    """A compact number: ``None`` as an en dash, integers without decimals."""
    if value is None:
        return DASH
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{digits}g}"


def histogram_bins(values: Sequence[float], max_bins: int = 20) -> list[Bin]:
    """Histogram bars: one per distinct value when there are few (scores, points), else equal widths.

    Example:
        >>> [(b.label, b.count) for b in histogram_bins([1, 5, 5, 4])]
        [('1', 1), ('4', 1), ('5', 2)]
        >>> [b.label for b in histogram_bins([i / 10 for i in range(100)], max_bins=5)]
        ['0', '2', '4', '6', '8']
    """
    if not values:
        return []
    distinct = Counter(values)
    if len(distinct) <= 12:
        return [Bin(v, v, c, fmt(v)) for v, c in sorted(distinct.items())]
    # bin edges on round numbers, so the axis reads 0, 0.5, 1 rather than 0.00514, 0.506
    edges = nice_ticks(min(values), max(values), max(5, min(max_bins, math.ceil(math.sqrt(len(values))) + 1)))
    step, k = edges[1] - edges[0], len(edges) - 1
    counts = [0] * k
    for v in values:
        counts[max(0, min(k - 1, int((v - edges[0]) / step)))] += 1
    return [Bin(edges[i], edges[i + 1], c, fmt(edges[i])) for i, c in enumerate(counts)]


def count_into(bins: Sequence[Bin], values: Sequence[float]) -> list[int]:
    """How many of ``values`` fall in each of ``bins`` (made from another run, or from both runs).

    Past the ends of equal-width bins a value counts in the end bin; among one-bar-per-value
    bins, a value without a bar of its own is not counted (make the bins from both runs).

    Example:
        >>> count_into(histogram_bins([1, 2, 2]), [2, 2, 3, 1])
        [1, 2]
        >>> count_into(histogram_bins([i / 10 for i in range(100)], max_bins=5), [0.1, 9.9, 50.0])
        [1, 0, 0, 0, 2]
    """
    counts = [0] * len(bins)
    if not bins:
        return counts
    if bins[0].lo == bins[0].hi:  # one bar per value: a value with no bar of its own is not counted
        where = {b.lo: i for i, b in enumerate(bins)}
        for v in values:
            if v in where:
                counts[where[v]] += 1
        return counts
    lo, step = bins[0].lo, bins[0].hi - bins[0].lo
    for v in values:
        counts[max(0, min(len(bins) - 1, int((v - lo) / step)))] += 1
    return counts


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]`` (about ``n`` of them); a flat range is widened.

    Example:
        >>> nice_ticks(0, 9)
        [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    """
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = [round(start, 10) + 0.0]
    while ticks[-1] < hi - step * 1e-9:
        ticks.append(round(start + len(ticks) * step, 10) + 0.0)
    return ticks


def fire_rates(turn_rows: Sequence[TurnRow], dialogue_rows: Sequence[DialogueRow] = ()) -> list[tuple[str, int, float]]:
    """``(rule, turns it fired on, share of turns)`` for each rule that fired, most frequent first.

    Example:
        >>> fire_rates([{"fired": [{"rule": "a"}, {"rule": "a"}]}, {"fired": []}])
        [('a', 1, 0.5)]
    """
    counts: Counter[str] = Counter()
    for rules in rules_per_turn(turn_rows, dialogue_rows)[0]:
        counts.update(rules)
    n = len(turn_rows)
    return [(rule, c, c / n) for rule, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def correlation_matrix(turn_rows: Sequence[TurnRow], names: Sequence[str]) -> list[list[tuple[float | None, int]]]:
    """Pearson ``(r, n)`` for each pair of names, over the turns where both values are present."""
    cols = [[value_of(r, name) for r in turn_rows] for name in names]
    out: list[list[tuple[float | None, int]]] = []
    for a in cols:
        line = []
        for b in cols:
            pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
            line.append((pearson([p[0] for p in pairs], [p[1] for p in pairs]), len(pairs)))
        out.append(line)
    return out


def worst_turns(turn_rows: Sequence[TurnRow], k: int = 20) -> list[TurnRow]:
    """The ``k`` lowest-reward turns; turns without a reward come after every scored one."""

    def key(r: TurnRow) -> tuple[bool, float]:
        v = num(r.get("reward"))
        return (v is None, v if v is not None else 0.0)

    return sorted(turn_rows, key=key)[: max(0, k)]
