"""The dict the reward returns to verl: ``score`` plus the same extra keys for every sample.

verl stacks each extra key over the batch (``np.array([info[key] for info in infos])``
with the keys of the first sample), so a key missing from one sample fails the
whole step. :class:`ExtraKeys` fixes the key set once, from the built pipeline:

- ``score``: the combined reward; ``missing_reward`` when there is none;
- ``<name>/<source>``: each source's value; None when the source did not score the sample;
- ``<name>/E``, ``/E_judge``, ``/E_rules``, ``/multiplier``: REPO's details (None under other combiners);
- ``<name>/fired/<rule>``: 1.0 when the turn rule fired on the reply, else 0.0;
- ``<name>/telemetry/<source>/<counter>``: per-sample counters of the sources that keep them
  (the judge's calls, cache hits, retries, latency);
- ``<name>/missing``: 1.0 when ``score`` is the fallback (no reward, or the sample was not scored);
- ``<name>/error``: 1.0 when the sample could not be scored (unreadable ``extra_info``, a source raised).

verl's validation metrics skip None values, so a source's mean is over the samples it scored.

Example:
    >>> from repo_sdk.pipeline import RewardPipeline
    >>> keys = ExtraKeys.of(RewardPipeline.from_spec({"name": "r", "sources": {"guard": ["cot_leak"]}}))
    >>> sorted(keys.fallback(0.0))
    ['r/E', 'r/E_judge', 'r/E_rules', 'r/error', 'r/fired/cot_leak', 'r/guard', 'r/missing', 'r/multiplier', 'score']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from repo_sdk.breakdown import breakdown, finite
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.types import RewardResult

__all__ = ["COMBINER_KEYS", "ExtraKeys"]

COMBINER_KEYS = ("E", "E_judge", "E_rules", "multiplier")


@dataclass(frozen=True)
class ExtraKeys:
    """The fixed key set of one pipeline's answers (see the module docs)."""

    name: str
    sources: tuple[str, ...]
    rules: tuple[str, ...]
    telemetry: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, pipeline: RewardPipeline) -> ExtraKeys:
        """The keys of a built pipeline: every source of the spec, every turn rule, per-sample counters."""
        telemetry = tuple((n, k) for n, src in pipeline.sources.items() for k in src.item_telemetry_keys)
        return cls(pipeline.name, tuple(pipeline.sources), tuple(pipeline.rule_names("turn")), telemetry)

    def answer(self, result: RewardResult, missing_reward: float) -> dict[str, Any]:
        """verl's dict for a scored sample: the core's breakdown of it, keyed for verl."""
        counters: dict[str, list[str]] = {}
        for source, key in self.telemetry:
            counters.setdefault(source, []).append(key)
        b = breakdown([result], sources=self.sources, rules=self.rules, fired_elsewhere=False, telemetry=counters)
        reward = finite(result.reward)
        out: dict[str, Any] = {"score": missing_reward if reward is None else reward}
        out |= {f"{self.name}/{source}": values[0] for source, values in b.sources.items()}
        out |= {f"{self.name}/{key}": b.combiner[key][0] if key in b.combiner else None for key in COMBINER_KEYS}
        out |= {f"{self.name}/fired/{rule}": flags[0] for rule, flags in b.fired.items()}
        for source, keys in b.telemetry.items():
            out |= {f"{self.name}/telemetry/{source}/{key}": values[0] for key, values in keys.items()}
        out[f"{self.name}/missing"] = b.missing[0]
        out[f"{self.name}/error"] = 0.0
        return out

    def fallback(self, missing_reward: float) -> dict[str, Any]:
        """verl's dict for a sample that could not be scored: the fallback reward, flagged."""
        out: dict[str, Any] = {"score": missing_reward}
        out |= {f"{self.name}/{source}": None for source in self.sources}
        out |= {f"{self.name}/{key}": None for key in COMBINER_KEYS}
        out |= {f"{self.name}/fired/{rule}": 0.0 for rule in self.rules}
        out |= {f"{self.name}/telemetry/{source}/{key}": 0.0 for source, key in self.telemetry}
        out |= {f"{self.name}/missing": 1.0, f"{self.name}/error": 1.0}
        return out
