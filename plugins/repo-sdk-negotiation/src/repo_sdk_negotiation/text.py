"""Small text helpers shared by the rules: sentences, clauses, negation.

Example:
    >>> [s.text for s in sentences("Thanks! Could we do 95? We can't do 90, but 100 works.")]
    ['Thanks!', 'Could we do 95?', "We can't do 90, but 100 works."]
    >>> [c.text for c in clauses("We can't do 90, but 100 works.")]
    ["We can't do 90", '100 works.']
"""

from __future__ import annotations

import re
from bisect import bisect_right, insort
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

from repo_sdk.rules.speedups import SPEEDUPS
from repo_sdk_negotiation.memo import text_cache

__all__ = [
    "Segment",
    "clauses",
    "commas",
    "find_terms",
    "is_negated",
    "normalise",
    "segment_at",
    "sentence_commas",
    "sentences",
]

_ENDS = ".!?\u3002\uff01\uff1f"  # ASCII and CJK full stops, exclamation and question marks
_SENTENCE = re.compile(rf"[^{_ENDS}\n]*(?:[{_ENDS}]+(?=\s|$)|\n|$)|[^\n]+")
_WORDS = re.compile(r"[\w']+")
_COMMA_PIECE = re.compile(r"[^,:]+")
_CLAUSE_BREAK = re.compile(r",?\s+\b(?:but|however|although|though|whereas)\b,?\s*|;\s*|\s+-\s+|\s+—\s+", re.I)
_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|can't|cant|won't|wont|don't|dont|doesn't|doesnt|didn't|isn't|aren't|wasn't|"
    r"shouldn't|wouldn't|couldn't|unable|without|neither|nor|hardly|impossible)\b|n't\b",
    re.I,
)


class Segment(NamedTuple):
    """A piece of a text with its character offsets in the text (a named tuple: a reply has thousands)."""

    start: int
    end: int
    text: str


_new = tuple.__new__  # Segment's own constructor is a Python function: a reply has thousands of segments


def normalise(text: str) -> str:
    """Straight quotes and apostrophes, so patterns need one spelling.

    Example:
        >>> normalise("can\u2019t")
        "can't"
    """
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')


def sentences(text: str) -> list[Segment]:
    """Sentences (split after ``.!?`` and at line breaks), stripped, with their offsets.

    The splitters remember the last texts they split: every rule asks for the same replies' pieces.
    """
    return list(_sentences(text))


@text_cache()
def _sentences(text: str) -> tuple[Segment, ...]:
    if SPEEDUPS is not None:  # the same spans, found in C
        return SPEEDUPS.segments(Segment, text, SPEEDUPS.line_sentences(text))
    out = []
    for m in _SENTENCE.finditer(text):
        raw = m.group(0)
        if not raw.strip():
            continue
        lead = len(raw) - len(raw.lstrip())
        body = raw.strip()
        out.append(Segment(m.start() + lead, m.start() + lead + len(body), body))
    return tuple(out)


def clauses(text: str) -> list[Segment]:
    """Sentences split further at "but", "however", ";" and dashes (a hotel's "no ..., but ...")."""
    return list(_clauses(text))


@text_cache()
def _clauses(text: str) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for s in sentences(text):
        _add_clauses(s, out)
    return tuple(out)


def _add_clauses(s: Segment, out: list[Segment]) -> None:
    """The clauses of sentence ``s``, added to ``out``."""
    breaks = _CLAUSE_BREAK.finditer(s.text)
    first = next(breaks, None)
    if first is None:  # (most sentences: one clause, the sentence itself)
        out.append(s)
        return
    pos = 0
    for br in chain((first,), breaks):
        piece = s.text[pos : br.start()]
        if piece.strip():
            out.append(_new(Segment, (s.start + pos, s.start + br.start(), piece)))
        pos = br.end()
    piece = s.text[pos:]
    if piece.strip():
        out.append(_new(Segment, (s.start + pos, s.start + len(s.text), piece)))


