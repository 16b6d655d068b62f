"""``min``: the worst source decides (a pessimistic, hack-resistant mix).

Example:
    >>> from repo_sdk.types import SourceScore as S
    >>> MinCombiner().combine([None], {"a": [S(value=0.3)], "b": [S(value=-0.1)]})[0].reward
    -0.1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk.errors import SpecError
from repo_sdk.interfaces import Combined, Combiner, RewardSource
from repo_sdk.types import SourceScore

__all__ = ["MinCombiner", "MinConfig"]


class MinConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[str] | None = Field(None, description="sources to take the minimum over; default all")


class MinCombiner(Combiner[MinConfig]):
    """Minimum over the present source values; None when none is present."""

    name: ClassVar[str] = "min"

    def bind(self, sources: Mapping[str, RewardSource[Any]]) -> None:
        wanted = self.config.sources
        if wanted is not None and (unknown := sorted(set(wanted) - set(sources))):
            raise SpecError(("sources",), f"unknown source(s) {unknown} (sources: {sorted(sources)})")

    def combine(self, samples: Sequence[Any], scores: Mapping[str, Sequence[SourceScore]]) -> list[Combined]:
        names = self.config.sources or list(scores)
        out = []
        for i in range(len(samples)):
            values = {n: v for n in names if n in scores and (v := scores[n][i].value) is not None}
            if not values:
                out.append(Combined(None, {"missing": names}))
                continue
            worst = min(values, key=values.__getitem__)
            out.append(Combined(values[worst], {"argmin": worst}))
        return out
