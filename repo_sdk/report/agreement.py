"""Do the sources agree? Rank correlation, and the turns where two sources disagree most.

REPO's sources judge the same reply from different angles; where the RM ranks a reply
high and the judge (or the rules) rank it low is where a REPO user tunes first. Ranks,
not raw values, make sources on different scales comparable: a turn's disagreement is
the difference of its two percentile ranks (ties share their mean rank), in [-1, 1].

Example:
    >>> ranks([3.0, 1.0, 2.0, 2.0])
    [1.0, 0.0, 0.5, 0.5]
    >>> spearman([1, 2, 3, 4], [10, 20, 30, 40]), spearman([1, 2, 3], [3, 2, 1])
    (1.0, -1.0)
    >>> rows = [{"sources": {"rm": float(i), "judge": float(i)}} for i in range(5)]
    >>> rows.append({"sources": {"rm": 9.0, "judge": -1.0}})
    >>> [(ra, rb, rows.index(r)) for ra, rb, r in disagreements(rows, "rm", "judge", k=1)]
    [(1.0, 0.0, 5)]
"""

from __future__ import annotations

from collections.abc import Sequence

from repo_sdk.report.stats import pearson, value_of
from repo_sdk.rows import TurnRow

__all__ = ["disagreements", "paired", "ranks", "spearman"]


def ranks(values: Sequence[float]) -> list[float]:
    """Percentile ranks in [0, 1] (0 the lowest), ties sharing their mean rank; ``[0.5]`` for one value."""
    n = len(values)
    if n == 1:
        return [0.5]
    order = sorted(range(n), key=values.__getitem__)
    out = [0.0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 / (n - 1)
        i = j + 1
    return out


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation (Pearson r of the tie-averaged ranks); ``None`` when undefined."""
    if len(xs) != len(ys) or len(xs) < 2:
        return None
    return pearson(ranks(xs), ranks(ys))


def paired(turn_rows: Sequence[TurnRow], a: str, b: str) -> list[tuple[float, float, TurnRow]]:
    """``(value of a, value of b, row)`` for every turn where both are present."""
    out = []
    for r in turn_rows:
        x, y = value_of(r, a), value_of(r, b)
        if x is not None and y is not None:
            out.append((x, y, r))
    return out


def disagreements(turn_rows: Sequence[TurnRow], a: str, b: str, k: int = 5) -> list[tuple[float, float, TurnRow]]:
    """The ``k`` turns whose ranks by ``a`` and ``b`` differ most, as ``(rank by a, rank by b, row)``.

    Turns where the two agree (ranks under 0.25 apart) are never listed; a constant source
    ranks nothing and yields none.
    """
    pairs = paired(turn_rows, a, b)
    if len(pairs) < 2 or len({p[0] for p in pairs}) < 2 or len({p[1] for p in pairs}) < 2:
        return []
    ra, rb = ranks([p[0] for p in pairs]), ranks([p[1] for p in pairs])
    found = sorted(zip(ra, rb, (p[2] for p in pairs), strict=True), key=lambda g: -abs(g[0] - g[1]))
    return [g for g in found[: max(0, k)] if abs(g[0] - g[1]) >= 0.25]
