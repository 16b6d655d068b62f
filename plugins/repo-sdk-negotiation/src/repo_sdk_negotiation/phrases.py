"""Cues searched with only the phrases whose words a reply holds.

A cue here is an alternation of dozens of phrases (:mod:`repo_sdk_negotiation.cues`,
the rules' own patterns). Python's regex engine tries every phrase at every position
of a reply, though most replies hold the words of only a few. :func:`union_for`
splits a cue into its phrases (:func:`alternatives`), reads the words each phrase
needs (:class:`repo_sdk.rules.prefilter.Prefilter`), and gives, for one reply, the
union of the phrases whose words the reply holds: it finds what the whole cue finds,
in the reply and in any piece of it. Which words a reply holds is found once per
reply for every cue together (:mod:`repo_sdk.rules.words`), and the union for a
given mix of words is looked up.

Example:
    >>> import re
    >>> cue = re.compile(r"\\b(?:work order|tickets?|target price)\\b", re.I)
    >>> union_for(cue, "per the work order, ok").pattern, union_for(cue, "hello")
    ('(?:\\\\b(?:work order)\\\\b)', None)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from repo_sdk.rules.anchors import Starts, anchored_finditer, min_width, starts
from repo_sdk.rules.prefilter import Prefilter
from repo_sdk.rules.words import WORDS, Needs

__all__ = ["alternatives", "finditer_for", "union_for"]

_KEPT_UNIONS = 4096  # unions a cue keeps, one per mix of its phrases texts allow
_KEPT_CUES = 1024  # cues kept (patterns compiled per rule object come and go)
_ANCHORED_FROM = 4096  # texts this long are searched only where a match may start (shorter: a scan is cheaper)


class _Cue:
    """A cue's phrases, and the words each needs (:class:`repo_sdk.rules.words.Needs`). The union is looked up
    by the phrases a text's words allow."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.phrases = alternatives(pattern.pattern)
        self.needs = Needs(WORDS, [Prefilter(re.compile(p, pattern.flags)).needs for p in self.phrases])
        self.unions: dict[int, re.Pattern[str] | None] = {}

    def union(self, met: int) -> re.Pattern[str] | None:
        """The union of the phrases ``met`` (:meth:`repo_sdk.rules.words.Needs.met_in` of a text) allows."""
        union = self.unions.get(met, _MISSING)
        if union is _MISSING:
            keep = [i for i in range(len(self.phrases)) if met >> i & 1]
            if len(keep) == len(self.phrases):
                union = self.pattern  # every phrase may match: the cue as written
            elif keep:
                union = re.compile("|".join(f"(?:{self.phrases[i]})" for i in keep), self.pattern.flags)
            else:
                union = None
            if len(self.unions) >= _KEPT_UNIONS:
                self.unions.clear()
            self.unions[met] = union
        return union


_MISSING = re.compile("")  # a marker no union is
_CUES: dict[int, _Cue] = {}  # id(pattern) -> its cue (which holds the pattern, so the id stays its)


def union_for(pattern: re.Pattern[str], folded: str) -> re.Pattern[str] | None:
    """What of ``pattern`` may match a text whose :func:`repo_sdk.rules.text.fold` is ``folded``.

    The union of the pattern's :func:`alternatives` whose words the text holds, the
    pattern itself when all may match, None when none may: in that text, and in any
    piece of it, it finds what ``pattern`` finds.
    """
    cue = _CUES.get(id(pattern))
    if cue is None or cue.pattern is not pattern:
        if len(_CUES) >= _KEPT_CUES:
            _CUES.clear()
        cue = _CUES[id(pattern)] = _Cue(pattern)
    union = cue.unions.get(met := cue.needs.met_in(folded), _MISSING)  # (a dozen calls a reply: the lookup inline)
    return cue.union(met) if union is _MISSING else union


def finditer_for(pattern: re.Pattern[str], text: str, folded: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, searched with :func:`union_for` and, in a long text, only where a match
    may start (:func:`repo_sdk.rules.anchors.anchored_finditer`): the engine runs a case-insensitive
    pattern at every position, which a long reply pays for every cue.

    Example:
        >>> cue = re.compile(r"\\b(?:work order|tickets?)\\b", re.I)
        >>> text = "Per the WORK ORDER, two tickets. " * 200
        >>> [m.group() for m in finditer_for(cue, text, text.lower())][:3]
        ['WORK ORDER', 'tickets', 'WORK ORDER']
    """
    union = union_for(pattern, folded)
    if union is None:
        return iter(())
    if len(text) < _ANCHORED_FROM:
        return union.finditer(text)
    return anchored_finditer(union, text, _starts_of(union), folded)  # (words' offsets shared by the cues)


@lru_cache(maxsize=4096)
def _starts_of(pattern: re.Pattern[str]) -> Starts | None:
    """Where ``pattern``'s matches start (None: anywhere, or it may match an empty string)."""
    return starts(pattern) if min_width(pattern) > 0 else None


def alternatives(pattern: str) -> list[str]:
    """A pattern as a list of patterns whose union (``(?:a)|(?:b)|...``) finds what it finds.

    Splits the top-level alternation, and the alternation of a part written
    ``\\b(?:a|b|...)\\b`` (a zero-width boundary before and after, which tries each
    alternative at a position in the same order). A pattern of another shape is one
    alternative.

    Example:
        >>> alternatives(r"\\b(?:work order|ticket)s?\\b|\\bSOP\\b")
        ['\\\\b(?:work order|ticket)s?\\\\b', '\\\\bSOP\\\\b']
        >>> alternatives(r"\\b(?:deal|agreed)\\b")
        ['\\\\b(?:deal)\\\\b', '\\\\b(?:agreed)\\\\b']
    """
    out = []
    for part in _split_top(pattern):
        lead = "\\b" if part.startswith("\\b(?:") else ""
        tail = "\\b" if part.endswith(")\\b") else ""
        body = part[len(lead) : len(part) - len(tail)]
        if body.startswith("(?:") and _closing(body, 0) == len(body) - 1:
            out += [f"{lead}(?:{alt}){tail}" for alt in _split_top(body[3:-1])]
        else:
            out.append(part)
    return out


def _split_top(pattern: str) -> list[str]:
    """``pattern`` cut at each ``|`` outside groups and classes."""
    parts, start = [], 0
    for i, c, depth in _structure(pattern, 0):
        if c == "|" and not depth:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts


def _closing(pattern: str, i: int) -> int:
    """The index of the ``)`` closing the group opened at ``i``."""
    for j, c, depth in _structure(pattern, i):
        if c == ")" and not depth:
            return j
    raise ValueError(f"unbalanced group at {i} in {pattern!r}")


def _structure(pattern: str, i: int) -> Iterator[tuple[int, str, int]]:
    """``(index, character, group depth after it)`` of the characters of ``pattern`` from ``i`` that
    shape it: escapes and character classes are stepped over whole."""
    depth = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 1
        elif c == "[":
            i = _class_end(pattern, i)
        else:
            depth += (c == "(") - (c == ")")
            yield i, c, depth
        i += 1


def _class_end(pattern: str, i: int) -> int:
    """The index of the ``]`` closing the class opened at ``i``."""
    i += 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":  # a "]" first in a class is a literal
        i += 1
    while pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i
