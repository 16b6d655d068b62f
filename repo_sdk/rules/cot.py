"""Chain-of-thought leakage: think tags and reasoning preambles in a chat reply."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from pydantic import Field, field_validator

from repo_sdk.interfaces import Rule
from repo_sdk.rules.base import RuleParams, cap_hits
from repo_sdk.rules.context import TurnContext
from repo_sdk.rules.prefilter import Alternation
from repo_sdk.rules.text import clip_evidence
from repo_sdk.rules.views import TextView
from repo_sdk.types import RuleHit

__all__ = ["DEFAULT_PREAMBLES", "CotLeak", "CotLeakParams"]

# Where a preamble may start: the reply's start, a line start (after list or quote
# markers), or right after the end of a sentence.
_START = r"(?:^[ \t>*_#-]*|(?<=[.!?:]\s))"
_SUBJECT = r"(?:user|human|assistant|model|prompt|system)"

#: Reasoning preambles caught by default (regular expressions, matched
#: case-insensitively and per line). Each is narrow on purpose: "Let me check with
#: my manager" or "I think 80 is fair" are normal replies and must not fire.
DEFAULT_PREAMBLES: tuple[str, ...] = (
    # "Let me think step by step", "thinking through this step by step"
    r"\b(?:let(?:'s| me| us)\s+)?(?:think|reason|work|go)(?:ing)?\s+(?:(?:through|about)\s+(?:this|it)\s+)?"
    r"step[- ]by[- ]step\b",
    r"\blet(?:'s| me| us)\s+think\s+(?:this\s+through|through\s+(?:this|it)|carefully|about\s+(?:how|what|the\s+"
    + _SUBJECT
    + r"))",
    # "First, I need to figure out ...": planning, not a reply
    _START + r"first(?:ly)?,?\s+(?:i|we)\s+(?:need|have|should|must|want)\s+to\s+(?:figure\s+out|determine|analy[sz]e"
    r"|identify|recall|work\s+out|think|consider|understand\s+(?:what|why|how|the\s+" + _SUBJECT + r"))\b",
    # "Okay, so the user ...", "Alright, the user wants ..."
    _START
    + r"(?:ok(?:ay)?|alright|all\s+right|so|hmm+|well|right)[,.]?\s+(?:so,?\s+)?(?:now,?\s+)?the\s+"
    + _SUBJECT
    + r"\b",
    # the counterpart described in the third person as "the user"
    r"\bthe\s+user(?:'s\s+(?:request|question|message|query|intent)|\s+(?:wants|is\s+asking|asked|asks|is\s+requesting"
    r"|requested|said|says|mentioned|seems\s+to|would\s+like|is\s+trying))\b",
    # "Reasoning:", "**Thought process:**", "Plan:", "Analysis:" as a label at a line or sentence start
    _START + r"(?:\*\*|__)?(?:my\s+)?(?:reasoning|thoughts?|thinking|thought\s+process|chain[- ]of[- ]thought"
    r"|internal\s+(?:monologue|notes?|reasoning)|scratchpad|inner\s+monologue|plan|planning|analysis|strategy|approach"
    r"|conclusion|rationale|observations?|note\s+to\s+self|self[- ]note)"
    r"(?:\s+(?:it\s+over|aloud|out\s+loud|process|this\s+through))?(?:\*\*|__)?\s*:",
    # "Okay, so the hotel wants 138 ...": the counterpart narrated in the third person
    _START + r"(?:ok(?:ay)?|alright|all\s+right|so|hmm+|well|right)[,.]?\s+(?:so,?\s+)?(?:now,?\s+)?the\s+"
    r"(?:hotel|counterpart|other\s+(?:side|party)|manager|owner|receptionist|seller|vendor|supplier|front\s+desk)\s+"
    r"(?:wants|is|has|said|says|asked|asks|offered|offers|countered|quoted|came|seems|needs|won't|will|can't"
    r"|cannot|refuses|refused|agreed|accepted|rejected|declined)\b",
    # "now I make the pitch": stage directions of its own reply
    r"\bnow\s+i(?:'ll|\s+will)?\s+(?:make|do|give|deliver|move\s+(?:on\s+)?to|go\s+for|start)\s+the\s+(?:pitch"
    r"|case|counter(?:offer)?|close|closing|proposal|ask|anchor)\b",
    # an aside to itself: "(Note to self: ...)", "[thinking: ...]"
    r"[(\[]\s*(?:note\s+to\s+self|memo\s+to\s+self|thinking|thoughts?|internal(?:\s+note)?|aside|reasoning|plan"
    r"|strategy|analysis)\s*[:\-]|\bnote\s+to\s+(?:self|myself)\b",
    # tactics addressed to itself: "I should split the difference and sound understanding"
    r"\bi\s+(?:should|need\s+to|must|ought\s+to|had\s+better|'d\s+better)\s+(?:(?:probably|just|now|first|then)\s+)?"
    r"(?:split\s+the\s+difference|anchor|sound|appear|seem|come\s+across|make\s+(?:them|the\s+hotel|her|him)\s+"
    r"(?:feel|think|believe|accept)|keep\s+(?:them|the\s+hotel|her|him)\s+(?:talking|engaged|on\s+the\s+line)"
    r"|push\s+(?:them|the\s+hotel|her|him)|concede|hold\s+firm|flatter|mirror|stall|bluff|pressure)\b",
    r"\bmy\s+(?:best\s+|next\s+|optimal\s+|smartest\s+)?(?:move|strategy|tactic|play)\s+(?:here\s+|now\s+)?"
    r"(?:is|would\s+be|should\s+be|will\s+be)\b|\bthe\s+(?:best|optimal|smartest)\s+(?:move|strategy|tactic)\s+"
    r"(?:here\s+|now\s+)?(?:is|would\s+be)\b",
    # narrating its own procedure: "the next step is to make the case ..., so I will do that now"
    r"\b(?:the|my)\s+next\s+(?:step|move|stage)\s+(?:is|would\s+be|will\s+be)\s+to\s+(?:make\s+the\s+case|propose"
    r"|counter|anchor|confirm|close|push|fall\s+back|escalate|concede)\b|\bso\s+i(?:'ll|\s+will)\s+do\s+(?:that|this"
    r"|so|it)\s+now\b",
    # the counterpart described in the third person, as in notes about the call
    r"\b(?:the|this)\s+(?:hotel|manager|owner|receptionist|counterpart|other\s+(?:side|party)|front\s+desk)\s+"
    r"(?:has\s+|just\s+)?(?:objected|seems|sounds|appears|is\s+(?:stalling|bluffing|hesitant|testing|anchoring)"
    r"|countered|pushed\s+back|came\s+back\s+with|is\s+signal(?:l)?ing)\b",
    # planning the reply instead of writing it
    r"\b(?:my|the)\s+(?:response|reply)\s+should\s+(?:be|include|mention|acknowledge|sound|focus|start|address)\b",
    r"\bi\s+(?:should|need\s+to|must)\s+(?:respond|reply|craft|draft|formulate|compose)\b",
    r"\bin\s+(?:my|this)\s+(?:response|reply),?\s+i\s+(?:will|should|'ll)\b",
    r"\blet\s+me\s+(?:analy[sz]e|reason\s+(?:about|through)|recall\s+what|figure\s+out\s+(?:what|how)\s+the\s+"
    + _SUBJECT
    + r")\b",
)


class CotLeakParams(RuleParams):
    tags: list[str] = Field(
        default_factory=lambda: ["think", "thinking", "reasoning", "scratchpad", "reflection"],
        description="tag names whose <tag>...</tag> blocks (or a stray </tag>) are reasoning",
    )
    preambles: bool = Field(True, description="also catch the built-in reasoning preambles (DEFAULT_PREAMBLES)")
    extra_patterns: list[str] = Field(
        default_factory=list, description="more regular expressions of leaked reasoning (case-insensitive, per line)"
    )

    @field_validator("tags")
    @classmethod
    def _tag_names(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            if not re.fullmatch(r"[\w:-]+", tag):
                raise ValueError(f"tag names are letters, digits, '_', ':' or '-', got {tag!r}")
        return tags

    @field_validator("extra_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return patterns


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[\u3002\uff01\uff1f\n]")


class CotLeak(Rule[CotLeakParams]):
    """Reasoning that leaked into the reply: ``<think>`` blocks and reasoning preambles.

    Catches ``<think>...</think>`` blocks (also unclosed ones, which run to the end),
    a stray closing ``</think>`` (a template that opened the block in the prompt:
    everything before it is reasoning), and reasoning preambles such as "Let me think
    step by step", "First, I need to figure out", "Okay, so the user", "Reasoning:".
    A preamble hit's evidence runs from the preamble to the end of its sentence.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> [h.evidence for h in CotLeak().check(make_sample(response="<think>x</think>Hi"))]
        ['<think>x</think>']
        >>> [h.evidence for h in CotLeak().check(make_sample(response="Okay, so the user wants 80. Hi!"))]
        ['Okay, so the user wants 80.']
        >>> CotLeak().check(make_sample(response="Let me check with my manager and get back to you."))
        []
    """

    name: ClassVar[str] = "cot_leak"
    description: ClassVar[str] = "chain-of-thought leaked into the reply (think tags, reasoning preambles)"
    default_points: ClassVar[float] = -10.0

    def __init__(self, config: CotLeakParams | None = None, points: float | None = None) -> None:
        super().__init__(config, points)
        p = self.config
        names = "|".join(re.escape(t) for t in p.tags)
        self._blocks = re.compile(rf"<\s*({names})\b[^<>]*>.*?(?:<\s*/\s*\1\s*>|$)", re.I | re.S) if p.tags else None
        self._close = re.compile(rf"<\s*/\s*(?:{names})\s*>", re.I) if p.tags else None
        patterns = [*(DEFAULT_PREAMBLES if p.preambles else ()), *p.extra_patterns]
        self._preamble = re.compile("|".join(f"(?:{x})" for x in patterns), re.I | re.M) if patterns else None
        # A reply runs only the preambles whose words it holds: an alternative that cannot match
        # anywhere in the text changes no match of the alternation, so the hits are the same.
        alone = [re.compile(x, re.I | re.M) for x in patterns]
        # (alternatives with groups of their own are kept together: a back-reference counts groups)
        self._union = Alternation(patterns, re.I | re.M) if patterns and not any(x.groups for x in alone) else None

    def _preambles(self, reply: TextView) -> Iterator[re.Match[str]]:
        text = reply.text
        if self._union is not None:
            return self._union.finditer(text, reply.folded, reply.lower)
        return self._preamble.finditer(text) if self._preamble is not None else iter(())

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        text = turn.reply.text
        hits: list[RuleHit] = []
        covered: list[tuple[int, int]] = []
        if self._blocks is not None and self._close is not None and "<" in text:
            for m in self._blocks.finditer(text):
                covered.append(m.span())
                evidence = clip_evidence(text, m.span())
                hits.append(self.hit("reasoning block in the reply", span=m.span(), evidence=evidence))
            for m in self._close.finditer(text):
                if any(s <= m.start() < e for s, e in covered):
                    continue
                span = (covered[-1][1] if covered and covered[-1][1] <= m.start() else 0, m.end())
                covered.append(span)
                hits.append(self.hit("reasoning before a closing tag", span=span, evidence=clip_evidence(text, span)))
        for m in self._preambles(turn.reply):
            if m.start() == m.end() or any(s <= m.start() < e for s, e in covered):
                continue
            end_m = _SENTENCE_END.search(text, m.end())
            end = end_m.end() if end_m is not None else len(text)
            end = len(text[:end].rstrip()) if text[:end].rstrip() else end
            span = (m.start(), max(end, m.end()))
            covered.append(span)
            hits.append(self.hit("reasoning preamble in the reply", span=span, evidence=clip_evidence(text, span)))
        hits.sort(key=lambda h: h.span or (0, 0))
        return cap_hits(hits, self.config)
