"""Repetition: a reply that repeats the agent's own earlier turns, or itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import ClassVar, Literal

from pydantic import Field

from repo_sdk.interfaces import Rule
from repo_sdk.rules.base import RuleParams, cap_hits
from repo_sdk.rules.context import DialogueContext, DialogueTracker, TurnContext
from repo_sdk.rules.similar import NearDuplicates, Probe, similarity
from repo_sdk.rules.text import clip_evidence
from repo_sdk.rules.views import TextView
from repo_sdk.types import RuleHit, Turn

__all__ = ["AgentTurns", "Repetition", "RepetitionParams", "similarity"]

_BRUTE_LIMIT = 24  # texts an index compares one by one before it indexes them


class AgentTurns(DialogueTracker):
    """The agent's (assistant) turns so far: ``(turn index, view)`` in order."""

    def __init__(self, dialogue: DialogueContext) -> None:
        super().__init__(dialogue)
        self.turns: list[tuple[int, TextView]] = []

    def feed(self, index: int, turn: Turn, view: TextView) -> None:
        if turn.role == "assistant":
            self.turns.append((index, view))


class _Probes:
    """A text's probes for one rule's indexes (made when an index first needs them, then kept)."""

    def __init__(self, view: TextView, p: RepetitionParams, index: NearDuplicates) -> None:
        self._index, self._view = index, view
        self.sentences = [(span, toks) for span, toks in view.sentence_tokens if len(toks) >= p.min_tokens]
        self._whole: Probe | None = None
        self._each: list[Probe | None] = [None] * len(self.sentences)

    def whole(self) -> Probe:
        if self._whole is None:
            self._whole = self._index.probe(self._view.tokens)
        return self._whole

    def sentence(self, k: int) -> Callable[[], Probe]:
        def make() -> Probe:
            found = self._each[k]
            if found is None:
                found = self._each[k] = self._index.probe(self.sentences[k][1])
            return found

        return make


class _Earlier:
    """One rule's indexes of the agent's earlier turns in one dialogue, caught up turn by turn."""

    def __init__(self, rule: Repetition) -> None:
        p = rule.config
        self.rule, self.p = rule, p
        self.replies = NearDuplicates(p.threshold, p.metric, p.ngram)  # key: agent turn number
        self.sentences = NearDuplicates(p.threshold, p.metric, p.ngram)  # key: sentence number
        self.turn_index: list[int] = []  # agent turn number -> turn index in the dialogue
        self.first_sentence: list[int] = []  # agent turn number -> key of its first sentence
        self.sentence_turn: list[int] = []  # sentence key -> turn index

    def catch_up(self, agent: AgentTurns) -> None:
        p = self.p
        for n in range(len(self.turn_index), len(agent.turns)):
            index, view = agent.turns[n]
            probes = self.rule.probes(view)
            self.turn_index.append(index)
            self.first_sentence.append(len(self.sentence_turn))
            if p.history:
                self.replies.add(view.tokens, n, probes.whole)
            if p.sentences:
                for k, (_, toks) in enumerate(probes.sentences):
                    self.sentences.add(toks, len(self.sentence_turn), probes.sentence(k))
                    self.sentence_turn.append(index)


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
        self._index = NearDuplicates(p.threshold, p.metric, p.ngram)  # to make probes with
        self._key = f"repetition.probes.{p.threshold}.{p.metric}.{p.ngram}.{p.min_tokens}"

    def probes(self, view: TextView) -> _Probes:
        """The view's probes, made once: as the reply, and later as an earlier turn."""
        p = self.config
        return view.memo(self._key, lambda _: _Probes(view, p, self._index))

    def near_miss_params(self) -> RepetitionParams:
        """A threshold 0.1 lower: a text 0.1 short of counting as a repeat came close."""
        p = self.config
        return p.model_copy(update={"threshold": round(max(0.05, p.threshold - 0.1), 6)})

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        p = self.config
        text = turn.reply.text
        hits: list[RuleHit] = []
        probes = self.probes(turn.reply)
        sentences = probes.sentences
        whole_fired = False
        if p.history or p.sentences:
            earlier = turn.dialogue.memo((id(self), "earlier"), lambda: _Earlier(self))
            earlier.catch_up(turn.dialogue.tracker(AgentTurns))
            first = 0 if p.window is None else max(0, len(earlier.turn_index) - p.window)
            reply_tokens = turn.reply.tokens
            if p.history and earlier.turn_index and len(reply_tokens) >= p.min_tokens:
                found = earlier.replies.last(reply_tokens, min_key=first, probe=probes.whole)
                if found is not None:
                    span = (0, len(text))
                    i = earlier.turn_index[found[0]]
                    reason = f"reply repeats history turn {i} (similarity {found[1]:.2f})"
                    hits.append(self.hit(reason, span=span, evidence=clip_evidence(text, span)))
                    whole_fired = True
            if p.sentences and earlier.turn_index and not whole_fired and sentences:
                min_key = earlier.first_sentence[first] if first < len(earlier.first_sentence) else None
                for k, (span, toks) in enumerate(sentences):
                    found = earlier.sentences.last(toks, min_key=min_key, probe=probes.sentence(k))
                    if found is not None:
                        i = earlier.sentence_turn[found[0]]
                        reason = f"sentence repeats history turn {i} (similarity {found[1]:.2f})"
                        hits.append(self.hit(reason, span=span, evidence=clip_evidence(text, span)))
        if p.within and len(sentences) > 1:
            # A long reply is indexed by its own word counts (rarest words first): all its
            # sentences are known up front, and the rarest words make the fewest candidates.
            counts = Counter(turn.reply.tokens) if len(sentences) > _BRUTE_LIMIT else None  # else never indexed
            seen = NearDuplicates(p.threshold, p.metric, p.ngram, _BRUTE_LIMIT, counts)
            for k, (span, toks) in enumerate(sentences):
                found = seen.first(toks)
                if found is not None:
                    reason = f"sentence repeated within the reply (similarity {found[1]:.2f})"
                    hits.append(self.hit(reason, span=span, evidence=clip_evidence(text, span)))
                seen.add(toks, k)
        return cap_hits(hits, self.config)
