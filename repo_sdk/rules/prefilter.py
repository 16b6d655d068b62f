"""Cheap "could this pattern match at all?" tests, read off a compiled regular expression.

Python's regex engine tries an alternation of words at every position of a text,
which makes a rule with a dozen phrases cost far more than the text is long. Most
replies hold none of the words such a pattern needs, though, and a substring test
is a fast scan. :class:`Prefilter` reads the literal words a pattern cannot match
without (``"step"`` for ``step[- ]by[- ]step``; one of ``"ticket"`` / ``"work"`` for
``ticket|work order``) from the pattern itself, so it stays right when the pattern
changes. Test them against :func:`repo_sdk.rules.text.fold` of the text: when they
are missing, the pattern finds nothing, and skipping it changes no result.

Example:
    >>> import re
    >>> p = Prefilter(re.compile(r"\\blet me think\\b|step[- ]by[- ]step", re.I))
    >>> p.may_match("so, let me think."), p.may_match("no reasoning here")
    (True, False)
    >>> Prefilter(re.compile(r"\\d+ euros?")).may_match("anything")  # needs " euro"
    False
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from itertools import product
from typing import Any

try:  # a multi-word search in one pass (Rust); without it each word is a substring test of its own
    from ahocorasick_rs import AhoCorasick, Implementation

    _DFA = Implementation.DFA
except ImportError:  # pragma: no cover - an optional speed-up
    AhoCorasick = _DFA = None  # type: ignore[misc,assignment]  # the class or None: the speed-up is optional

try:  # the regex parser of the standard library (a private module; its place moved in 3.11)
    from re import _parser as _sre_parse  # type: ignore[attr-defined]  # not in typeshed for 3.10
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse

from repo_sdk.rules.anchors import lowered, merged_finditer, min_width, positions, starts
from repo_sdk.rules.text import fold

__all__ = ["Alternation", "Prefilter", "prefilter"]

Needs = list[frozenset[str]]  # every set must have one of its strings in the text
_MAX_WORDS = 64  # a need of more words than this is not tested (it would rarely fail)
_MAX_PICKS = 16  # needs read off one alternation of patterns


class Prefilter:
    """The literal words (case-folded) a compiled pattern needs; :meth:`may_match` tests a folded text.

    Attributes:
        needs: each set holds words of which the text must contain at least one (all sets must be met).
    """

    def __init__(self, pattern: re.Pattern[str]) -> None:
        try:
            needs = _needs(_sre_parse.parse(pattern.pattern, pattern.flags))
        except Exception:  # an unknown parser shape: no prefilter, every text may match
            needs = []
        # a substring test is several times cheaper than a search of an alternation of words,
        # even one per word of a long list. A need fails (and ends the test) when none of its words
        # is in the text: the needs whose shortest word is longest first (short words are everywhere)
        kept = [g for g in needs if len(g) <= _MAX_WORDS]
        self.needs: Needs = sorted(kept, key=lambda g: (-min(map(len, g)), len(g)))
        self._groups = [tuple(sorted(g, key=lambda w: (len(w), w))) for g in self.needs]
        # for a text many patterns are tested on: each need's long words (looked up in the set of
        # registered words the text holds, found in one pass) and its short ones (substring tests)
        self._split = [
            (frozenset(w for w in g if len(w) >= _LONG), tuple(w for w in g if len(w) < _LONG)) for g in self._groups
        ]
        _WORDS.register(w for g in self.needs for w in g if len(w) >= _LONG)

    def may_match(self, folded: str) -> bool:
        """False only when ``folded`` (see :func:`repo_sdk.rules.text.fold`) lacks words the pattern needs."""
        return self._may_match(folded, _WORDS.present(folded))

    def _may_match(self, folded: str, present: frozenset[str] | None) -> bool:
        if present is not None:
            for longs, shorts in self._split:
                if present.isdisjoint(longs):
                    for word in shorts:
                        if word in folded:
                            break
                    else:
                        return False
            return True
        for group in self._groups:
            for word in group:
                if word in folded:
                    break
            else:
                return False
        return True


_LONG = 3  # words this long go into the one-pass search; shorter ones (in most texts) are tested alone
_SHARED_AFTER = 4  # tests of one text after which its registered words are found in one pass
_CACHED_TEXTS = 64
_CACHED_CHARS = 8_000_000  # characters of the texts held (long replies must not pile up here)


_UNSEARCHABLE = frozenset({"(a text the automaton cannot read)"})


class _Registry:
    """Every prefilter's long words, and for each text tested often, the set of them it holds.

    A reply is tested by dozens of prefilters (every rule's, every alternative's); one
    pass of an Aho-Corasick automaton over it finds all the registered words it holds
    (overlapping matches: exactly the words that are substrings of it), and each test is
    then a set lookup. A text tested only a few times keeps the substring tests, which
    are cheaper than a pass for one or two patterns. Texts are known by identity: the
    cache holds them, so an identity cannot be reused while it is cached.
    """

    def __init__(self) -> None:
        self.words: set[str] = set()
        self._automaton: Any = None  # an AhoCorasick, built when first needed
        self._texts: dict[int, list] = {}  # id(text) -> [text, tests so far, words it holds, None or _UNSEARCHABLE]
        self._chars = 0  # characters of the texts held
        self._last: tuple[str | None, frozenset[str] | None] = (None, None)  # the last text answered, its words

    def register(self, words: Iterator[str] | list[str]) -> None:
        new = set(words) - self.words
        if new:
            self.words |= new
            self._automaton = None
            self._texts, self._chars = {}, 0  # sets found before miss the new words
            self._last = (None, None)

    def present(self, folded: str, now: bool = False) -> frozenset[str] | None:
        """The registered words ``folded`` holds, once it has been tested often enough or ``now`` (else None)."""
        last = self._last  # (the rules of a turn ask about one text after another: one identity test)
        if last[0] is folded:
            return last[1]
        if AhoCorasick is None or not self.words or len(folded) > _CACHED_CHARS // 4:
            return None  # (a huge text keeps the substring tests: held here, it would evict every other)
        entry = self._texts.get(id(folded))
        if entry is None or entry[0] is not folded:
            if len(self._texts) >= _CACHED_TEXTS or self._chars + len(folded) > _CACHED_CHARS:
                self._texts, self._chars = {}, 0
            entry = self._texts[id(folded)] = [folded, 0, None]
            self._chars += len(folded)
        found = entry[2]
        if found is None:
            entry[1] += 1
            if entry[1] < _SHARED_AFTER and not now:
                return None
            automaton = self._automaton
            if automaton is None:
                # (a DFA: a few hundred words make a small one, searched faster than the default)
                automaton = self._automaton = AhoCorasick(sorted(self.words), store_patterns=True, implementation=_DFA)
            try:
                found = entry[2] = frozenset(automaton.find_matches_as_strings(folded, overlapping=True))
            except UnicodeEncodeError:  # half of a surrogate pair: not UTF-8, so the substring tests go on
                found = entry[2] = _UNSEARCHABLE
        if found is _UNSEARCHABLE:
            return None
        self._last = (folded, found)
        return found


_WORDS = _Registry()


@lru_cache(maxsize=1024)
def prefilter(pattern: re.Pattern[str]) -> Prefilter:
    """The (cached) prefilter of a compiled pattern."""
    return Prefilter(pattern)


def _needs(items: Any) -> Needs:  # the parser's SubPattern: (opcode, argument) pairs
    groups: Needs = []
    run: list[str] = []

    def flush() -> None:
        if run:
            groups.append(frozenset({"".join(run)}))
            run.clear()

    for op, av in items:
        name = str(op)
        if name == "LITERAL" and chr(av).isascii():
            run.append(chr(av).lower())  # case-folded: a match under any flags folds to it
            continue
        if name == "AT":  # zero-width (\b, ^): the characters around it are still adjacent
            continue
        flush()
        if name == "SUBPATTERN":
            groups += _needs(av[-1])
        elif name == "ATOMIC_GROUP":
            groups += _needs(av)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _, sub = av
            if low >= 1:
                groups += _needs(sub)
        elif name == "BRANCH":
            alternatives = [_needs(branch) for branch in av[1]]
            if all(alternatives):
                # every pick of one need per alternative is a need (one of its words must be there):
                # the picks of each alternative's most telling needs, a few of them
                each = max(1, int(_MAX_PICKS ** (1 / len(alternatives)) + 1e-9))
                telling = [sorted(a, key=lambda g: (-min(map(len, g)), len(g)))[:each] for a in alternatives]
                groups += [frozenset().union(*picks) for picks in product(*telling)]
        # anything else (classes, any character, lookarounds, back-references) needs no literal
    flush()
    return groups


class Alternation:
    """A union of patterns that searches a text with only the alternatives whose words the text holds.

    An alternative that cannot match anywhere in a text changes no match of the union,
    so the matches are the same as those of the whole union, at the cost of the
    alternatives that may match. Alternatives refer to their own groups by name only
    (a numbered back-reference would point elsewhere once others are left out).

    Example:
        >>> import re
        >>> union = Alternation([r"\\bgenius\\b", r"\\bbest (?:team|partner)\\b"], re.I)
        >>> [m.group(0) for m in union.finditer("The best team!")], union.pattern_for("hello") is None
        (['best team'], True)
    """

    def __init__(self, patterns: list[str], flags: int = 0) -> None:
        self.patterns, self.flags = patterns, flags
        self._compiled = [re.compile(p, flags) for p in patterns]
        self._filters = [Prefilter(c) for c in self._compiled]
        self._subsets: dict[tuple[int, ...], re.Pattern[str] | None] = {}
        # An alternative is tested in full only when its most telling need of long words alone (looked
        # up in the text's set) is met: most texts meet none, and are done with one set intersection.
        # Alternatives without such a need are tested in full every time.
        self._always: list[int] = []
        triggers: dict[str, list[int]] = {}
        for i, f in enumerate(self._filters):
            need = next((longs for longs, shorts in f._split if not shorts), None)
            if need is None:
                self._always.append(i)
            for w in need or ():
                triggers.setdefault(w, []).append(i)
        self._triggers = {w: tuple(alts) for w, alts in triggers.items()}
        self._trigger_words = frozenset(triggers)
        # Each alternative is run alone, and only where it can start, its matches merged into the
        # union's (no union compiled per mix of alternatives); an alternative matching an empty
        # string would need finditer's rules for those, so such a union is searched as one pattern.
        self._merged = all(min_width(c) > 0 for c in self._compiled)
        self._starts = [starts(c) if self._merged else None for c in self._compiled]

    def _keep(self, folded: str) -> tuple[int, ...]:
        """The alternatives whose words ``folded`` holds."""
        present = _WORDS.present(folded, now=len(self._filters) >= _SHARED_AFTER)
        filters = self._filters
        if present is None:
            return tuple(i for i, f in enumerate(filters) if f.may_match(folded))
        if present.isdisjoint(self._trigger_words):  # (most texts: no set is made)
            return tuple(i for i in self._always if filters[i]._may_match(folded, present))
        triggered = {i for w in present & self._trigger_words for i in self._triggers[w]}
        triggered.update(self._always)
        return tuple(i for i in sorted(triggered) if filters[i]._may_match(folded, present))

    def pattern_for(self, folded: str) -> re.Pattern[str] | None:
        """The union of the alternatives that may match ``folded`` text (None when none may)."""
        keep = self._keep(folded)
        if keep not in self._subsets:  # few distinct subsets occur: each is compiled once
            union = "|".join(f"(?:{self.patterns[i]})" for i in keep)
            self._subsets[keep] = re.compile(union, self.flags) if keep else None
        return self._subsets[keep]

    def finditer(self, text: str, folded: str | None = None) -> Iterator[re.Match[str]]:
        """The matches of the whole union in ``text`` (``folded``: :func:`repo_sdk.rules.text.fold` of it)."""
        folded = fold(text) if folded is None else folded
        if not self._merged:
            pattern = self.pattern_for(folded)
            return pattern.finditer(text) if pattern is not None else iter(())
        keep = self._keep(folded)
        if not keep:
            return iter(())
        if len(keep) == 1 and self._starts[keep[0]] is None:
            return self._compiled[keep[0]].finditer(text)
        return merged_finditer(text, [self._compiled[i] for i in keep], self._candidates(text, folded, keep))

    def _candidates(self, text: str, folded: str, keep: tuple[int, ...]) -> list[list[int] | None]:
        """For each alternative kept, the positions where it may start (None: anywhere)."""
        low = lowered(text, folded)
        if low is None:
            return [None] * len(keep)
        return [None if (s := self._starts[i]) is None else positions(text, low, s) for i in keep]
