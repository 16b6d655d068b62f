"""Cheap "could this pattern match at all?" tests, read off a compiled regular expression.

Python's regex engine tries an alternation of words at every position of a text,
which makes a rule with a dozen phrases cost far more than the text is long. Most
replies hold none of the words such a pattern needs, though, and the words of every
pattern are found in one pass over a text (:mod:`repo_sdk.rules.words`).
:class:`Prefilter` reads the literal words a pattern cannot match
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

try:  # the regex parser of the standard library (a private module; its place moved in 3.11)
    from re import _parser as _sre_parse  # type: ignore[attr-defined]  # not in typeshed for 3.10
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse

from repo_sdk.rules.anchors import lowered, merged_finditer, min_width, positions, starts
from repo_sdk.rules.text import fold
from repo_sdk.rules.words import WORDS, Needs

__all__ = ["Alternation", "Prefilter", "prefilter"]

WordSets = list[frozenset[str]]  # every set must have one of its strings in the text
_MAX_WORDS = 64  # a need of more words than this is not tested (it would rarely fail)
_MAX_PICKS = 16  # needs read off one alternation of patterns
_KEPT_MIXES = 4096  # mixes of an alternation's alternatives kept


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
        kept = [g for g in needs if len(g) <= _MAX_WORDS]
        # each need is met when the text holds one of its words: a bitwise AND with the bits of the words
        # the text holds (repo_sdk.rules.words, found in one pass for every pattern)
        # (the needs whose shortest word is longest first: they fail most often, and end the test)
        self.needs: WordSets = sorted(kept, key=lambda g: (-min(map(len, g)), len(g)))
        self.masks = [WORDS.mask(sorted(g)) for g in self.needs]

    def may_match(self, folded: str) -> bool:
        """False only when ``folded`` (see :func:`repo_sdk.rules.text.fold`) lacks words the pattern needs."""
        return self.allows(WORDS.found(folded))

    def allows(self, found: int) -> bool:
        """False only when ``found`` (:meth:`repo_sdk.rules.words.WordIndex.found` of a text) lacks the bits of
        every word of one of the needs."""
        for mask in self.masks:
            if not found & mask:
                return False
        return True


@lru_cache(maxsize=1024)
def prefilter(pattern: re.Pattern[str]) -> Prefilter:
    """The (cached) prefilter of a compiled pattern."""
    return Prefilter(pattern)


def _needs(items: Any) -> WordSets:  # the parser's SubPattern: (opcode, argument) pairs
    groups: WordSets = []
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
        # Which alternatives may match a text depends only on which of their words it holds (found once for a
        # text for every pattern, repo_sdk.rules.words): looked up by the alternatives those words allow
        self._needs = Needs(WORDS, [f.needs for f in self._filters])
        self._kept: dict[int, tuple[int, ...]] = {}
        # Each alternative is run alone, and only where it can start, its matches merged into the
        # union's (no union compiled per mix of alternatives); an alternative matching an empty
        # string would need finditer's rules for those, so such a union is searched as one pattern.
        self._merged = all(min_width(c) > 0 for c in self._compiled)
        self._starts = [starts(c) if self._merged else None for c in self._compiled]

    def _keep(self, folded: str) -> tuple[int, ...]:
        """The alternatives whose words ``folded`` holds."""
        met = self._needs.met_in(folded)
        kept = self._kept.get(met)
        if kept is None:
            if len(self._kept) >= _KEPT_MIXES:
                self._kept.clear()
            kept = self._kept[met] = tuple(i for i in range(len(self._filters)) if met >> i & 1)
        return kept

    def pattern_for(self, folded: str) -> re.Pattern[str] | None:
        """The union of the alternatives that may match ``folded`` text (None when none may)."""
        keep = self._keep(folded)
        if keep not in self._subsets:  # few distinct subsets occur: each is compiled once
            union = "|".join(f"(?:{self.patterns[i]})" for i in keep)
            self._subsets[keep] = re.compile(union, self.flags) if keep else None
        return self._subsets[keep]

    def finditer(self, text: str, folded: str | None = None, lower: str | None = None) -> Iterator[re.Match[str]]:
        """The matches of the whole union in ``text`` (``folded``: :func:`repo_sdk.rules.text.fold` of it,
        ``lower``: ``text.lower()``, when already made)."""
        folded = fold(text) if folded is None else folded
        if not self._merged:
            pattern = self.pattern_for(folded)
            return pattern.finditer(text) if pattern is not None else iter(())
        keep = self._keep(folded)
        if not keep:
            return iter(())
        if len(keep) == 1 and self._starts[keep[0]] is None:
            return self._compiled[keep[0]].finditer(text)
        candidates = self._candidates(text, folded, lower, keep)
        return merged_finditer(text, [self._compiled[i] for i in keep], candidates)

    def _candidates(self, text: str, folded: str, lower: str | None, keep: tuple[int, ...]) -> list[list[int] | None]:
        """For each alternative kept, the positions where it may start (None: anywhere)."""
        low = lowered(text, folded, lower)
        if low is None:
            return [None] * len(keep)
        return [None if (s := self._starts[i]) is None else positions(text, low, s) for i in keep]
