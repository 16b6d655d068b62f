"""``normalize_then_sum``: z-score each source within its group, then a weighted sum.

Each source is normalised separately within a group (the completions of one
prompt, ``Sample.group``; samples without a group form one batch-wide group), so
sources on different scales contribute comparably, as in GDPO. A group with one
sample, or no spread, contributes 0 for that source.

Example:
    >>> from repo_sdk.types import SourceScore as S
    >>> from repo_sdk.testing import make_sample
    >>> c = NormalizeThenSumCombiner()
    >>> out = c.combine([make_sample(), make_sample()], {"a": [S(value=1.0), S(value=3.0)]})
    >>> [round(r.reward, 3) for r in out]
    [-1.0, 1.0]
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk.combiners.weighted_sum import check_weights
from repo_sdk.interfaces import Combined, Combiner, RewardSource
from repo_sdk.types import Sample, SourceScore

__all__ = ["NormalizeThenSumCombiner", "NormalizeThenSumConfig"]


class NormalizeThenSumConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weights: dict[str, float] | list[float] | None = Field(None, description="per-source weights; default 1 each")
    eps: float = Field(1e-6, gt=0, description="added to the std before dividing")


class NormalizeThenSumCombiner(Combiner[NormalizeThenSumConfig]):
    """Per-source, per-group z-scores, then a weighted sum (missing values count 0)."""

    name: ClassVar[str] = "normalize_then_sum"
    group_aware: ClassVar[bool] = True

    def bind(self, sources: Mapping[str, RewardSource[Any]]) -> None:
        self.weights = check_weights(self.config.weights, list(sources))

    def combine(self, samples: Sequence[Sample], scores: Mapping[str, Sequence[SourceScore]]) -> list[Combined]:
        weights = getattr(self, "weights", None) or check_weights(self.config.weights, list(scores))
        groups: dict[str | None, list[int]] = defaultdict(list)
        for i, s in enumerate(samples):
            groups[s.group].append(i)
        totals = [0.0] * len(samples)
        present = [0] * len(samples)
        for name, w in weights.items():
            for idx in groups.values():
                vals = [(i, v) for i in idx if name in scores and (v := scores[name][i].value) is not None]
                if not vals:
                    continue
                mean = sum(v for _, v in vals) / len(vals)
                std = math.sqrt(sum((v - mean) ** 2 for _, v in vals) / len(vals))
                for i, v in vals:
                    present[i] += 1
                    if std > 0:
                        totals[i] += w * (v - mean) / (std + self.config.eps)
        return [Combined(t if p else None, {}) for t, p in zip(totals, present, strict=True)]
