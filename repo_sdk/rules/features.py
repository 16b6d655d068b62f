"""Prefix filtering: the few features of a text that any near-duplicate of it must share.

Two texts ``threshold`` similar share at least ``alpha`` features (tokens for
``ratio``, token n-grams for ``jaccard``), so under any fixed order of features the
first ``size - alpha + 1`` of each must share one. :class:`Features` picks that
prefix for a text: longer words first (they are rarer, so they make fewer
candidates), very common words last, or rarest first when word counts are known up
front. The k-th repeat of a token is a feature of its own, so overlaps count
repeats as the longest common subsequence does. :class:`repo_sdk.rules.similar.NearDuplicates`
indexes texts by these prefixes.

Example:
    >>> f = Features(0.8)
    >>> f.probe("we can offer 80 per night".split())
    Probe(size=6, prefix=['night', 'offer', 'per'])
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Literal, NamedTuple

__all__ = ["COMMON_WORDS", "Features", "Metric", "Probe", "grams"]

Metric = Literal["ratio", "jaccard"]

_COUNT_ALL = 48  # tokens past which a text's repeats are counted all at once
_REPEAT_BITS = 32  # with counts, a feature is a word's rank shifted by this, plus its repeat number less one


class Probe(NamedTuple):
    """A text as the index sees it: its size (tokens, or n-grams) and its first features (None: too short)."""

    size: int
    prefix: Sequence[Hashable] | None


#: Words so common that they sort last when picking the tokens texts are indexed by.
COMMON_WORDS = frozenset(
    "the a an and or but of to in on at for with from by as is are was were be been am it its this that these those "
    "i you he she we they me him her us them my your his our their not no so if then than there here what which who "
    "do does did have has had will would can could should may might must just very also too all any some more most "
    "about up out into over s t ll re ve d m don can't it's i'm".split()
)


def grams(tokens: Sequence[str], n: int) -> set[tuple[str, ...]]:
    """The token n-grams of a text, as a set.

    Example:
        >>> sorted(grams("a b a b".split(), 2))
        [('a', 'b'), ('b', 'a')]
    """
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


class Features:
    """Picks a text's prefix of features for a similarity threshold.

    Args:
        threshold: similarity at or above which two texts are near-duplicates.
        metric: ``ratio`` (features: tokens) or ``jaccard`` (features: token n-grams).
        ngram: n-gram size of ``jaccard``.
        counts: how often each word occurs in all the texts, when known up front: features
            are then ordered rarest first (see :meth:`feature`).
    """

    def __init__(
        self, threshold: float, metric: Metric = "ratio", ngram: int = 2, counts: Mapping[str, int] | None = None
    ) -> None:
        self.threshold, self.metric, self.ngram, self.counts = threshold, metric, ngram, counts
        self._prefixes: dict[int, int] = {}  # text size -> features indexed
        self._ranks: dict[str, int] | None = None  # counts given: word -> its first feature (see feature)

    def probe(self, tokens: Sequence[str]) -> Probe:
        """A text's size and the first features it is indexed and searched by."""
        if self.counts is not None:
            return self._probe_by_counts(tokens, self.counts)
        if self.metric == "jaccard":
            if len(tokens) < self.ngram:
                return Probe(len(tokens), None)
            every = grams(tokens, self.ngram)
            ordered = sorted(g for g in every if g[0] not in COMMON_WORDS)
            ordered += sorted(g for g in every if g[0] in COMMON_WORDS)
            return Probe(len(ordered), ordered[: self.prefix(len(ordered))])
        size = len(tokens)
        want = self._prefixes.get(size) or self.prefix(size)
        distinct = set(tokens)
        rare = sorted(sorted(distinct - COMMON_WORDS), key=len, reverse=True)  # longest (rarest) words first
        if len(distinct) == size:  # no repeated token: the features are the tokens
            if len(rare) < want:
                rare += sorted(distinct & COMMON_WORDS)[: want - len(rare)]
            return Probe(size, rare[:want])
        # the k-th repeat of a token is a feature of its own, so overlaps count repeats as the LCS does.
        # Counted in C: all at once in a long text, per feature in a short one (a few features are read)
        count = Counter(tokens).__getitem__ if size > _COUNT_ALL else tokens.count
        out: list[Hashable] = []
        for group in (rare, None):
            for t in group if group is not None else sorted(distinct & COMMON_WORDS):
                out.append(t)
                repeats = count(t)
                if repeats > 1:
                    out.extend([f"{t}\x00{k}" for k in range(2, repeats + 1)])
                if len(out) >= want:
                    return Probe(size, out[:want])
        return Probe(size, out[:want])

    def _probe_by_counts(self, tokens: Sequence[str], counts: Mapping[str, int]) -> Probe:
        """Features ordered by how often their word occurs in all the texts (known up front): rarest first."""
        if self.metric == "jaccard":
            if len(tokens) < self.ngram:
                return Probe(len(tokens), None)
            ordered = sorted(grams(tokens, self.ngram), key=lambda g: (counts.get(g[0], 0), g))
            return Probe(len(ordered), ordered[: self.prefix(len(ordered))])
        size = len(tokens)
        want = self._prefixes.get(size) or self.prefix(size)
        ranks = self._ranks if self._ranks is not None else self._ranked(counts)
        try:
            ranked = sorted(map(ranks.__getitem__, tokens))  # in C: a word's repeats sort together
        except KeyError:  # words missing from the counts: ranked after every counted one, as first met
            ranked = sorted(map(self._rank, tokens))
        out = ranked[:want]
        if len(set(out)) < len(out):  # the k-th repeat of a word is the feature k - 1 after its first
            for i in range(1, len(out)):
                if out[i] <= out[i - 1]:
                    out[i] = out[i - 1] + 1
        return Probe(size, out)

    def _ranked(self, counts: Mapping[str, int]) -> dict[str, int]:
        order = sorted(counts, key=lambda w: (counts[w], w))
        self._ranks = {w: i << _REPEAT_BITS for i, w in enumerate(order)}
        return self._ranks

    def feature(self, word: str, k: int = 1) -> Hashable:
        """The feature of the ``k``-th occurrence of ``word`` in a text, as :meth:`probe` names it: the word itself
        (``k == 1``) or ``word\\x00k`` without counts; with counts, an integer, ordered as (count of the word,
        the word, k) are (a word missing from ``counts`` comes after every counted one, in the order first met).

        Example:
            >>> f = Features(0.8, counts={"night": 1, "offer": 2})
            >>> f.feature("night") < f.feature("night", 2) < f.feature("offer")
            True
        """
        if self.counts is None:
            return word if k == 1 else f"{word}\x00{k}"
        return self._rank(word) + k - 1

    def _rank(self, word: str) -> int:
        assert self.counts is not None
        ranks = self._ranks if self._ranks is not None else self._ranked(self.counts)
        found = ranks.get(word)
        if found is None:
            found = ranks[word] = len(ranks) << _REPEAT_BITS
        return found

    def min_overlap(self, size: int) -> int:
        """Features a text of ``size`` shares with any text similar enough to it."""
        t = self.threshold
        bound = t * size / (2 - t) if self.metric == "ratio" else t * size
        return max(1, math.ceil(bound - 1e-9))

    def prefix(self, size: int) -> int:
        """How many of its first features a text of ``size`` is indexed by."""
        found = self._prefixes[size] = max(1, size - self.min_overlap(size) + 1)
        return found
