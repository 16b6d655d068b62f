"""Over-length replies: too many characters, words or sentences."""

from __future__ import annotations

import math
from typing import ClassVar

from pydantic import Field

from repo_sdk.interfaces import Rule
from repo_sdk.rules.base import RuleParams, cap_hits
from repo_sdk.rules.context import TurnContext
from repo_sdk.rules.text import clip_evidence, word_spans
from repo_sdk.types import RuleHit

__all__ = ["MaxLength", "MaxLengthParams"]


class MaxLengthParams(RuleParams):
    max_chars: int | None = Field(600, ge=1, description="longest acceptable reply, in characters (None: no limit)")
    max_words: int | None = Field(
        None, ge=1, description="most words (each CJK character counts as one) in a reply (None: no limit)"
    )
    max_sentences: int | None = Field(None, ge=1, description="most sentences in a reply (None: no limit)")


LIMITS = ("max_chars", "max_words", "max_sentences")


def _near(limit: int) -> int:
    return max(1, math.ceil(limit * 0.8))


class MaxLength(Rule[MaxLengthParams]):
    """A reply longer than ``max_chars`` characters, ``max_words`` words or ``max_sentences`` sentences.

    One hit per limit exceeded; its span covers the text past the limit (the evidence
    is that text, cut to 200 characters).

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> len(MaxLength(MaxLengthParams(max_chars=3)).check(make_sample(response="four")))
        1
        >>> [h.evidence for h in MaxLength(MaxLengthParams(max_words=2)).check(make_sample(response="one two three"))]
        ['three']
    """

    name: ClassVar[str] = "max_length"
    description: ClassVar[str] = "reply longer than max_chars characters (or max_words / max_sentences)"
    default_points: ClassVar[float] = -10.0

    def near_miss_params(self) -> MaxLengthParams:
        """Limits at 80 %: a reply between 80 % and 100 % of a limit came close."""
        p = self.config
        return p.model_copy(update={k: _near(v) for k in LIMITS if (v := getattr(p, k)) is not None})

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        p = self.config
        text = turn.reply.text
        hits = []
        if p.max_chars is not None and len(text) > p.max_chars:
            span = (p.max_chars, len(text))
            hits.append(
                self.hit(
                    f"reply has {len(text)} characters (max {p.max_chars})",
                    span=span,
                    evidence=clip_evidence(text, span),
                )
            )
        for unit, limit in (("words", p.max_words), ("sentences", p.max_sentences)):
            if limit is None:
                continue
            parts = word_spans(text) if unit == "words" else turn.reply.sentences
            if len(parts) > limit:  # the evidence is everything from the first part over the limit
                span = (parts[limit][0], len(text))
                hits.append(
                    self.hit(
                        f"reply has {len(parts)} {unit} (max {limit})", span=span, evidence=clip_evidence(text, span)
                    )
                )
        return cap_hits(hits, self.config)
