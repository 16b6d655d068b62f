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
from typing import Any

try:  # the regex parser of the standard library (a private module; its place moved in 3.11)
    from re import _parser as _sre_parse  # type: ignore[attr-defined]  # not in typeshed for 3.10
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse

from repo_sdk.rules.text import fold

__all__ = ["Alternation", "Prefilter", "prefilter"]

Needs = list[frozenset[str]]  # every set must have one of its strings in the text
_MAX_WORDS = 64  # a need of more words than this is not tested (it would rarely fail)


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

    def may_match(self, folded: str) -> bool:
        """False only when ``folded`` (see :func:`repo_sdk.rules.text.fold`) lacks words the pattern needs."""
        for group in self._groups:
            for word in group:
                if word in folded:
                    break
            else:
                return False
        return True


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
            if all(alternatives):  # one word of the most telling need of each alternative
                picks = [max(a, key=lambda g: min(map(len, g))) for a in alternatives]
                groups.append(frozenset().union(*picks))
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
        self._filters = [Prefilter(re.compile(p, flags)) for p in patterns]
        self._subsets: dict[tuple[int, ...], re.Pattern[str] | None] = {}

    def pattern_for(self, folded: str) -> re.Pattern[str] | None:
        """The union of the alternatives that may match ``folded`` text (None when none may)."""
        keep = tuple(i for i, f in enumerate(self._filters) if f.may_match(folded))
        if keep not in self._subsets:  # few distinct subsets occur: each is compiled once
            union = "|".join(f"(?:{self.patterns[i]})" for i in keep)
            self._subsets[keep] = re.compile(union, self.flags) if keep else None
        return self._subsets[keep]

    def finditer(self, text: str, folded: str | None = None) -> Iterator[re.Match[str]]:
        """The matches of the whole union in ``text`` (``folded``: :func:`repo_sdk.rules.text.fold` of it)."""
        pattern = self.pattern_for(fold(text) if folded is None else folded)
        return pattern.finditer(text) if pattern is not None else iter(())
