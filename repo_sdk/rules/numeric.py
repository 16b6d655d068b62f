"""Numeric consistency: prices in the reply must agree with the task information."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import Field, model_validator

from repo_sdk.interfaces import Rule
from repo_sdk.rules.base import RuleParams, cap_hits, task_value
from repo_sdk.rules.context import DialogueContext, DialogueTracker, TurnContext
from repo_sdk.rules.text import NumberMention, currencies_of, extract_numbers, normalize_currency
from repo_sdk.rules.views import TextView
from repo_sdk.types import Role, RuleHit, Turn

__all__ = [
    "HeardNumbers",
    "NumericConsistency",
    "NumericConsistencyParams",
    "close_to_any",
    "task_numbers",
    "task_value",
]


def task_numbers(value: Any) -> list[float]:
    """Every number in a task value: a number, a numeric string (``"80 EUR"``), or lists and mappings of them.

    Example:
        >>> task_numbers([80, "1,200 EUR", {"low": 70.5}, True, None])
        [80.0, 1200.0, 70.5]
    """
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [float(value)] if math.isfinite(value) else []
    if isinstance(value, str):
        return [m.value for m in extract_numbers(value) if m.is_price_like]
    if isinstance(value, Mapping):
        return [n for v in value.values() for n in task_numbers(v)]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in task_numbers(v)]
    return []


class NumericConsistencyParams(RuleParams):
    fields: list[str] = Field(
        default_factory=lambda: ["current_price", "target_price"],
        description="task fields (dotted paths, '*' for every item of a list) a price in the reply may match; "
        "lists and mappings count every number",
    )
    tolerance: float = Field(0.01, ge=0, description="absolute difference still counted as a match")
    rel_tolerance: float = Field(0.0, ge=0, description="relative difference (of the field value) counted as a match")
    min_value: float | None = Field(None, description="prices at or above this are acceptable without matching a field")
    max_value: float | None = Field(None, description="prices at or below this are acceptable without matching a field")
    min_field: str | None = Field(
        None,
        description="task field giving min_value per sample (e.g. target_price, tickets.*.target_price: "
        "the lowest of them)",
    )
    max_field: str | None = Field(
        None,
        description="task field giving max_value per sample (e.g. current_price, tickets.*.current_price: "
        "the highest of them)",
    )
    only_currency: bool = Field(
        False, description="check only numbers written with a currency (€80, 80 EUR, 500元); plain numbers pass"
    )
    plain_min: float = Field(
        10.0, ge=0, description="plain numbers (no currency) below this are counts, not prices; 0 checks them all"
    )
    history_roles: list[Role] = Field(
        default_factory=list,
        description="numbers said in earlier turns of these roles are acceptable too "
        "(e.g. [user]: the counterpart's quotes; [tool]: the prices a tool returned)",
    )
    currency_field: str | None = Field(
        "currency", description="task field with the expected currency; a price in another currency is a hit"
    )

    @model_validator(mode="after")
    def _bounds(self) -> NumericConsistencyParams:
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            raise ValueError(f"min_value ({self.min_value}) must not exceed max_value ({self.max_value})")
        return self


class NumericConsistency(Rule[NumericConsistencyParams]):
    """A price in the reply that matches no task field and lies outside the configured bounds.

    Numbers come from :func:`repo_sdk.rules.text.extract_numbers`. Only price-like
    mentions are checked: ``money`` (with a currency) and plain ``number`` mentions
    of at least ``plain_min``; dates, times, percentages, counts (``2 nights``),
    ordinals and identifiers (``room 502``) never are, and with ``only_currency`` plain
    numbers are not either. A mention is fine when it equals a value of ``fields``
    (within ``tolerance`` / ``rel_tolerance``), lies within ``[min, max]`` (from
    ``min_value`` / ``min_field`` and ``max_value`` / ``max_field``; a missing side is
    open), or was said in a ``history_roles`` turn. Each end of a range is checked on
    its own. A price in a currency other than the task's ``currency_field`` is a hit
    too. When the task gives no values and no bound is set, nothing is checked.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> s = make_sample(response="We can do €95 per night, or 80.00 EUR for 2 nights.",
        ...                 task={"current_price": 100, "target_price": 80})
        >>> [h.evidence for h in NumericConsistency().check(s)]
        ['€95']
        >>> p = NumericConsistencyParams(min_field="target_price", max_field="current_price")
        >>> NumericConsistency(p).check(s)
        []
    """

    name: ClassVar[str] = "numeric_consistency"
    description: ClassVar[str] = "price in the reply matches no task field and lies outside the bounds"
    default_points: ClassVar[float] = -10.0

    def _candidates(self, numbers: list[NumberMention]) -> list[NumberMention]:
        p = self.config
        out = []
        for m in numbers:
            if m.kind == "money" or (m.kind == "number" and not p.only_currency and m.value >= p.plain_min):
                out.append(m)
        return out

    def _task_facts(self, task: Mapping[str, Any]) -> tuple[list[float], float | None, float | None, str | None]:
        p = self.config
        refs = sorted(n for f in p.fields for n in task_numbers(task_value(task, f)))
        lo = _bound(p.min_value, p.min_field, task, max)
        hi = _bound(p.max_value, p.max_field, task, min)
        want = normalize_currency(str(task_value(task, p.currency_field) or "")) if p.currency_field else None
        return refs, lo, hi, want

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        p = self.config
        if not turn.reply.has_digit:
            return []
        task = turn.task
        # what the task says is the same for every reply of a dialogue: read it once per dialogue
        refs, lo, hi, want = turn.dialogue.memo((id(self), "task"), lambda: self._task_facts(task))
        heard = turn.dialogue.tracker(HeardNumbers).ordered(p.history_roles) if p.history_roles else []
        has_bounds = lo is not None or hi is not None
        if not refs and not has_bounds and not any(heard):
            return []
        hits: list[RuleHit] = []
        for m in self._candidates(turn.reply.numbers):
            codes = currencies_of(m)
            if want is not None and codes and want not in codes:
                hits.append(
                    self.hit(
                        f"price {m.text!r} is in {m.currency}, the task is in {want}", span=m.span, evidence=m.text
                    )
                )
                continue
            if close_to_any(m.value, refs, p.tolerance, p.rel_tolerance) or any(
                close_to_any(m.value, values, p.tolerance, p.rel_tolerance) for values in heard
            ):
                continue
            above = lo is None or m.value >= lo - p.tolerance
            below = hi is None or m.value <= hi + p.tolerance
            if has_bounds and above and below:
                continue
            hits.append(self.hit(_reason(m, p.fields, task, lo, hi), span=m.span, evidence=m.text))
        return cap_hits(hits, self.config)


class HeardNumbers(DialogueTracker):
    """The price-like numbers said so far, per role; a turn's numbers are extracted once, when first asked for."""

    def __init__(self, dialogue: DialogueContext) -> None:
        super().__init__(dialogue)
        self._heard: dict[str, set[float]] = {}
        self._pending: dict[str, list[TextView]] = {}
        self._ordered: dict[str, list[float]] = {}

    def feed(self, index: int, turn: Turn, view: TextView) -> None:
        self._pending.setdefault(turn.role, []).append(view)

    def values(self, roles: Sequence[str]) -> list[set[float]]:
        """The sets of values said by each role of ``roles``."""
        out = []
        for role in roles:
            heard = self._heard.setdefault(role, set())
            pending = self._pending.pop(role, ())
            for view in pending:
                heard.update(m.value for m in view.numbers if m.is_price_like)
            if pending:
                self._ordered.pop(role, None)
            out.append(heard)
        return out

    def ordered(self, roles: Sequence[str]) -> list[list[float]]:
        """:meth:`values` as sorted lists (sorted again only after a role said something new)."""
        out = []
        for role, heard in zip(roles, self.values(roles), strict=True):
            found = self._ordered.get(role)
            if found is None:
                found = self._ordered[role] = sorted(heard)
            out.append(found)
        return out


