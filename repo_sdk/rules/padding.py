"""Padding: a reply inflated by repeating itself ("Thanks again! Thanks again! ...").

A reward that grows with length, or a judge that likes warmth, is gamed by saying the
same thing many times. ``max_length`` only sees very long replies and ``repetition``
only compares sentences of six tokens or more; this rule reads how much of a reply is
new: a sentence said ``max_repeats`` times or more, or too few distinct word trigrams.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from repo_sdk.interfaces import Rule
from repo_sdk.rules.base import RuleParams, cap_hits
from repo_sdk.rules.context import TurnContext
from repo_sdk.rules.text import clip_evidence
from repo_sdk.types import RuleHit

__all__ = ["Padding", "PaddingParams"]


class PaddingParams(RuleParams):
    max_repeats: int = Field(3, ge=2, description="a sentence said this many times in one reply is padding")
    min_words: int = Field(30, ge=5, description="replies shorter than this are not measured for distinct trigrams")
    min_distinct: float = Field(
        0.6, gt=0, le=1, description="least share of distinct word trigrams among all trigrams of a reply"
    )


class Padding(Rule[PaddingParams]):
    """A reply that repeats itself: one sentence said ``max_repeats`` times, or few distinct word trigrams.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> [h.reason for h in Padding().check(make_sample(response="Deal at 90. " + "Thanks again! " * 4))]
        ['a sentence is said 4 times: "Thanks again!"']
        >>> Padding().check(make_sample(response="Thanks! Could we agree on 90? Thanks!"))
        []
    """

    name: ClassVar[str] = "padding"
    description: ClassVar[str] = "reply padded by repeating itself (a sentence said again and again, few new words)"
    default_points: ClassVar[float] = -20.0

    def near_miss_params(self) -> PaddingParams:
        """One repeat fewer (at least two) and 10 points more distinct trigrams asked for."""
        p = self.config
        looser = {"max_repeats": max(2, p.max_repeats - 1), "min_distinct": min(1.0, round(p.min_distinct + 0.1, 6))}
        return p.model_copy(update=looser)

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        p = self.config
        text = turn.reply.text
        hits = []
        said: dict[tuple[str, ...], list[tuple[int, int]]] = {}  # a sentence's words -> where it is said
        for span, tokens in turn.reply.sentence_tokens:  # the reply's shared views: split and tokenized once
            if tokens:
                said.setdefault(tuple(tokens), []).append(span)
        for where in sorted(said.values(), key=len, reverse=True):
            if len(where) < p.max_repeats:
                break
            span = (where[1][0], where[-1][1])  # from the first repeat to the last
            first = text[where[0][0] : where[0][1]].strip()
            reason = f'a sentence is said {len(where)} times: "{first[:80]}"'
            hits.append(self.hit(reason, span=span, evidence=clip_evidence(text, span)))
        words = turn.reply.tokens
        if not hits and len(words) >= p.min_words:
            distinct = len(set(zip(words, words[1:], words[2:], strict=False))) / (len(words) - 2)
            if distinct < p.min_distinct:
                span = (0, len(text))
                reason = f"only {distinct:.0%} of the reply's word trigrams are distinct (min {p.min_distinct:.0%})"
                hits.append(self.hit(reason, span=span, evidence=clip_evidence(text, span)))
        return cap_hits(hits, self.config)
