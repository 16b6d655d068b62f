"""The plugin module named by the entry point: a rule and a reward source.

Example:
    >>> from repo_sdk.testing import make_sample
    >>> [h.evidence for h in NoShouting().check(make_sample(response="That is TOO EXPENSIVE"))]
    ['TOO EXPENSIVE']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk import RewardSource, Rule, RuleHit, Sample, SourceScore, hookimpl


class NoShoutingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_words: int = Field(2, ge=1, description="consecutive all-caps words that count as shouting")


class NoShouting(Rule[NoShoutingParams]):
    """Consecutive ALL-CAPS words in a reply: shouting at the partner."""

    name: ClassVar[str] = "example.no_shouting"
    description: ClassVar[str] = "two or more consecutive all-caps words"
    default_points: ClassVar[float] = -15.0

    def __init__(self, config: NoShoutingParams | None = None, points: float | None = None) -> None:
        super().__init__(config, points)
        n = self.config.min_words
        self._pattern = re.compile(rf"\b[A-Z]{{2,}}(?:\s+[A-Z]{{2,}}){{{n - 1},}}\b")

    def check(self, sample: Sample) -> list[RuleHit]:
        return [
            self.hit("shouting (all-caps words)", span=m.span(), evidence=m.group(0))
            for m in self._pattern.finditer(sample.response)
        ]


class Politeness(RewardSource):
    """Counts polite markers (please, thank you) in a reply: 0..1."""

    name: ClassVar[str] = "example.politeness"
    _MARKERS = re.compile(r"\b(please|thank you|thanks|appreciate)\b", re.I)

    def score(self, samples: Sequence[Sample]) -> list[SourceScore]:
        out = []
        for s in samples:
            n = len(self._MARKERS.findall(s.response))
            out.append(SourceScore(value=min(1.0, n / 2), reason=f"{n} polite marker(s)"))
        return out


@hookimpl
def register_rules(register: Any) -> None:
    register(NoShouting)


@hookimpl
def register_sources(register: Any) -> None:
    register(Politeness)
