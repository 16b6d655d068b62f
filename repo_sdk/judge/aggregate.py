"""From judge answers to one SourceScore per item: n samples, position swap, None with a reason.

Pointwise: the value is the mean (or median) of the scores that parsed; when none
did, the value is None and the reason says why.

Pairwise: the candidate's outcome per sample is 1 (it wins), 0 (it loses) or 0.5
(tie). With ``swap`` each sample is asked in both orders; orders that agree give
that outcome, orders that disagree give a tie (the judge was swayed by position).
The value is the mean (or median) outcome, in [0, 1].

Example:
    >>> from repo_sdk.judge.verdict import PointwiseVerdict as V
    >>> answers = [Answer(V(score=4)), Answer(V(score=2)), Answer(None, "timed out", "timeouts")]
    >>> pointwise_score(answers, "mean").value
    3.0
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from repo_sdk.judge.verdict import PairwiseVerdict, PointwiseVerdict
from repo_sdk.types import SourceScore

__all__ = ["ORDERS", "Answer", "pairwise_score", "pointwise_score"]

ORDERS = ("candidate_first", "reference_first")
_RAW_LIMIT = 300


@dataclass
class Answer:
    """One judge request's end: a verdict, or the error that ended it."""

    verdict: PointwiseVerdict | PairwiseVerdict | None
    error: str | None = None
    kind: str | None = None
    raw: str = ""


def _agg(values: list[float], how: str) -> float:
    return float(statistics.median(values) if how == "median" else statistics.fmean(values))


def _excerpt(text: str) -> str:
    return text if len(text) <= _RAW_LIMIT else text[:_RAW_LIMIT] + "..."


def failed(reason: str, kind: str, **details: Any) -> SourceScore:
    """A None score with its reason (``details["error_kind"]`` classifies it)."""
    return SourceScore(value=None, reason=reason, details={"error_kind": kind, **details})


def pointwise_score(answers: Sequence[Answer], aggregate: str, **details: Any) -> SourceScore:
    """Aggregate the pointwise answers of one item (see the module docs)."""
    good = [a for a in answers if isinstance(a.verdict, PointwiseVerdict)]
    if not good or len(answers) > 1:
        samples = [
            {"score": a.verdict.score, "method": a.verdict.method} if isinstance(a.verdict, PointwiseVerdict)
            else {"error": a.error, "error_kind": a.kind}
            for a in answers
        ]  # fmt: skip
    if not good:
        first = answers[0]
        return failed(first.error or "no verdict", first.kind or "error", samples=samples, raw=_excerpt(first.raw),
                      **details)  # fmt: skip
    verdicts = [a.verdict for a in good if isinstance(a.verdict, PointwiseVerdict)]  # every one: the type says it
    best = verdicts[0]
    value = best.score if len(verdicts) == 1 else _agg([v.score for v in verdicts], aggregate)
    info = {
        "score": value,
        "deductions": [d.model_dump() for d in best.deductions],
        "parse": best.method,
        "raw": _excerpt(good[0].raw),
        **details,
    }
    if len(answers) > 1:
        info |= {"samples": samples, "aggregate": aggregate, "valid_samples": len(good)}
    # every field is already of its type: skip re-validating (this runs per cached item, hot)
    return SourceScore.model_construct(value=value, reason=best.reason, details=info)


def _outcome(winner: str, order: str) -> float:
    """The candidate's outcome: 1 win, 0 loss, 0.5 tie."""
    if winner == "tie":
        return 0.5
    candidate = "A" if order == "candidate_first" else "B"
    return 1.0 if winner == candidate else 0.0


def pairwise_score(answers: Sequence[tuple[int, str, Answer]], aggregate: str, **details: Any) -> SourceScore:
    """Aggregate the pairwise answers ``(sample index, order, answer)`` of one item."""
    by_sample: dict[int, dict[str, Answer]] = {}
    for k, order, answer in answers:
        by_sample.setdefault(k, {})[order] = answer
    outcomes: list[float] = []
    samples: list[dict[str, Any]] = []
    errors: list[Answer] = []
    for k in sorted(by_sample):
        per_order = by_sample[k]
        winners = {o: a.verdict.winner for o, a in per_order.items() if isinstance(a.verdict, PairwiseVerdict)}
        if len(winners) < len(per_order):
            bad = [a for a in per_order.values() if not isinstance(a.verdict, PairwiseVerdict)]
            errors.extend(bad)
            samples.append({"error": bad[0].error, "error_kind": bad[0].kind})
            continue
        seen = {order: _outcome(winner, order) for order, winner in winners.items()}
        consistent = len(set(seen.values())) == 1
        outcome = next(iter(seen.values())) if consistent else 0.5
        outcomes.append(outcome)
        samples.append({"winners": winners, "outcome": outcome, "consistent": consistent})
    if not outcomes:
        first = errors[0]
        return failed(first.error or "no verdict", first.kind or "error", samples=samples, raw=_excerpt(first.raw),
                      **details)  # fmt: skip
    value = _agg(outcomes, aggregate)
    first_good = next(a for a in (x for _, _, x in answers) if isinstance(a.verdict, PairwiseVerdict))
    reason = first_good.verdict.reason if first_good.verdict else ""
    if not all(s.get("consistent", True) for s in samples):
        reason = f"orders disagree (position bias), counted as a tie; {reason}"
    info = {"outcome": value, "samples": samples, "aggregate": aggregate, "raw": _excerpt(first_good.raw), **details}
    return SourceScore(value=value, reason=reason, details=info)
