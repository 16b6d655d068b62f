"""What the REPO reward tells a trainer's logs beside the reward itself.

Per batch, with ``log="summary"`` (the default): each source's mean, the fire rate of
every rule, REPO's ``E`` and ``multiplier`` and the share of samples left without a
reward; with ``log="full"`` also every other numeric detail of the combiner
(``E_judge``, ``E_rules``, ...) and the sources' telemetry (judge calls, retries, cache
hits, latency; RM truncations) as what happened since the previous reward call, never
running totals. Keys are stable from batch to batch (a rule that did not fire reports
0), so averages over a logging window stay honest.

Example:
    >>> from repo_sdk.types import RewardResult, SourceScore
    >>> r = RewardResult(reward=0.5, sources={"rm": SourceScore(value=0.5)},
    ...                  fired=[], details={"E": 0.0, "E_judge": 0.0})
    >>> sorted(batch_metrics("repo_reward", [r], rules=["cot_leak"]))  # doctest: +NORMALIZE_WHITESPACE
    ['rewards/repo_reward/combiner/E', 'rewards/repo_reward/fired/cot_leak', 'rewards/repo_reward/missing',
     'rewards/repo_reward/rm/mean']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from repo_sdk.breakdown import breakdown, mean
from repo_sdk.types import RewardResult

__all__ = ["LogLevel", "SUMMARY_DETAILS", "TelemetryDeltas", "batch_metrics", "extra_columns", "telemetry_metrics"]

LogLevel = Literal["summary", "full"]
#: the combiner details a summary log keeps (REPO's enhancement and multiplier)
SUMMARY_DETAILS = frozenset({"E", "multiplier"})
# telemetry values that are already rates, means or percentiles: reported as they are
_GAUGE_MARKS = ("rate", "mean", "p95", "fraction")


def check_log(log: str) -> LogLevel:
    """``log`` if it is ``summary`` or ``full``; ValueError naming it otherwise."""
    if log not in ("summary", "full"):
        raise ValueError(f"log must be summary or full, got {log!r}")
    return log  # type: ignore[return-value]


def batch_metrics(
    name: str,
    results: Sequence[RewardResult],
    *,
    rules: Iterable[str] = (),
    log: LogLevel = "summary",
    summary_details: Iterable[str] = SUMMARY_DETAILS,
) -> dict[str, float]:
    """Scalar metrics of one scored batch, keyed ``rewards/<name>/...``.

    Args:
        name: the reward's metric name (the spec's ``name``).
        results: the pipeline's results for the batch.
        rules: rule names to report even when they did not fire.
        log: ``summary`` keeps the combiner details named in ``summary_details``; ``full`` every numeric one.
        summary_details: the combiner's ``summary_details`` (REPO: ``E`` and ``multiplier``).
    """
    keep = set(summary_details)
    if not results:
        return {}
    b = breakdown(results, rules=rules)  # the core's breakdown, as batch means
    out: dict[str, float] = {f"rewards/{name}/missing": sum(b.missing) / len(results)}
    for source, values in b.sources.items():
        if (m := mean(values)) is not None:
            out[f"rewards/{name}/{source}/mean"] = m
    for rule, flags in b.fired.items():
        out[f"rewards/{name}/fired/{rule}"] = sum(flags) / len(results)
    for key, values in b.combiner.items():
        if (log == "full" or key in keep) and (m := mean(values)) is not None:
            out[f"rewards/{name}/combiner/{key}"] = m
    return out


def telemetry_metrics(name: str, telemetry: dict[str, dict[str, float]]) -> dict[str, float]:
    """Telemetry values keyed ``rewards/<name>/telemetry/<source>/<counter>``, as given.

    Feed it :meth:`TelemetryDeltas.step`'s output so counters read per reward call.

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


class TelemetryDeltas:
    """Turns the sources' running telemetry totals into what happened since the last call.

    Counters (calls, retries, cache hits, truncations, ...) become their increase since the
    previous :meth:`step`; values that are rates, means or percentiles already
    (``cache_hit_rate``, ``latency_mean_s``, ``pad_fraction``, ...) are passed as they are.

    Example:
        >>> d = TelemetryDeltas()
        >>> d.step({"judge": {"calls": 3, "latency_mean_s": 0.2}})
        {'judge': {'calls': 3.0, 'latency_mean_s': 0.2}}
        >>> d.step({"judge": {"calls": 5, "latency_mean_s": 0.3}})
        {'judge': {'calls': 2.0, 'latency_mean_s': 0.3}}
    """

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], float] = {}

    def step(self, telemetry: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for source, counters in telemetry.items():
            for key, value in counters.items():
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    continue
                value = float(value)
                if any(mark in key for mark in _GAUGE_MARKS):
                    out.setdefault(source, {})[key] = value
                    continue
                before = self._last.get((source, key), 0.0)
                self._last[(source, key)] = value
                # a total that went down was reset (the sources were rebuilt): count from zero
                out.setdefault(source, {})[key] = value - before if value >= before else value
        return out


def extra_columns(name: str, results: Sequence[RewardResult]) -> dict[str, list[Any]]:
    """Per-sample columns for the trainer's completions table: each source's value and the rules that fired."""
    if not results:
        return {}
    cols: dict[str, list[Any]] = {f"{name}/{s}": [r.sources[s].value for r in results] for s in results[0].sources}
    cols[f"{name}/fired"] = [",".join(sorted({h.rule for h in r.fired})) for r in results]
    return cols
