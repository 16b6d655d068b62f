"""Small text helpers shared by the rules: sentences, clauses, negation.

Example:
    >>> [s.text for s in sentences("Thanks! Could we do 95? We can't do 90, but 100 works.")]
    ['Thanks!', 'Could we do 95?', "We can't do 90, but 100 works."]
    >>> [c.text for c in clauses("We can't do 90, but 100 works.")]
    ["We can't do 90", '100 works.']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Segment", "clauses", "commas", "find_terms", "is_negated", "normalise", "segment_at", "sentences"]

_ENDS = ".!?\u3002\uff01\uff1f"  # ASCII and CJK full stops, exclamation and question marks
_SENTENCE = re.compile(rf"[^{_ENDS}\n]*(?:[{_ENDS}]+(?=\s|$)|\n|$)|[^\n]+")
_CLAUSE_BREAK = re.compile(r",?\s+\b(?:but|however|although|though|whereas)\b,?\s*|;\s*|\s+-\s+|\s+—\s+", re.I)
_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|can't|cant|won't|wont|don't|dont|doesn't|doesnt|didn't|isn't|aren't|wasn't|"
    r"shouldn't|wouldn't|couldn't|unable|without|neither|nor|hardly|impossible)\b|n't\b",
    re.I,
)


@dataclass(frozen=True)
class Segment:
    """A piece of a text with its character offsets in the text."""

    start: int
    end: int
    text: str


def normalise(text: str) -> str:
    """Straight quotes and apostrophes, so patterns need one spelling.

    Example:
        >>> normalise("can\u2019t")
        "can't"
    """
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')


def sentences(text: str) -> list[Segment]:
    """Sentences (split after ``.!?`` and at line breaks), stripped, with their offsets."""
    out = []
    for m in _SENTENCE.finditer(text):
        raw = m.group(0)
        if not raw.strip():
            continue
        lead = len(raw) - len(raw.lstrip())
        body = raw.strip()
        out.append(Segment(m.start() + lead, m.start() + lead + len(body), body))
    return out


def clauses(text: str) -> list[Segment]:
    """Sentences split further at "but", "however", ";" and dashes (a hotel's "no ..., but ...")."""
    out = []
    for s in sentences(text):
        pos = 0
        for br in _CLAUSE_BREAK.finditer(s.text):
            piece = s.text[pos : br.start()]
            if piece.strip():
                out.append(Segment(s.start + pos, s.start + br.start(), piece))
            pos = br.end()
        piece = s.text[pos:]
        if piece.strip():
            out.append(Segment(s.start + pos, s.start + len(s.text), piece))
    return out


def commas(text: str) -> list[Segment]:
    """Clauses split further at commas and colons ("That's too low, we'd need 110").

    Example:
        >>> [c.text for c in commas("No, that's too low, but 110 works.")]
        ['No', "that's too low", '110 works.']
    """
    out = []
    for c in clauses(text):
        for m in re.finditer(r"[^,:]+", c.text):
            lead = len(m.group(0)) - len(m.group(0).lstrip())
            if m.group(0).strip():
                out.append(Segment(c.start + m.start() + lead, c.start + m.end(), m.group(0).strip()))
    return out


def segment_at(segments: list[Segment], pos: int) -> Segment | None:
    """The segment holding character ``pos``."""
    return next((s for s in segments if s.start <= pos < s.end), None)


def is_negated(text: str, start: int, window: int = 4) -> bool:
    """Whether one of the ``window`` words before ``start`` negates what follows.

    Example:
        >>> t = "We cannot guarantee bookings"
        >>> is_negated(t, t.index("guarantee"))
        True
    """
    head = normalise(text[:start])
    words = re.findall(r"[\w']+", head)[-window:]
    return bool(_NEGATION.search(" ".join(words)))


def find_terms(text: str, terms: list[str]) -> list[tuple[int, int, str]]:
    """Case-insensitive whole-word occurrences of any term (plural ``s`` allowed), longest first.

    Example:
        >>> find_terms("Two Junior Suites and a twin", ["junior suite", "twin"])
        [(4, 17, 'junior suite'), (24, 28, 'twin')]
    """
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for term in sorted(set(terms), key=len, reverse=True):
        if not term:
            continue
        pattern = re.compile(r"(?<![\w])" + r"[\s-]+".join(map(re.escape, term.split())) + r"(?:e?s)?(?![\w])", re.I)
        for m in pattern.finditer(text):
            if not any(a < m.end() and m.start() < b for a, b in taken):
                found.append((m.start(), m.end(), term))
                taken.append(m.span())
    return sorted(found)