def _bound(fixed: float | None, field: str | None, task: Mapping[str, Any], pick: Any) -> float | None:
    """The tighter (``pick``) of the fixed bound and the field's; a field with several numbers
    (``tickets.*.target_price``) gives its loosest one, so the range spans them all."""
    values = [] if fixed is None else [fixed]
    numbers = task_numbers(task_value(task, field)) if field is not None else []
    if numbers:
        values.append(min(numbers) if pick is max else max(numbers))
    return pick(values) if values else None


def _close(value: float, ref: float, tol: float, rel: float) -> bool:
    return abs(value - ref) <= max(tol, rel * abs(ref))


def close_to_any(value: float, ordered: list[float], tol: float, rel: float = 0.0) -> bool:
    """Whether a value of ``ordered`` (sorted) lies within ``max(tol, rel * abs(it))`` of ``value``: by
    bisection when the tolerance is absolute (the values in a window a little wider than it are tested),
    else one by one. For a reply holding thousands of prices, each checked against the known ones.

    Example:
        >>> close_to_any(95.004, [80.0, 95.0, 120.0], 0.01), close_to_any(96.0, [80.0, 95.0], 0.01)
        (True, False)
        >>> close_to_any(99.0, [100.0], 0.0, rel=0.02)
        True
    """
    if rel:
        return any(_close(value, r, tol, rel) for r in ordered)
    slack = tol + 1e-9 * (abs(value) + tol + 1.0)  # far wider than any rounding of value - r
    i, n = bisect_left(ordered, value - slack), len(ordered)
    while i < n and ordered[i] <= value + slack:
        if abs(value - ordered[i]) <= tol:
            return True
        i += 1
    return False


def _fmt(x: float) -> str:
    return f"{x:g}"


def _reason(m: NumberMention, fields: list[str], task: Mapping[str, Any], lo: float | None, hi: float | None) -> str:
    known = ", ".join(f"{f}={task_value(task, f)!r}" for f in fields if task_value(task, f) is not None)
    parts = [f"price {m.text!r} matches no task field" + (f" ({known})" if known else "")]
    if lo is not None or hi is not None:
        low = _fmt(lo) if lo is not None else "-inf"
        high = _fmt(hi) if hi is not None else "inf"
        parts.append(f"lies outside [{low}, {high}]")
    return " and ".join(parts)
