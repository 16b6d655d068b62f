"""Cues searched with only the phrases whose words a reply holds.

A cue here is an alternation of dozens of phrases (:mod:`repo_sdk_negotiation.cues`,
the rules' own patterns). Python's regex engine tries every phrase at every position
of a reply, though most replies hold the words of only a few. :func:`union_for`
splits a cue into its phrases (:func:`alternatives`), reads the words each phrase
needs (:class:`repo_sdk.rules.prefilter.Prefilter`), and gives, for one reply, the
union of the phrases whose words the reply holds: it finds what the whole cue finds,
in the reply and in any piece of it. Which words a reply holds is found once per
reply for every cue together (one Aho-Corasick pass for the long words, a substring
test for each short one), and the union for a given mix of words is looked up.

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

from ahocorasick_rs import AhoCorasick, Implementation

from repo_sdk.rules.anchors import Starts, anchored_finditer, min_width, starts
from repo_sdk.rules.prefilter import Prefilter
from repo_sdk.rules.speedups import SPEEDUPS

__all__ = ["alternatives", "finditer_for", "union_for"]

_LONG = 3  # words this long are found by the automaton; shorter ones (in most texts) by a substring test each
_SETTLED = 64  # texts searched with the same words, after which they are searched with a DFA
_KEPT_TEXTS = 8  # texts whose words are kept (the rules of a reply ask about the reply, its hotel turn, ...)
_KEPT_UNIONS = 4096  # unions a cue keeps, one per mix of its needs texts meet
_ANCHORED_FROM = 4096  # texts this long are searched only where a match may start (shorter: a scan is cheaper)


class _Cue:
    """A cue's phrases, and which of the words they need a text must hold for each to match.

    Each distinct set of words a phrase needs (one of them in the text) is a bit; a
    word sets the bits of the sets holding it, and a phrase may match when the text's
    words set all of its bits. The union is looked up by the bits a text sets.
    """

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.phrases = alternatives(pattern.pattern)
        needs = [Prefilter(re.compile(p, pattern.flags)).needs for p in self.phrases]
        bit = {group: 1 << i for i, group in enumerate(dict.fromkeys(g for n in needs for g in n))}
        self.needed = [sum(bit[g] for g in set(n)) for n in needs]  # per phrase: the bits it needs
        self.bits: dict[str, int] = {}  # word -> the bits of the sets holding it
        for group, b in bit.items():
            for w in group:
                self.bits[w] = self.bits.get(w, 0) | b
        self.words = frozenset(self.bits)
        self.unions: dict[int, re.Pattern[str] | None] = {}

    def union(self, bits: int) -> re.Pattern[str] | None:
        """The union of the phrases whose every needed set has a word among ``bits``."""
        found = self.unions.get(bits, _MISSING)
        if found is _MISSING:
            keep = [i for i, needed in enumerate(self.needed) if needed & bits == needed]
            if len(keep) == len(self.phrases):
                found = self.pattern  # every phrase may match: the cue as written
            elif keep:
                found = re.compile("|".join(f"(?:{self.phrases[i]})" for i in keep), self.pattern.flags)
            else:
                found = None
            if len(self.unions) >= _KEPT_UNIONS:
                self.unions.clear()
            self.unions[bits] = found
        return found


_MISSING = re.compile("")  # a marker no union is


class _Index:
    """Every cue asked about, and the words of theirs each recent text holds."""

    def __init__(self) -> None:
        self.cues: dict[int, _Cue] = {}  # id(pattern) -> its cue (which holds the pattern, so the id stays its)
        self.longs: frozenset[str] = frozenset()
        self.shorts: tuple[str, ...] = ()
        self.automaton: AhoCorasick | None = None
        self.texts: dict[str, frozenset[str]] = {}
        self.searched = 0  # texts searched since the words last changed

    def cue(self, pattern: re.Pattern[str]) -> _Cue:
        cue = self.cues.get(id(pattern))
        if cue is None or cue.pattern is not pattern:
            if len(self.cues) >= 1024:  # patterns compiled per rule object come and go
                self.cues.clear()
            cue = self.cues[id(pattern)] = _Cue(pattern)
            if not cue.words <= self.longs.union(self.shorts):
                self.longs |= {w for w in cue.words if len(w) >= _LONG}
                self.shorts = tuple(sorted(set(self.shorts) | {w for w in cue.words if len(w) < _LONG}))
                self.automaton, self.texts, self.searched = None, {}, 0  # texts' words found before miss the new
        return cue

    def present(self, folded: str) -> frozenset[str]:
        """The cue words ``folded`` holds (as substrings)."""
        found = self.texts.get(folded)
        if found is None:
            self.searched += 1
            if self.automaton is None or self.searched == _SETTLED:
                # while rules meet their cues (each adding words), an automaton quick to build; once the words have
                # gone _SETTLED texts unchanged, a DFA (four times the build, a fifth faster per reply)
                dfa = {"implementation": Implementation.DFA} if self.searched >= _SETTLED else {}
                self.automaton = AhoCorasick(sorted(self.longs), store_patterns=True, **dfa)
            try:
                longs = self.automaton.find_matches_as_strings(folded, overlapping=True)
            except UnicodeEncodeError:  # half of a surrogate pair: not UTF-8, so not for the automaton
                longs = [w for w in self.longs if w in folded]
            if SPEEDUPS is not None:  # (tested in C: no Python step per word)
                shorts = SPEEDUPS.substrings_present(folded, self.shorts)
            else:
                shorts = [w for w in self.shorts if w in folded]
            found = frozenset([*longs, *shorts])
            if len(self.texts) >= _KEPT_TEXTS:
                self.texts.clear()
            self.texts[folded] = found
        return found


_INDEX = _Index()


def union_for(pattern: re.Pattern[str], folded: str) -> re.Pattern[str] | None:
    """What of ``pattern`` may match a text whose :func:`repo_sdk.rules.text.fold` is ``folded``.

    The union of the pattern's :func:`alternatives` whose words the text holds, the
    pattern itself when all may match, None when none may: in that text, and in any
    piece of it, it finds what ``pattern`` finds.
    """
    cue = _INDEX.cue(pattern)
    bits, of = 0, cue.bits
    for word in _INDEX.present(folded) & cue.words:
        bits |= of[word]
    return cue.union(bits)


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
