"""Where a match can start, read off a compiled regular expression, and a search that tries only there.

Python's regex engine has no fast scan for a case-insensitive pattern: it runs the
pattern at every position of the text, which costs 25-50 ns a character for each
alternative of a rule. Most of the rules' patterns can only start with one of a few
words (``\\blet me``, ``\\bthe\\s+user``) or at a line start (``^``): :func:`starts`
reads those from the pattern, :func:`lowered` gives the text in which they are
found in one Aho-Corasick pass, and :func:`merged_finditer` runs each pattern only at
the positions where it can start (``pattern.match(text, pos)``), merging the
alternatives' matches into those of their union (leftmost first, the earlier
alternative first at one position, none overlapping).

Example:
    >>> import re
    >>> where = starts(re.compile(r"\\b(?:let(?:'s| me)\\s+)?think|^\\s*plan:", re.I | re.M))
    >>> sorted(where.words), sorted(where.bounded), where.line
    (['let me', "let's", 'think'], ['let me', "let's", 'think'], True)
    >>> starts(re.compile(r"\\w+ing")) is None  # a class of letters: it may start anywhere
    True
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, islice
from typing import Any

try:  # every known start word found in a long text in one pass (Rust); without it, one search per word
    from ahocorasick_rs import AhoCorasick
except ImportError:  # pragma: no cover - a dependency of the core
    AhoCorasick = None  # type: ignore[misc,assignment]  # the class or None: the speed-up is optional

try:  # the regex parser of the standard library (a private module; its place moved in 3.11)
    from re import _parser as _sre_parse  # type: ignore[attr-defined]  # not in typeshed for 3.10
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse

__all__ = [
    "Starts",
    "anchored_finditer",
    "lowered",
    "merged_finditer",
    "min_width",
    "occurrences",
    "positions",
    "starts",
]

_MAX_WORDS = 64  # a pattern that may start with more words than this is searched as it is
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


@dataclass(frozen=True)
class Starts:
    """Where every match of a pattern starts: with one of ``words`` in :func:`lowered` text, at a line
    start (``line``: position 0 or after ``"\\n"``) or at the start of the text (``begin``)."""

    words: frozenset[str]
    line: bool
    begin: bool
    bounded: frozenset[str] = frozenset()  # words only ever met after ``\\b``: where the character before is no letter


class _Unknown(Exception):
    """A pattern may start with something other than a few literal words."""


def starts(pattern: re.Pattern[str]) -> Starts | None:
    """Where every match of ``pattern`` starts (None: anywhere, or the parser's shape is unknown)."""
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
        try:  # words run on into what must follow them, while that keeps them few; else their literal runs
            found, nullable = _first(list(parsed), parsed.state.flags, False, None, _MAX_AFTER)
        except _Unknown:
            found, nullable = _first(list(parsed), parsed.state.flags, False)
    except Exception:  # _Unknown, or a parser shape this reading does not know
        return None
    if nullable or not found:
        return None
    met = {w for w, _ in found if isinstance(w, str)}
    # a word that starts with a shorter one is found where that one is: the shorter one is enough
    words = frozenset(w for w in met if not any(w != v and w.startswith(v) for v in met))
    free = {w for w, bounded in found if isinstance(w, str) and not bounded}
    bounded = frozenset(w for w in words if _is_word(w[0]) and not any(v.startswith(w) for v in free))
    _KNOWN.add(words)
    return Starts(words, (_LINE, False) in found or (_LINE, True) in found, any(w is _BEGIN for w, _ in found), bounded)


def min_width(pattern: re.Pattern[str]) -> int:
    """The fewest characters a match of ``pattern`` spans (0 when unknown).

    Example:
        >>> min_width(re.compile(r"\\bno+\\b")), min_width(re.compile(r"x?"))
        (2, 0)
    """
    try:
        return int(_sre_parse.parse(pattern.pattern, pattern.flags).getwidth()[0])
    except Exception:
        return 0


_LINE, _BEGIN = object(), object()


def _first(
    items: list[Any], flags: int, bounded: bool, rest: list[Any] | None = None, after: int = 0
) -> tuple[set[Any], bool]:
    """The words (and line or text starts) a match of ``items`` starts with, each with whether a ``\\b``
    comes right before it (``bounded``: one did already), and whether the match may be empty. ``rest``:
    what follows ``items`` in the pattern (read with the same flags), which a word may run on into, in at
    most ``after`` ways (0: a word is its run of literal characters)."""
    rest = rest or []
    found: set[Any] = set()
    i = 0
    while i < len(items):
        op, av = items[i]
        name = str(op)
        if name == "LITERAL":  # the longest run of literal characters
            run = []
            while i < len(items) and str(items[i][0]) == "LITERAL" and chr(items[i][1]).isascii():
                run.append(chr(items[i][1]).lower())
                i += 1
            if not run:
                raise _Unknown
            word = "".join(run)  # and what must follow it: "(?:a |an )?" starts with "a " or "an ", not "a"
            found |= {(word + more, bounded) for more in (_prefixes(items[i:] + rest, after) if after else [""])}
            return found, False
        if name == "AT":
            at = str(av)
            if at in ("AT_BEGINNING", "AT_BEGINNING_STRING"):  # every match of this path starts there
                found.add((_LINE if at == "AT_BEGINNING" and flags & re.M else _BEGIN, bounded))
                return found, False
            # a word boundary (a Unicode one: the character before a word is no letter) or an end:
            # zero-width, it only narrows where a match starts
            bounded = bounded or (at == "AT_BOUNDARY" and not flags & (re.A | re.L))
            i += 1
            continue
        if name in ("ASSERT", "ASSERT_NOT"):  # lookarounds are zero-width too; (?<!\w) is a word's start
            bounded = bounded or (name == "ASSERT_NOT" and _no_letter_before(av) and not flags & (re.A | re.L))
            i += 1
            continue
        then = items[i + 1 :] + rest
        if name == "SUBPATTERN":
            _, add, remove, sub = av
            more, nullable = _first(
                list(sub), (flags | add) & ~remove, bounded, then if not add | remove else None, after
            )
        elif name == "ATOMIC_GROUP":
            more, nullable = _first(list(av), flags, bounded, None, after)
        elif name == "BRANCH":
            more, nullable = set(), False
            for branch in av[1]:
                got, empty = _first(list(branch), flags, bounded, then, after)
                more |= got
                nullable = nullable or empty
        elif name in _REPEATS:
            low, high, sub = av
            more, empty = _first(list(sub), flags, bounded, then if high == 1 else None, after)
            nullable = low == 0 or empty
        elif name == "IN":  # a class of a few literal characters
            more, nullable = set(), False
            for cop, cav in av:
                if str(cop) != "LITERAL" or not chr(cav).isascii():
                    raise _Unknown
                more.add((chr(cav).lower(), bounded))
        else:  # any character, classes of categories or ranges, back-references: anywhere
            raise _Unknown
        found |= more
        if len(found) > _MAX_WORDS:
            raise _Unknown
        if not nullable:
            return found, False
        i += 1
    return found, True


_MAX_AFTER = 16  # ways a word may run on (more: the word alone)
_AFTER_CHARS = 12  # characters a word may run on by


def _prefixes(items: list[Any], limit: int, room: int = _AFTER_CHARS) -> set[str]:
    """Strings one of which starts every match of ``items`` ("": nothing known), at most ``limit`` of them:
    literal characters, alternatives and optional parts read on while they stay that few."""
    i = 0
    while i < len(items) and room > 0:
        op, av = items[i]
        name = str(op)
        if name == "LITERAL":
            if not chr(av).isascii():
                return {""}
            return {chr(av).lower() + more for more in _prefixes(items[i + 1 :], limit, room - 1)}
        if name in ("AT", "ASSERT", "ASSERT_NOT"):  # zero-width: the characters after it start the match
            i += 1
            continue
        after = items[i + 1 :]
        if name == "IN":
            if not all(str(cop) == "LITERAL" and chr(cav).isascii() for cop, cav in av):
                return {""}
            heads = {chr(cav).lower() for _, cav in av}
            if len(heads) > limit:
                return {""}
            tails = _prefixes(after, limit // len(heads), room - 1)
            return {h + t for h in heads for t in tails}
        if name == "SUBPATTERN" and not av[1] | av[2]:
            return _prefixes(list(av[3]) + after, limit, room)
        if name == "BRANCH":
            found: set[str] = set()
            for branch in av[1]:
                found |= _prefixes(list(branch) + after, limit, room)
                if len(found) > limit:
                    return {""}
            return found
        if name in _REPEATS and av[1] == 1:  # optional (or once): with it, and without it when it may be left out
            found = _prefixes(list(av[2]) + after, limit, room)
            if av[0] == 0:
                found |= _prefixes(after, limit, room)
            return found if len(found) <= limit else {""}
        return {""}
    return {""}


def _no_letter_before(av: Any) -> bool:
    """Whether a negative lookaround is ``(?<!\\w)``: no word character right before."""
    direction, sub = av
    items = list(sub)
    if direction != -1 or len(items) != 1 or str(items[0][0]) != "IN":
        return False
    return [(str(op), str(arg)) for op, arg in items[0][1]] == [("CATEGORY", "CATEGORY_WORD")]


# the last text lowered and its lowered text (every rule asks for the same reply), as one pair: threads that
# score other replies at the same time replace the pair whole, so a reader never mixes two of them
_last: list[tuple[str | None, str | None]] = [(None, None)]


def lowered(text: str, folded: str | None = None, lower: str | None = None) -> str | None:
    """``text`` lower-cased character for character, so that where a case-insensitive (or any) pattern
    matches an ASCII word, the word is there in lower case at the same offset (None: lengths differ).
    ``folded`` (:func:`repo_sdk.rules.text.fold`) and ``lower`` (``text.lower()``) of the text are reused
    when given.

    Example:
        >>> lowered("LET \u017fTEP \u0130T"), lowered("ABC", folded="abc")
        ('let step it', 'abc')
    """
    if text.isascii():
        if lower is not None:
            return lower
        return folded if folded is not None and len(folded) == len(text) else text.lower()
    held = _last[0]
    if held[0] is text:
        return held[1]
    # the characters the engine matches, case-insensitively, to an ASCII letter of another lower case
    if lower is not None and "\u0130" not in text and "\u0131" not in text and "\u017f" not in text:
        low = lower
    else:
        low = text.replace("\u0130", "i").replace("\u0131", "i").replace("\u017f", "s").lower()
    _last[0] = held = (text, low if len(low) == len(text) else None)
    return held[1]


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"  # what the engine's Unicode \\b counts as a word character


def positions(text: str, low: str, where: Starts, found: dict[str, list[int]] | None = None) -> list[int]:
    """Every position of ``text`` where a pattern starting ``where`` may start, in order (``low``:
    :func:`lowered` text; ``found`` keeps each word's offsets in ``low`` for the next pattern that starts
    with it; None: kept for every pattern asked about the same ``low`` object, until another is asked about).

    Example:
        >>> text = "Plan: the user.\\nThen THE end"
        >>> positions(text, lowered(text), starts(re.compile(r"\\bthe\\b|^plan", re.I | re.M)))
        [0, 6, 16, 21]
    """
    if found is None:
        held = _SHARED[0]  # (one pair, replaced whole: see _last)
        if held[0] is not low:  # (held here, the text cannot be freed and its identity reused)
            _SHARED[0] = held = (low, _KNOWN.find_all(low) if len(low) >= _ONE_PASS_FROM else {})
        found = held[1]
    out: list[int] = [0] if where.line or where.begin else []
    words = [*where.words, "\n"] if where.line else where.words
    for word in words:
        at = found.get(word)
        if at is None:
            at = found[word] = occurrences(low, word)
        if word == "\n" and where.line:
            out += [q + 1 for q in at]
            if word not in where.words:
                continue
        if word in where.bounded:  # (the test of _is_word, inline: it runs for every word found)
            out += [q for q in at if not q or not (text[q - 1].isalnum() or text[q - 1] == "_")]
        else:
            out += at
    if len(words) > 1 or where.line or where.begin:
        out = sorted(set(out))
    return out


_SHARED: list[tuple[str | None, dict[str, list[int]]]] = [(None, {})]  # the last lowered text asked about,
# and each word's offsets in it
_ONE_PASS_FROM = 65_536  # texts this long find every known start word in one pass, present or not


class _KnownWords:
    """Every start word :func:`starts` has read so far, and an automaton that finds them all in a text at once:
    a long text would otherwise be searched end to end once per word, for words it lacks too."""

    def __init__(self) -> None:
        self.words: tuple[str, ...] = ()
        self._built: tuple[tuple[str, ...], Any] = ((), None)  # the words an automaton was built for, and it

    def add(self, words: frozenset[str]) -> None:
        new = words.difference(self.words)
        if new:
            self.words = (*self.words, *sorted(new))

    def find_all(self, low: str) -> dict[str, list[int]]:
        """Each known word's offsets in ``low`` (empty when there is no automaton or it cannot read ``low``)."""
        words, automaton = self._built  # (one pair: another thread may add words meanwhile)
        if words is not self.words:
            words = self.words
            if AhoCorasick is None or not words:
                return {}
            automaton = AhoCorasick(words)
            self._built = (words, automaton)
        try:
            matches = automaton.find_matches_as_indexes(low, overlapping=True)
        except UnicodeEncodeError:  # half of a surrogate pair: not UTF-8, so one search per word
            return {}
        at: list[list[int]] = [[] for _ in words]
        for i, start, _ in matches:  # (in order of their ends: one word's starts in order)
            at[i].append(start)
        return dict(zip(words, at, strict=True))


_KNOWN = _KnownWords()


def occurrences(text: str, word: str) -> list[int]:
    """Every offset where ``word`` (not empty) starts in ``text``, overlapping ones included, in order.

    A word found many times in a long text is found by one ``str.split`` and a running sum of the
    pieces' lengths (no Python step per occurrence), when no two of its occurrences can overlap.

    Example:
        >>> occurrences("a banana", "an"), occurrences("aaaa", "aa")
        ([3, 5], [0, 1, 2])
    """
    find, q = text.find, text.find(word)
    if q < 0:
        return []
    at = [q]
    q = find(word, q + 1)
    if q >= 0 and len(text) >= _SPLIT_FROM and not _overlaps(word):
        pieces = text.split(word)
        step = len(word).__add__  # an occurrence starts a word and a piece after the last one
        return list(accumulate(map(step, map(len, islice(pieces, 1, len(pieces) - 1))), initial=len(pieces[0])))
    while q >= 0:
        at.append(q)
        q = find(word, q + 1)
    return at


_SPLIT_FROM = 4096  # texts this long find a word's occurrences by splitting


@lru_cache(maxsize=4096)
def _overlaps(word: str) -> bool:
    """Whether two occurrences of ``word`` can overlap (a proper prefix of it is also a suffix)."""
    return any(word[:k] == word[-k:] for k in range(1, len(word)))


def merged_finditer(
    text: str, patterns: Sequence[re.Pattern[str]], candidates: Sequence[list[int] | None]
) -> Iterator[re.Match[str]]:
    """The matches of the union of ``patterns`` (none of them matching empty), as ``finditer`` finds them.

    ``candidates[i]`` lists, in order, every position where a match of ``patterns[i]`` may start
    (None: anywhere). The union's next match starts where the earliest of the alternatives' next
    matches starts, and is the match of the first alternative matching there; it ends where the
    search for the one after it starts.

    Example:
        >>> patterns = [re.compile(r"ab"), re.compile(r"a"), re.compile(r"bc")]
        >>> [m.group() for m in merged_finditer("abc bc a", patterns, [None, None, None])]
        ['ab', 'bc', 'a']
    """
    pointers = [0] * len(patterns)

    def after(i: int, pos: int) -> re.Match[str] | None:
        where = candidates[i]
        if where is None:
            return patterns[i].search(text, pos)
        j = bisect_left(where, pos, pointers[i])
        match = patterns[i].match
        for j in range(j, len(where)):  # noqa: B020 - j moves on from where the last search stopped
            m = match(text, where[j])
            if m is not None:
                pointers[i] = j
                return m
        pointers[i] = len(where)
        return None

    ahead = {i: m for i in range(len(patterns)) if (m := after(i, 0)) is not None}
    while ahead:
        first = min(ahead, key=lambda k: (ahead[k].start(), k))
        m = ahead[first]
        yield m
        end = m.end()
        for k in [k for k, found in ahead.items() if found.start() < end]:
            found = after(k, end)
            if found is None:
                del ahead[k]
            else:
                ahead[k] = found


def anchored_finditer(
    pattern: re.Pattern[str], text: str, where: Starts | None, folded: str | None = None
) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, the pattern tried only where it may start (``where``: :func:`starts` of
    it; the pattern must not match an empty string). ``folded``: :func:`repo_sdk.rules.text.fold` of the
    text, when known (an ASCII text's lowered text is then that object, whose words' offsets are kept).

    Example:
        >>> p = re.compile(r"\\bmay\\s+\\d+", re.I)
        >>> [m.group() for m in anchored_finditer(p, "In MAY 3 or may 4, dismay 5", starts(p))]
        ['MAY 3', 'may 4']
    """
    low = lowered(text, folded) if where is not None else None
    if low is None or where is None:
        return pattern.finditer(text)
    return merged_finditer(text, [pattern], [positions(text, low, where)])
