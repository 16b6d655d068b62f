"""What a scored batch shows beside its rewards, per sample: the one breakdown trainer logs re-key.

Every trainer adapter logs the same signals under its own keys and aggregation (TRL
means per batch, OpenRLHF one number per sample): each source's value, which rules
fired, the combiner's numeric details, the per-sample counters a source keeps, and
which samples have no reward or hit a source error. :func:`breakdown` computes them
once, as lists aligned with the results, so the adapters agree on what each means.

Numbers are finite floats or None (not scored, not applicable, NaN); flags are 1.0 or 0.0.

Example:
    >>> from repo_sdk.types import RewardResult, RuleHit, SourceScore
    >>> hit = RuleHit(rule="cot_leak", points=-10, reason="thinking aloud")
    >>> results = [
    ...     RewardResult(reward=0.9, sources={"rm": SourceScore(value=1.0)}, fired=[hit], details={"E": -10.0}),
    ...     RewardResult(reward=None, sources={"rm": SourceScore(value=None)}, details={"E": 0.0}),
    ... ]
    >>> b = breakdown(results, rules=["cot_leak", "max_length"])
    >>> b.sources, b.fired, b.combiner, b.missing
    ({'rm': [1.0, None]}, {'cot_leak': [1.0, 0.0], 'max_length': [0.0, 0.0]}, {'E': [-10.0, 0.0]}, [0.0, 1.0])
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from repo_sdk.types import RewardResult

__all__ = ["Breakdown", "breakdown", "finite", "mean"]


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number (bools are not numbers here), else None.

    Example:
        >>> finite(3), finite(float("nan")), finite(True), finite("1")
        (3.0, None, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values that are not None (None when there are none).

    Example:
        >>> mean([1.0, None, 2.0]), mean([None])
        (1.5, None)
    """
    nums = [v for v in values if v is not None]
    return sum(nums) / len(nums) if nums else None


@dataclass
class Breakdown:
    """Per-sample signals of a scored batch; every list is aligned with the results.

    Attributes:
        sources: source name -> its value per sample (None: not scored).
        fired: rule name -> 1.0 where the rule fired on the sample.
        combiner: detail key -> the combiner's number per sample (``E``, ``multiplier``, ...);
            only keys that are a number for at least one sample.
        telemetry: source -> counter -> what scoring each sample took (0.0 where a score lacks it).
        missing: 1.0 where the sample has no reward (None or not finite).
        error: 1.0 where a source raised on the sample (``RewardResult.source_errors``).
    """

    sources: dict[str, list[float | None]] = field(default_factory=dict)
    fired: dict[str, list[float]] = field(default_factory=dict)
    combiner: dict[str, list[float | None]] = field(default_factory=dict)
    telemetry: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    missing: list[float] = field(default_factory=list)
    error: list[float] = field(default_factory=list)


def breakdown(
    results: Sequence[RewardResult],
    *,
    sources: Iterable[str] | None = None,
    rules: Iterable[str] = (),
    fired_elsewhere: bool = True,
    telemetry: Mapping[str, Sequence[str]] | None = None,
) -> Breakdown:
    """The breakdown of one scored batch (see the module docs).

    Args:
        results: the pipeline's results, one per sample.
        sources: the sources to report, in order (default: those of the first result).
        rules: rules reported even where none fired (``RewardPipeline.rule_names("turn")``), so keys
            stay the same from batch to batch.
        fired_elsewhere: report the rules that fired but are not in ``rules`` too (sorted with
            them); False keeps the key set fixed whatever fired.
        telemetry: source -> the counters it keeps per sample (its ``item_telemetry_keys``).
    """
    if not results:
        return Breakdown()
    names = list(sources) if sources is not None else list(results[0].sources)
    fired_sets = [{h.rule for h in r.fired} for r in results]
    reported = {*rules, *(set().union(*fired_sets) if fired_elsewhere else ())}
    combiner: dict[str, list[float | None]] = {}
    for key in sorted({k for r in results for k in r.details}):
        values = [finite(r.details.get(key)) for r in results]
        if any(v is not None for v in values):
            combiner[key] = values
    return Breakdown(
        sources={
            name: [finite(s.value) if (s := r.sources.get(name)) is not None else None for r in results]
            for name in names
        },
        fired={rule: [float(rule in f) for f in fired_sets] for rule in sorted(reported)},
        combiner=combiner,
        telemetry={
            source: {key: [finite(_counters(r, source).get(key)) or 0.0 for r in results] for key in keys}
            for source, keys in (telemetry or {}).items()
        },
        missing=[float(finite(r.reward) is None) for r in results],
        error=[float(bool(r.source_errors())) for r in results],
    )


def _counters(result: RewardResult, source: str) -> Mapping[str, Any]:
    score = result.sources.get(source)
    return (score.details.get("telemetry") if score is not None else None) or {}
