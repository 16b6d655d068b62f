"""Forbidden and internal terms: jargon that must never reach the counterpart."""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from repo_sdk.interfaces import Rule
from repo_sdk.rules.anchors import anchored_finditer, min_width, starts
from repo_sdk.rules.base import RuleParams, cap_hits
from repo_sdk.rules.context import TurnContext
from repo_sdk.rules.prefilter import Prefilter
from repo_sdk.rules.text import CJK
from repo_sdk.types import RuleHit

__all__ = ["DEFAULT_TERMS", "ForbiddenTerms", "ForbiddenTermsParams", "Term"]

#: Example defaults: internal jargon of an agent working from tickets and targets.
DEFAULT_TERMS: tuple[str, ...] = ("work order", "ticket", "target price", "system prompt", "internal note")

_CJK_EDGE = re.compile(rf"[{CJK}]")


class Term(BaseModel):
    """One term with its own settings; unset fields take the rule's defaults."""

    model_config = ConfigDict(extra="forbid")

    term: str = Field(min_length=1, description="the phrase (or a regular expression when regex is true)")
    whole_word: bool | None = Field(None, description="match whole words only (default: the rule's whole_word)")
    case_sensitive: bool | None = Field(None, description="match case exactly (default: the rule's case_sensitive)")
    regex: bool = Field(False, description="treat term as a Python regular expression")
    points: float | None = Field(None, description="points of a hit on this term (default: the rule's points)")
    reason: str | None = Field(None, description="reason shown for a hit (default: 'forbidden term ...')")


class ForbiddenTermsParams(RuleParams):
    terms: list[str | Term] = Field(
        default_factory=lambda: list[str | Term](DEFAULT_TERMS),
        description="terms to catch: plain strings or {term, whole_word, case_sensitive, regex, points, reason}",
    )
    whole_word: bool = Field(True, description="a term must not be part of a longer word ('ticketing' is no 'ticket')")
    case_sensitive: bool = Field(False, description="match case exactly")
    plurals: bool = Field(True, description="with whole_word, also catch a plain term followed by 's' or 'es'")
    flexible_spacing: bool = Field(
        True, description="a space inside a plain term also matches runs of spaces, '-' or '_' ('work-order')"
    )
    allow: list[str] = Field(
        default_factory=list,
        description="phrases that make a hit inside them fine (e.g. 'train ticket'); matched case-insensitively",
    )

    @model_validator(mode="after")
    def _compiles(self) -> ForbiddenTermsParams:
        for i, term in enumerate(self.terms):
            if isinstance(term, Term) and term.regex:
                try:
                    re.compile(term.term)
                except re.error as exc:
                    raise ValueError(f"terms[{i}]: invalid regular expression {term.term!r}: {exc}") from None
        return self


def _term_pattern(term: Term, p: ForbiddenTermsParams) -> str:
    whole = p.whole_word if term.whole_word is None else term.whole_word
    case = p.case_sensitive if term.case_sensitive is None else term.case_sensitive
    if term.regex:
        core = term.term
    else:
        words = term.term.split()
        sep = r"[\s_-]+" if p.flexible_spacing else r"\s+"
        core = sep.join(re.escape(w) for w in words)
        if whole and p.plurals and term.term[-1:].isalpha() and term.term[-1:].isascii():
            core += "(?:e?s)?"
    if whole:
        # CJK text has no spaces, so a word boundary is only required on a non-CJK edge
        if term.regex or not _CJK_EDGE.match(term.term[:1]):
            core = r"(?<!\w)" + core
        if term.regex or not _CJK_EDGE.match(term.term[-1:]):
            core += r"(?!\w)"
    return core if case else f"(?i:{core})"


def _allow_pattern(phrase: str, p: ForbiddenTermsParams) -> str:
    core = r"[\s_-]+".join(re.escape(w) for w in phrase.split())
    if p.whole_word and p.plurals and phrase[-1:].isalpha() and phrase[-1:].isascii():
        core += r"(?:e?s)?(?!\w)"
    return core


class ForbiddenTerms(Rule[ForbiddenTermsParams]):
    """Forbidden or internal terms in the reply (``work order``, ``ticket``, ``target price``).

    Each occurrence is one hit, with the matched text as evidence. Terms are plain
    phrases (escaped) or regular expressions; per-term ``case_sensitive``,
    ``whole_word``, ``points`` and ``reason`` override the rule's settings. All terms
    are compiled into one pattern when the rule is built.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> rule = ForbiddenTerms(ForbiddenTermsParams(terms=["ticket", "KPI"]))
        >>> [h.evidence for h in rule.check(make_sample(response="Your Tickets are ready; ticketing is closed."))]
        ['Tickets']
    """

    name: ClassVar[str] = "forbidden_terms"
    description: ClassVar[str] = "forbidden or internal terms in the reply (configurable list)"
    default_points: ClassVar[float] = -10.0

    def __init__(self, config: ForbiddenTermsParams | None = None, points: float | None = None) -> None:
        super().__init__(config, points)
        p = self.config
        self._terms = [t if isinstance(t, Term) else Term(term=t) for t in p.terms]
        # longest first, so "target price" wins over "price" at the same position
        order = sorted(range(len(self._terms)), key=lambda i: (self._terms[i].regex, -len(self._terms[i].term)))
        alternatives = [f"(?P<t{i}>{_term_pattern(self._terms[i], p)})" for i in order]
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None
        # longest first, so "train tickets" is not cut to "train ticket"; plurals as for the terms
        allow = [_allow_pattern(a, p) for a in sorted(p.allow, key=len, reverse=True) if a.strip()]
        self._allow = re.compile("|".join(allow), re.I) if allow else None
        # a reply lacking the words every term needs is skipped without running the pattern, and the
        # pattern is tried only where a term can start (when no term may match an empty string)
        self._prefilter = Prefilter(self._pattern) if self._pattern is not None else None
        anchored = self._pattern is not None and min_width(self._pattern) > 0
        self._starts = starts(self._pattern) if anchored and self._pattern is not None else None

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        text = turn.reply.text
        if self._pattern is None or not text:
            return []
        if self._prefilter is not None and not self._prefilter.may_match(turn.reply.folded):
            return []
        allowed: list[tuple[int, int]] | None = None  # found on the first hit only
        hits = []
        for m in anchored_finditer(self._pattern, text, self._starts):
            if m.start() == m.end():
                continue
            if allowed is None:
                allowed = [a.span() for a in self._allow.finditer(text)] if self._allow is not None else []
            if any(s <= m.start() and m.end() <= e for s, e in allowed):
                continue
            term = self._terms[int((m.lastgroup or "t0")[1:])]
            hits.append(
                self.hit(
                    term.reason or f"forbidden term {term.term!r}",
                    span=m.span(),
                    evidence=m.group(0),
                    points=term.points,
                )
            )
        return cap_hits(hits, self.config)
