"""``weighted_sum``: sum of weighted source values, TRL's default way to mix rewards.

Example:
    >>> from repo_sdk.types import SourceScore as S
    >>> c = WeightedSumCombiner(WeightedSumConfig(weights={"a": 1.0, "b": 0.5}))
    >>> c.combine([None], {"a": [S(value=1.0)], "b": [S(value=-4.0)]})[0].reward
    -1.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk.errors import SpecError
from repo_sdk.interfaces import Combined, Combiner, RewardSource
from repo_sdk.types import SourceScore

__all__ = ["WeightedSumCombiner", "WeightedSumConfig", "check_weights"]


class WeightedSumConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weights: dict[str, float] | list[float] | None = Field(
        None, description="per-source weights (a mapping, or a list in source order); default 1 each"
    )
    missing: Literal["skip", "none"] = Field(
        "skip", description="skip: sum the sources present (as TRL's nansum); none: reward None"
    )


def check_weights(weights: dict[str, float] | list[float] | None, sources: Sequence[str]) -> dict[str, float]:
    """Resolve weights against source names; a mismatch is a SpecError at ``weights``.

    Example:
        >>> check_weights([1, 2], ["a", "b"])
        {'a': 1.0, 'b': 2.0}
    """
    if weights is None:
        return {name: 1.0 for name in sources}
    if isinstance(weights, list):
        if len(weights) != len(sources):
            raise SpecError(
                ("weights",), f"weights ({len(weights)}) must match sources ({len(sources)}: {list(sources)})"
            )
        return {name: float(w) for name, w in zip(sources, weights, strict=True)}
    unknown = sorted(set(weights) - set(sources))
    if unknown:
        raise SpecError(("weights",), f"names unknown source(s) {unknown} (sources: {list(sources)})")
    return {name: float(w) for name, w in weights.items()}


class WeightedSumCombiner(Combiner[WeightedSumConfig]):
    """Weighted sum of source values."""

    name: ClassVar[str] = "weighted_sum"

    def bind(self, sources: Mapping[str, RewardSource[Any]]) -> None:
        self.weights = check_weights(self.config.weights, list(sources))

    def combine(self, samples: Sequence[Any], scores: Mapping[str, Sequence[SourceScore]]) -> list[Combined]:
        weights = getattr(self, "weights", None) or check_weights(self.config.weights, list(scores))
        return [self._one(i, weights, scores) for i in range(len(samples))]

    def _one(self, i: int, weights: dict[str, float], scores: Mapping[str, Sequence[SourceScore]]) -> Combined:
        total, missing = 0.0, []
        for name, w in weights.items():
            value = scores[name][i].value if name in scores else None
            if value is None:
                missing.append(name)
            else:
                total += w * value
        details: dict[str, Any] = {"missing": missing} if missing else {}
        if missing and (self.config.missing == "none" or len(missing) == len(weights)):
            return Combined(None, details)
        return Combined(total, details)
