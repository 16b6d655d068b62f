"""Your SOP rules. `pip install ./my-rules`, then use `my.*` names in spec.yaml.

Example:
    >>> from repo_sdk.testing import make_sample
    >>> s = make_sample(response="Deal!", history=[("user", "We accept 90 EUR.")])
    >>> [h.rule for h in NoPushAfterAcceptance().check(make_sample(response="Could you do 80 instead?",
    ...     history=[("user", "OK, we accept 90 EUR.")]))]
    ['my.no_push_after_acceptance']
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from repo_sdk import Rule, RuleHit, Sample, hookimpl


class NoPushParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept_words: list[str] = Field(
        default=["we accept", "agreed", "deal", "that works for us", "ok, we can do"],
        description="phrases by which the hotel accepts",
    )


class NoPushAfterAcceptance(Rule[NoPushParams]):
    """SOP: once the hotel has accepted, do not ask for a lower price again."""

    name: ClassVar[str] = "my.no_push_after_acceptance"
    description: ClassVar[str] = "asks for a lower price after the hotel accepted"
    default_points: ClassVar[float] = -30.0

    _ASK = re.compile(r"\b(could you (do|go|offer)|lower|instead|any (chance|room) for)\b", re.I)

    def __init__(self, config: NoPushParams | None = None, points: float | None = None) -> None:
        super().__init__(config, points)
        words = "|".join(re.escape(w) for w in self.config.accept_words)
        self._accept = re.compile(rf"\b({words})\b", re.I)

    def check(self, sample: Sample) -> list[RuleHit]:
        last_hotel = next((t.content for t in reversed(sample.history) if t.role == "user"), "")
        if not self._accept.search(last_hotel):
            return []
        m = self._ASK.search(sample.response)
        if m is None:
            return []
        return [self.hit("pushes for a lower price after the hotel accepted", span=m.span(), evidence=m.group(0))]


@hookimpl
def register_rules(register: Any) -> None:
    register(NoPushAfterAcceptance)
