"""Repetition: a reply that repeats the agent's own earlier turns, or itself."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from itertools import compress
from operator import itemgetter
from typing import ClassVar, Literal

from pydantic import Field
from rapidfuzz.distance import Indel

from repo_sdk.interfaces import Rule
from repo_sdk.rules.base import RuleParams, cap_hits
from repo_sdk.rules.codes import Hit, any_close, close_codes, first_repeats, repeat_free
from repo_sdk.rules.context import DialogueContext, DialogueTracker, TurnContext
from repo_sdk.rules.similar import NearDuplicates, similarity
from repo_sdk.rules.speedups import SPEEDUPS
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
    """What one rule knows of the agent's earlier turns in one dialogue, and the two searches over them.

    While the earlier turns hold no more than ``_SCAN_LIMIT`` sentences (most dialogues), each search scans
    their codes in C: :meth:`repeat_free` first tells, in one call, whether any code is close at all (most
    replies: none, and the rule is done), and the searches verify the close ones on their tokens. Past that
    (or without the C part, or for ``jaccard``), the turns are added to two indexes (:class:`NearDuplicates`)
    and searched there. Both find the latest earlier text at least ``threshold`` similar to the query.
    """

    def __init__(self, rule: Repetition) -> None:
        p = rule.config
        self.rule, self.p = rule, p
        self.replies = rule.index()  # key: agent turn number
        self.sentences = rule.index()  # key: sentence number
        self.turn_index: list[int] = []  # agent turn number -> turn index in the dialogue
        self.first_sentence: list[int] = []  # agent turn number -> key of its first sentence
        self.sentence_turn: list[int] = []  # sentence key -> turn index
        # to scan: every agent turn's code, all their sentences' codes (short ones too), where each turn's start
        self.reply_codes: list[str] = []
        self.sentence_codes: list[str] = []
        self.starts: list[int] = []
        self.cutoff = max(0.0, p.threshold - 1e-6)  # on codes: as the indexes' cutoff
        self.scannable = rule.prechecked  # False once the sentences outgrow a scan: indexed from then on

    def catch_up(self, agent: AgentTurns) -> None:
        """Add the agent turns not yet added to the indexes."""
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

    def repeat_free(self, reply: TextView, agent: AgentTurns) -> bool | None:
        """Whether ``reply`` surely repeats nothing: no code of it is close to one a check compares it with
        (:func:`~repo_sdk.rules.codes.repeat_free`). True: nothing to search; False: some code is close, and
        the searches scan; None: the searches go to the indexes."""
        if not self.scannable:
            return None
        p, codes, starts, replies = self.p, self.sentence_codes, self.starts, self.reply_codes
        for n in range(len(replies), len(agent.turns)):
            view = agent.turns[n][1]
            starts.append(len(codes))
            codes += view.sentence_codes
            replies.append(view.tokens_code)
        said = reply.sentence_codes
        if len(codes) > _SCAN_LIMIT:  # indexed from here on: an indexed search keeps a budget between searches
            self.scannable = False
            return None
        if len(said) > _SCAN_LIMIT:  # (its own sentences are indexed)
            return None
        n = len(replies)
        first = self._first(n)
        whole = reply.tokens_code if p.history and n and len(reply.tokens) >= p.min_tokens else None
        earlier = (codes[starts[first] :] if first else codes) if p.sentences and n else ()
        return repeat_free(
            whole, said, replies[first:] if first else replies, earlier, p.min_tokens, p.within, self.cutoff
        )

    def last_reply(self, read: _Read, agent: AgentTurns, scan: bool) -> Hit | None:
        """``(turn index, similarity)`` of the latest agent turn in the window at least ``threshold`` similar to
        the reply, or None; found by scanning the codes (``scan``) or in the indexes."""
        first = self._first(len(agent.turns))
        if not scan:
            self.catch_up(agent)
            found = self.replies.last(read.tokens, min_key=first, code=read.whole)
            return None if found is None else (self.turn_index[found[0]], found[1])
        replies = self.reply_codes
        for j in reversed(close_codes(read.whole, replies[first:] if first else replies, self.cutoff)):
            index, view = agent.turns[first + j]
            if (
                view.tokens
                and (score := float(Indel.normalized_similarity(read.tokens, view.tokens))) >= self.p.threshold
            ):
                return index, score
        return None

    def last_sentences(self, read: _Read, agent: AgentTurns, scan: bool) -> list[Hit | None]:
        """For each sentence of the reply (long enough), ``(turn index, similarity)`` of the latest sentence of an
        agent turn in the window (long enough) at least ``threshold`` similar to it, or None; as :meth:`last_reply`."""
        first = self._first(len(agent.turns))
        if not scan:
            self.catch_up(agent)
            min_key = self.first_sentence[first] if first < len(self.first_sentence) else None
            founds = self.sentences.last_each(read.texts, read.codes, min_key)
            return [None if found is None else (self.sentence_turn[found[0]], found[1]) for found in founds]
        starts, least, t = self.starts, self.p.min_tokens, self.p.threshold
        lo = starts[first]
        earlier = self.sentence_codes[lo:] if lo else self.sentence_codes
        out: list[Hit | None] = []
        for tokens, code, near in zip(read.texts, read.codes, any_close(read.codes, earlier, self.cutoff), strict=True):
            found = None
            for j in reversed(close_codes(code, earlier, self.cutoff)) if near else ():
                if len(earlier[j]) < least:
                    continue
                n = bisect_right(starts, lo + j) - 1
                index, view = agent.turns[n]
                other = view.sentence_tokens[lo + j - starts[n]][1]
                if (score := float(Indel.normalized_similarity(tokens, other))) >= t:
                    found = (index, score)
                    break
            out.append(found)
        return out

    def _first(self, n: int) -> int:
        """The first agent turn number in the window, of ``n`` agent turns."""
        window = self.p.window
        return 0 if window is None or n <= window else n - window


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
        # most replies repeat nothing, and one call in C tells so (codes compare as the searches do: ratio only)
        self.prechecked = SPEEDUPS is not None and p.metric == "ratio"

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
        earlier = turn.dialogue.memo(self._earlier_key, self._earlier)
        agent = turn.dialogue.tracker(AgentTurns)
        free = earlier.repeat_free(turn.reply, agent)
        if free:  # (most replies)
            return []
        scan = free is False
        text = turn.reply.text
        hits: list[RuleHit] = []
        read = self.read(turn.reply)
        sentences, codes = read.sentences, read.codes
        whole_fired = False
        if p.history and agent.turns and len(read.tokens) >= p.min_tokens:
            found = earlier.last_reply(read, agent, scan)
            if found is not None:
                span = (0, len(text))
                reason = f"reply repeats history turn {found[0]} (similarity {found[1]:.2f})"
                hits.append(self.hit(reason, span=span, evidence=clip_evidence(text, span)))
                whole_fired = True
        if p.sentences and agent.turns and not whole_fired and sentences:
            founds = earlier.last_sentences(read, agent, scan)
            for k, found in enumerate(founds) if founds.count(None) < len(founds) else ():
                if found is not None:
                    span = sentences[k][0]
                    reason = f"sentence repeats history turn {found[0]} (similarity {found[1]:.2f})"
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
