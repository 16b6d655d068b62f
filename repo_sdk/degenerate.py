"""Degenerate reward sources: constant on most scored turns, or missing on half of them.

A source that gives every reply the same value (a tiny judge rating everything
1) or none at all carries no signal, and whatever is built on it (REPO's
reward, an evaluation's fix rate) silently measures something else. One
function decides it for the score summary, the HTML report and ``eval``:

- **constant**: one value on at least 90% of the turns where the source scored
  (at least :data:`MIN_SCORED` of them);
- **missing**: ``None`` on at least 50% of the turns.

Values are tallied in bounded memory (Misra-Gries, 64 counters): exact while a
source has at most 64 distinct values (every judge on a small scale), and never
over-counted beyond that, so a flagged source is constant for sure.

Example:
    >>> tally = SourceTally()
    >>> for v in [1.0] * 19 + [2.0]:
    ...     tally.add("judge", v)
    >>> for v in [0.1 * i for i in range(20)]:
    ...     tally.add("rm", v)
    >>> [d.message() for d in tally.degenerate()]
    ["source 'judge' is constant: 1 on 19 of 20 scored turns (95%)"]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Literal

__all__ = ["CONSTANT_SHARE", "MIN_SCORED", "NONE_SHARE", "Degenerate", "SourceTally", "degenerate_sources"]

CONSTANT_SHARE = 0.9
NONE_SHARE = 0.5
MIN_SCORED = 5  # fewer scored turns say nothing about constancy
_SLOTS = 64


@dataclass(frozen=True)
class Degenerate:
    """One degenerate source: how (``constant`` or ``missing``), the share, and the constant value."""

    source: str
    kind: Literal["constant", "missing"]
    count: int
    of: int
    value: float | None = None

    @property
    def share(self) -> float:
        return self.count / self.of if self.of else 0.0

    def message(self) -> str:
        """One line naming the source, e.g. ``source 'judge' is constant: 1 on 98 of 102 scored turns (96%)``."""
        if self.kind == "constant":
            return (f"source {self.source!r} is constant: {self.value:g} on {self.count} of {self.of} scored turns "
                    f"({self.share:.0%})")  # fmt: skip
        return f"source {self.source!r} is None on {self.count} of {self.of} turns ({self.share:.0%})"


@dataclass
class _Tally:
    turns: int = 0
    none: int = 0
    scored: int = 0
    counters: Counter[float] = field(default_factory=Counter)

    def add(self, value: float | None) -> None:
        self.turns += 1
        if value is None:
            self.none += 1
            return
        self.scored += 1
        key = round(float(value), 9)
        if key in self.counters or len(self.counters) < _SLOTS:
            self.counters[key] += 1
            return
        for k in list(self.counters):  # Misra-Gries: a new value when every counter is taken
            self.counters[k] -= 1
            if self.counters[k] == 0:
                del self.counters[k]

    def add_values(self, values: list[float], none: int) -> None:
        """Count turns' values (in order) and ``none`` turns without one: the same as :meth:`add` of each."""
        self.turns += none
        self.none += none
        keys = list(map(round, map(float, values), repeat(9)))
        fresh = Counter(keys)
        if len(self.counters.keys() | fresh.keys()) > _SLOTS:  # a counter runs out: one value at a time
            for value in values:
                self.add(value)
            return
        self.turns += len(keys)
        self.scored += len(keys)
        self.counters.update(fresh)


class SourceTally:
    """Per-source counts of values and Nones, fed one turn at a time (see the module docs)."""

    def __init__(self) -> None:
        self._by_source: dict[str, _Tally] = {}

    def add(self, source: str, value: float | None) -> None:
        """Count one turn's value (None: the source did not score it)."""
        self._of(source).add(value)

    def add_values(self, source: str, values: list[float], none: int = 0) -> None:
        """Count turns' values of one source (in order; None left out) and ``none`` turns without one."""
        self._of(source).add_values(values, none)

    def _of(self, source: str) -> _Tally:
        tally = self._by_source.get(source)
        if tally is None:
            tally = self._by_source[source] = _Tally()
        return tally

    def add_row(self, sources: Mapping[str, float | None]) -> None:
        """Count one turn row's ``sources`` mapping."""
        for name, value in sources.items():
            self.add(name, value)

    def degenerate(self) -> list[Degenerate]:
        """The degenerate sources, in the order they were first seen."""
        out = []
        for name, t in self._by_source.items():
            if t.turns and t.none / t.turns >= NONE_SHARE:
                out.append(Degenerate(name, "missing", t.none, t.turns))
            elif t.scored >= MIN_SCORED and t.counters:
                value, count = t.counters.most_common(1)[0]
                if count / t.scored >= CONSTANT_SHARE:
                    out.append(Degenerate(name, "constant", count, t.scored, value))
        return out


def degenerate_sources(rows: Iterable[Mapping[str, Any]]) -> list[Degenerate]:
    """The degenerate sources of turn rows (each with a ``sources`` mapping of name -> value or None).

    Example:
        >>> rows = [{"sources": {"judge": 1.0, "rules": -10.0 * i}} for i in range(10)]
        >>> [(d.source, d.kind) for d in degenerate_sources(rows)]
        [('judge', 'constant')]
    """
    tally = SourceTally()
    for row in rows:
        tally.add_row(row.get("sources") or {})
    return tally.degenerate()
