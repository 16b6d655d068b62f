"""Over-length replies."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk.interfaces import Rule
from repo_sdk.types import RuleHit, Sample

__all__ = ["MaxLength"]


class MaxLengthParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_chars: int = Field(600, ge=1, description="longest acceptable reply, in characters")


class MaxLength(Rule):
    """A reply longer than ``max_chars`` characters.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> len(MaxLength(MaxLengthParams(max_chars=3)).check(make_sample(response="four")))
        1
    """

    name: ClassVar[str] = "max_length"
    description: ClassVar[str] = "reply longer than max_chars characters"
    Params = MaxLengthParams

    def check(self, sample: Sample) -> list[RuleHit]:
        limit = self.params.max_chars  # type: ignore[attr-defined]
        text = sample.response
        if len(text) <= limit:
            return []
        return [self.hit(f"reply has {len(text)} characters (max {limit})", span=(limit, len(text)), evidence=text[limit:limit + 80])]
