"""Counters of a judge source: calls, cache hits, retries, parse failures, latency.

Example:
    >>> t = Telemetry()
    >>> t.record_latency(0.2); t.record_latency(0.4); t.calls += 2
    >>> t.summary()["latency_mean_s"]
    0.3
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

__all__ = ["CallStats", "Telemetry"]


@dataclass
class CallStats:
    """What it took to judge one item (one sample, all its judge requests)."""

    calls: int = 0
    retries: int = 0
    reasks: int = 0
    cache_hits: int = 0
    requests: int = 0
    parse_failures: int = 0
    truncated: int = 0  # text answers cut off by max_tokens (source-level counter only)
    latency_s: float = 0.0

    def add(self, other: CallStats) -> None:
        """Add ``other``'s counts to these."""
        for name in ("calls", "retries", "reasks", "cache_hits", "requests", "parse_failures", "truncated"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latency_s += other.latency_s

    def as_dict(self) -> dict[str, float | int | bool]:
        return {
            "calls": self.calls,
            "retries": self.retries,
            "reasks": self.reasks,
            "cache_hit": self.requests > 0 and self.cache_hits == self.requests,
            "cache_hits": self.cache_hits,
            "parse_failures": self.parse_failures,
            "latency_s": round(self.latency_s, 4),
        }


@dataclass
class Telemetry:
    """Running counters of one judge source; :meth:`summary` is what ``telemetry()`` returns.

    ``calls`` counts HTTP requests sent (retries included); ``requests`` counts judge
    requests answered (from the cache or the server); ``items`` counts scored samples
    and ``none`` those that ended without a score.
    """

    items: int = 0
    none: int = 0
    requests: int = 0
    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    reasks: int = 0
    parse_failures: int = 0
    truncated: int = 0
    guarded: int = 0
    timeouts: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    errors: int = 0
    render_errors: int = 0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))

    def record_latency(self, seconds: float) -> None:
        self.latencies.append(seconds)

    def merge(self, stats: CallStats) -> None:
        """Add one finished item's counts (calls and retries are counted by the client as they happen)."""
        self.requests += stats.requests
        self.cache_hits += stats.cache_hits
        self.reasks += stats.reasks
        self.parse_failures += stats.parse_failures
        self.truncated += stats.truncated

    def summary(self) -> dict[str, float]:
        """Counters plus mean and p95 latency (seconds) of the last 10,000 answered calls."""
        lat = sorted(self.latencies)
        mean = sum(lat) / len(lat) if lat else 0.0
        p95 = lat[min(len(lat) - 1, math.ceil(0.95 * len(lat)) - 1)] if lat else 0.0
        out: dict[str, float] = {
            name: float(getattr(self, name))
            for name in (
                "items", "none", "requests", "calls", "cache_hits", "retries", "reasks", "parse_failures",
                "truncated", "guarded", "timeouts", "rate_limited", "server_errors", "connection_errors", "errors",
                "render_errors",
            )
        }  # fmt: skip
        out["cache_hit_rate"] = self.cache_hits / self.requests if self.requests else 0.0
        out["latency_mean_s"] = round(mean, 6)
        out["latency_p95_s"] = round(p95, 6)
        return out
