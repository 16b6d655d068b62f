"""What the REPO reward tells a trainer's logs beside the reward itself.

Per batch: the mean of every source, the fire rate of every rule, the mean of the
combiner's numeric details (``E``, ``multiplier``, ...) and the share of samples
left without a reward. Keys are stable from batch to batch (a rule that did not
fire reports 0), so averages over a logging window stay honest.

Example:
    >>> from repo_sdk.types import RewardResult, SourceScore
    >>> r = RewardResult(reward=0.5, sources={"rm": SourceScore(value=0.5)},
    ...                  fired=[], details={"E": 0.0})
    >>> batch_metrics("repo_reward", [r], rules=["cot_leak"])["rewards/repo_reward/fired/cot_leak"]
    0.0
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from repo_sdk.breakdown import breakdown, mean
from repo_sdk.types import RewardResult

__all__ = ["batch_metrics", "extra_columns", "telemetry_metrics"]


def batch_metrics(name: str, results: Sequence[RewardResult], *, rules: Iterable[str] = ()) -> dict[str, float]:
    """Scalar metrics of one scored batch, keyed ``rewards/<name>/...``: the means of the core's
    :func:`repo_sdk.breakdown.breakdown` over the batch.

    Args:
        name: the reward's metric name (the spec's ``name``).
        results: the pipeline's results for the batch.
        rules: rule names to report even when they did not fire.
    """
    if not results:
        return {}
    b = breakdown(results, rules=rules)
    out: dict[str, float] = {f"rewards/{name}/missing": sum(b.missing) / len(results)}
    for source, values in b.sources.items():
        if (m := mean(values)) is not None:
            out[f"rewards/{name}/{source}/mean"] = m
    for rule, flags in b.fired.items():
        out[f"rewards/{name}/fired/{rule}"] = sum(flags) / len(results)
    for key, values in b.combiner.items():
        if (m := mean(values)) is not None:
            out[f"rewards/{name}/combiner/{key}"] = m
    return out


def telemetry_metrics(name: str, telemetry: dict[str, dict[str, float]]) -> dict[str, float]:
    """The sources' telemetry (judge calls, cache hits, retries, latency; RM truncations, ...)
    keyed ``rewards/<name>/telemetry/<source>/<counter>``. Counters are totals since the
    reward function was built, so a growing ``retries`` or ``parse_failures`` shows in the logs.

    Example:
        >>> telemetry_metrics("r", {"judge": {"calls": 3, "latency_mean_s": 0.2}})["rewards/r/telemetry/judge/calls"]
        3.0
    """
    return {
        f"rewards/{name}/telemetry/{source}/{key}": float(value)
        for source, counters in telemetry.items()
        for key, value in counters.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }


def extra_columns(name: str, results: Sequence[RewardResult]) -> dict[str, list[Any]]:
    """Per-sample columns for the trainer's completions table: each source's value and the rules that fired."""
    if not results:
        return {}
    cols: dict[str, list[Any]] = {f"{name}/{s}": [r.sources[s].value for r in results] for s in results[0].sources}
    cols[f"{name}/fired"] = [",".join(sorted({h.rule for h in r.fired})) for r in results]
    return cols
