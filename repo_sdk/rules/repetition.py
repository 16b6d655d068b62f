"""Repetition: a reply that repeats the agent's own earlier turns, or itself."""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher
from functools import lru_cache
from typing import ClassVar, Literal

from pydantic import Field

from repo_sdk.interfaces import Rule
from repo_sdk.rules.base import RuleParams, cap_hits
from repo_sdk.rules.text import clip_evidence, split_sentences, tokenize
from repo_sdk.types import RuleHit, Sample

__all__ = ["Repetition", "RepetitionParams", "similarity"]


def similarity(
    a: Sequence[str], b: Sequence[str], metric: Literal["ratio", "jaccard"] = "ratio", ngram: int = 2
) -> float:
    """Similarity in [0, 1] of two token lists.

    ``ratio`` is difflib's ``SequenceMatcher.ratio`` over tokens (order-aware, kind to
    small edits); ``jaccard`` is the Jaccard index of the token n-gram sets.

    Example:
        >>> a, b = "we can offer 80 per night".split(), "we can offer 85 per night".split()
        >>> round(similarity(a, b), 2), round(similarity(a, b, "jaccard", 2), 2)
        (0.83, 0.43)
    """
    if not a or not b:
        return 0.0
    if metric == "jaccard":
        n = max(1, min(ngram, len(a), len(b)))
        sa = {tuple(a[i : i + n]) for i in range(len(a) - n + 1)}
        sb = {tuple(b[i : i + n]) for i in range(len(b) - n + 1)}
        return len(sa & sb) / len(sa | sb)
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _upper_bound(a: Sequence[str], b: Sequence[str]) -> float:
    # difflib's ratio is at most 2 * min / (len a + len b): skip hopeless pairs cheaply
    return 2.0 * min(len(a), len(b)) / (len(a) + len(b)) if a and b else 0.0


# History turns recur across samples (every agent turn of a dialogue, every completion
# of a GRPO group share them), so their tokens are worth caching.
@lru_cache(maxsize=8192)
def _turn_tokens(content: str) -> tuple[str, ...]:
    return tuple(tokenize(content))


@lru_cache(maxsize=8192)
def _turn_sentence_tokens(content: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(tokenize(content[s:e])) for s, e in split_sentences(content))


class RepetitionParams(RuleParams):
    threshold: float = Field(0.85, gt=0, le=1, description="similarity at or above which two texts are repeats")
    metric: Literal["ratio", "jaccard"] = Field(
        "ratio", description="'ratio': difflib ratio over word tokens; 'jaccard': Jaccard of token n-grams"
    )
    ngram: int = Field(2, ge=1, description="n-gram size of the jaccard metric")
    min_tokens: int = Field(
        6, ge=1, description="texts (replies, sentences) shorter than this never count as repeats ('Thank you!')"
    )
    history: bool = Field(True, description="compare the reply with the agent's earlier turns")
    sentences: bool = Field(
        True, description="also compare each sentence with the sentences of the agent's earlier turns"
    )
    within: bool = Field(True, description="catch a sentence repeated within the reply itself")
    window: int | None = Field(
        None, ge=1, description="look at the last N assistant turns only (None: the whole history)"
    )


class Repetition(Rule):
    """A reply that repeats one of the agent's own earlier turns, or a sentence of itself.

    Three checks, each a near-duplicate test (``similarity >= threshold`` over word
    tokens, CJK characters as tokens): the whole reply against each earlier
    assistant turn (one hit, span = the reply); when that does not fire, each
    sentence of the reply against the sentences of earlier assistant turns (a
    recycled script line); and each sentence against the earlier sentences of the same
    reply. Texts under ``min_tokens`` tokens are never repeats, so a polite
    "Thank you!" may recur. The counterpart's turns are never compared.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> pitch = "Could you offer the twin room at 80 euros per night for our guests?"
        >>> s = make_sample(response=pitch, history=[("assistant", pitch), ("user", "No.")])
        >>> [h.reason for h in Repetition().check(s)]
        ['reply repeats history turn 0 (similarity 1.00)']
        >>> Repetition().check(make_sample(response="Thank you!", history=[("assistant", "Thank you!")]))
        []
    """

    name: ClassVar[str] = "repetition"
    description: ClassVar[str] = "reply repeats the agent's earlier turns or a sentence of itself"
    default_points: ClassVar[float] = -10.0
    Params = RepetitionParams

    def _same(self, a: Sequence[str], b: Sequence[str]) -> tuple[bool, float]:
        p: RepetitionParams = self.params  # type: ignore[assignment]
        if p.metric == "ratio":
            if _upper_bound(a, b) < p.threshold:
                return False, 0.0
            matcher = SequenceMatcher(None, a, b, autojunk=False)
            if matcher.quick_ratio() < p.threshold:  # a cheap upper bound of ratio()
                return False, 0.0
            score = matcher.ratio()
        else:
            score = similarity(a, b, p.metric, p.ngram)
        return score >= p.threshold, score

    def check(self, sample: Sample) -> list[RuleHit]:
        p: RepetitionParams = self.params  # type: ignore[assignment]
        text = sample.response
        hits: list[RuleHit] = []
        own = [(i, t.content) for i, t in enumerate(sample.history) if t.role == "assistant"]
        if p.window is not None:
            own = own[-p.window :]
        reply_tokens = tokenize(text)
        whole_fired = False
        if p.history and own and len(reply_tokens) >= p.min_tokens:
            for i, content in reversed(own):
                same, score = self._same(reply_tokens, _turn_tokens(content))
                if same:
                    span = (0, len(text))
                    hits.append(
                        self.hit(
                            f"reply repeats history turn {i} (similarity {score:.2f})",
                            span=span,
                            evidence=clip_evidence(text, span),
                        )
                    )
                    whole_fired = True
                    break
        sentences = [(span, tokenize(text[span[0] : span[1]])) for span in split_sentences(text)]
        sentences = [(span, toks) for span, toks in sentences if len(toks) >= p.min_tokens]
        if p.sentences and own and not whole_fired and sentences:
            earlier = [
                (i, toks) for i, content in own for toks in _turn_sentence_tokens(content) if len(toks) >= p.min_tokens
            ]
            for span, toks in sentences:
                for i, other in reversed(earlier):
                    same, score = self._same(toks, other)
                    if same:
                        hits.append(
                            self.hit(
                                f"sentence repeats history turn {i} (similarity {score:.2f})",
                                span=span,
                                evidence=clip_evidence(text, span),
                            )
                        )
                        break
        if p.within:
            for k, (span, toks) in enumerate(sentences):
                for _, other in sentences[:k]:
                    same, score = self._same(toks, other)
                    if same:
                        hits.append(
                            self.hit(
                                f"sentence repeated within the reply (similarity {score:.2f})",
                                span=span,
                                evidence=clip_evidence(text, span),
                            )
                        )
                        break
        return cap_hits(hits, self.params)
