"""Repetition: a reply that repeats the agent's own earlier turns, or itself."""

from __future__ import annotations

from collections import Counter
from itertools import compress
from operator import itemgetter
from typing import ClassVar, Literal

from pydantic import Field

from repo_sdk.interfaces import Rule
from repo_sdk.rules.base import RuleParams, cap_hits
from repo_sdk.rules.codes import first_repeats
from repo_sdk.rules.context import DialogueContext, DialogueTracker, TurnContext
from repo_sdk.rules.similar import NearDuplicates, similarity
from repo_sdk.rules.text import clip_evidence
from repo_sdk.rules.views import TextView
from repo_sdk.types import RuleHit, Turn

__all__ = ["AgentTurns", "Repetition", "RepetitionParams", "similarity"]

_SCAN_LIMIT = 256  # texts an index compares one by one (in C) before it indexes them
# once indexed, the texts a search looks at on average (NearDuplicates' max_candidates): sentences of a few words
# from a tiny vocabulary share features with nearly all others, and would cost the square of their number
_MAX_CANDIDATES: int | None = 64


class AgentTurns(DialogueTracker):
    """The agent's (assistant) turns so far: ``(turn index, view)`` in order."""

    def __init__(self, dialogue: DialogueContext) -> None:
        super().__init__(dialogue)
        self.turns: list[tuple[int, TextView]] = []

    def feed(self, index: int, turn: Turn, view: TextView) -> None:
        if turn.role == "assistant":
            self.turns.append((index, view))


class _Read:
    """What the rule reads off one text, made once (as the reply, then as an earlier turn): its
    sentences of ``min_tokens`` tokens or more, and the codes (:func:`encode`) of them and of the text."""

    __slots__ = ("codes", "sentences", "texts", "tokens", "whole")

    def __init__(self, view: TextView, min_tokens: int) -> None:
        every = view.sentence_tokens
        codes = view.sentence_codes
        self.tokens = view.tokens
        self.whole = view.tokens_code  # the text's tokens are its sentences' tokens, in order (a code a token)
        if min(map(len, codes), default=min_tokens) >= min_tokens:  # (most replies: every sentence counts)
            self.sentences, self.codes = every, codes
        else:
            long_enough = list(map(min_tokens.__le__, map(len, codes)))
            self.sentences, self.codes = list(compress(every, long_enough)), list(compress(codes, long_enough))
        self.texts = list(map(itemgetter(1), self.sentences))


class _Earlier:
    """One rule's indexes of the agent's earlier turns in one dialogue, caught up turn by turn."""

    def __init__(self, rule: Repetition) -> None:
        p = rule.config
        self.rule, self.p = rule, p
        self.replies = rule.index()  # key: agent turn number
        self.sentences = rule.index()  # key: sentence number
        self.turn_index: list[int] = []  # agent turn number -> turn index in the dialogue
        self.first_sentence: list[int] = []  # agent turn number -> key of its first sentence
        self.sentence_turn: list[int] = []  # sentence key -> turn index

    def catch_up(self, agent: AgentTurns) -> None:
        p = self.p
        for n in range(len(self.turn_index), len(agent.turns)):
            index, view = agent.turns[n]
            read = self.rule.read(view)
            self.turn_index.append(index)
            self.first_sentence.append(len(self.sentence_turn))
            if p.history:
                self.replies.add(read.tokens, n, read.whole)
            if p.sentences:
                self.sentences.add_all(read.texts, len(self.sentence_turn), read.codes)
                self.sentence_turn.extend([index] * len(read.texts))


class RepetitionParams(RuleParams):
    threshold: float = Field(0.85, gt=0, le=1, description="similarity at or above which two texts are repeats")
    metric: Literal["ratio", "jaccard"] = Field(
        "ratio",
        description="'ratio': Indel similarity over word tokens (2 x longest common subsequence / total length); "
        "'jaccard': Jaccard of token n-grams",
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


class Repetition(Rule[RepetitionParams]):
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

    def __init__(self, config: RepetitionParams | None = None, points: float | None = None) -> None:
        super().__init__(config, points)
        p = self.config
        self._key = f"repetition.read.{p.min_tokens}"
        self._earlier_key = (id(self), "earlier")

    def read(self, view: TextView) -> _Read:
        """What the rule reads off a view, made once: as the reply, and later as an earlier turn."""
        return view.memo(self._key, lambda _: _Read(view, self.config.min_tokens))

    def _earlier(self) -> _Earlier:
        return _Earlier(self)

    def index(self, counts: Counter[str] | None = None) -> NearDuplicates:
        """An empty index of texts to search as this rule compares them (``counts``: a long reply's word counts)."""
        p = self.config
        return NearDuplicates(p.threshold, p.metric, p.ngram, _SCAN_LIMIT, counts, max_candidates=_MAX_CANDIDATES)

    def near_miss_params(self) -> RepetitionParams:
        """A threshold 0.1 lower: a text 0.1 short of counting as a repeat came close."""
        p = self.config
        return p.model_copy(update={"threshold": round(max(0.05, p.threshold - 0.1), 6)})

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        p = self.config
        text = turn.reply.text
        hits: list[RuleHit] = []
        read = self.read(turn.reply)
        sentences, codes = read.sentences, read.codes
        whole_fired = False
        if p.history or p.sentences:
            earlier = turn.dialogue.memo(self._earlier_key, self._earlier)
            earlier.catch_up(turn.dialogue.tracker(AgentTurns))
            first = 0 if p.window is None else max(0, len(earlier.turn_index) - p.window)
            if p.history and earlier.turn_index and len(read.tokens) >= p.min_tokens:
                found = earlier.replies.last(read.tokens, min_key=first, code=read.whole)
                if found is not None:
                    span = (0, len(text))
                    i = earlier.turn_index[found[0]]
                    reason = f"reply repeats history turn {i} (similarity {found[1]:.2f})"
                    hits.append(self.hit(reason, span=span, evidence=clip_evidence(text, span)))
                    whole_fired = True
            if p.sentences and earlier.turn_index and not whole_fired and sentences:
                min_key = earlier.first_sentence[first] if first < len(earlier.first_sentence) else None
                founds = earlier.sentences.last_each(read.texts, codes, min_key)
                for k, found in enumerate(founds) if founds.count(None) < len(founds) else ():
                    if found is not None:
                        span = sentences[k][0]
                        i = earlier.sentence_turn[found[0]]
                        reason = f"sentence repeats history turn {i} (similarity {found[1]:.2f})"
                        hits.append(self.hit(reason, span=span, evidence=clip_evidence(text, span)))
        if p.within and len(sentences) > 1:
            if p.metric == "ratio" and len(sentences) <= _SCAN_LIMIT:
                repeats = first_repeats(read.texts, codes, p.threshold)
            else:  # a long reply, indexed by its own word counts (rarest words first): all its sentences are
                # known up front, and the rarest words make the fewest candidates
                counts = Counter(read.tokens) if len(sentences) > _SCAN_LIMIT else None  # else never indexed
                seen = self.index(counts)
                repeats = []
                for k, toks in enumerate(read.texts):
                    found = seen.first(toks, code=codes[k])
                    if found is not None:
                        repeats.append((k, found))
                    seen.add(toks, k, codes[k])
            for k, (_, score) in repeats:
                span = sentences[k][0]
                reason = f"sentence repeated within the reply (similarity {score:.2f})"
                hits.append(self.hit(reason, span=span, evidence=clip_evidence(text, span)))
        return cap_hits(hits, self.config)