def commas(text: str) -> list[Segment]:
    """Clauses split further at commas and colons ("That's too low, we'd need 110").

    Example:
        >>> [c.text for c in commas("No, that's too low, but 110 works.")]
        ['No', "that's too low", '110 works.']
    """
    return list(_commas(text))


def sentence_commas(sentence: Segment) -> list[Segment]:
    """The pieces :func:`commas` gives for one of a text's :func:`sentences` (the same, in order).

    Example:
        >>> [c.text for c in sentence_commas(sentences("Hi. No, but 110 works.")[1])]
        ['No', '110 works.']
    """
    clauses: list[Segment] = []
    _add_clauses(sentence, clauses)
    out: list[Segment] = []
    for c in clauses:
        _add_commas(c, out)
    return out


@text_cache()
def _commas(text: str) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for c in clauses(text):
        _add_commas(c, out)
    return tuple(out)


def _add_commas(c: Segment, out: list[Segment]) -> None:
    """The pieces of clause ``c`` between commas and colons, stripped, added to ``out``."""
    if "," not in c.text and ":" not in c.text:  # one piece: the clause, stripped
        body = c.text.strip()
        if body == c.text:
            out.append(c)
        elif body:
            out.append(_new(Segment, (c.start + len(c.text) - len(c.text.lstrip()), c.end, body)))
        return
    for m in _COMMA_PIECE.finditer(c.text):
        piece = m.group(0)
        body = piece.strip()
        if body:
            start = c.start + m.start() + len(piece) - len(piece.lstrip())
            out.append(_new(Segment, (start, c.start + m.end(), body)))


def segment_at(segments: list[Segment], pos: int) -> Segment | None:
    """The segment holding character ``pos``, by bisection (``segments`` sorted and apart, as the splitters give them).

    Example:
        >>> segment_at(sentences("Hi. Bye."), 5).text
        'Bye.'
    """
    i = bisect_right(segments, pos, key=_start) - 1
    if i >= 0 and segments[i].start <= pos < segments[i].end:
        return segments[i]
    return None


def _start(segment: Segment) -> int:
    return segment.start


def is_negated(text: str, start: int, window: int = 4) -> bool:
    """Whether one of the ``window`` words before ``start`` negates what follows.

    Example:
        >>> t = "We cannot guarantee bookings"
        >>> is_negated(t, t.index("guarantee"))
        True
    """
    # the last words before ``start``: read a short stretch, longer only while it holds too few
    # of them (the first word of a stretch may be cut), so a long text is never read whole
    size = 64
    while True:
        lo = max(0, start - size)
        words = _WORDS.findall(normalise(text[lo:start]))
        if lo == 0 or len(words) > window:
            break
        size *= 4
    return bool(_NEGATION.search(" ".join(words[-window:])))


def find_terms(text: str, terms: list[str]) -> list[tuple[int, int, str]]:
    """Case-insensitive whole-word occurrences of any term (plural ``s`` allowed), longest first.

    Example:
        >>> find_terms("Two Junior Suites and a twin", ["junior suite", "twin"])
        [(4, 17, 'junior suite'), (24, 28, 'twin')]
    """
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []  # sorted and apart: an overlap check is a bisection
    for term, pattern in _term_patterns(tuple(sorted(set(terms), key=len, reverse=True))):
        for m in pattern.finditer(text):
            a, b = m.span()
            i = bisect_right(taken, (a, b))
            if (i and taken[i - 1][1] > a) or (i < len(taken) and taken[i][0] < b):
                continue
            found.append((a, b, term))
            insort(taken, (a, b))
    return sorted(found)


@lru_cache(maxsize=256)
def _term_patterns(terms: tuple[str, ...]) -> list[tuple[str, re.Pattern[str]]]:
    """Compiled once per list of terms (a task's room names): longest first."""
    return [
        (t, re.compile(r"(?<![\w])" + r"[\s-]+".join(map(re.escape, t.split())) + r"(?:e?s)?(?![\w])", re.I))
        for t in terms
        if t
    ]
