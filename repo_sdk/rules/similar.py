"""Near-duplicate search over token lists, in about linear time: similarity, and an index of earlier texts.

:func:`similarity` compares two token lists (``ratio``: the Indel similarity
``2 * LCS / (len a + len b)``, computed by rapidfuzz; ``jaccard``: Jaccard of token
n-gram sets). :class:`NearDuplicates` holds texts added in order and finds the
first or the last one at least ``threshold`` similar to a query. Up to ``brute_limit``
texts, ``ratio`` compares the query's :func:`encode` code (a character per token) with
every text's in one rapidfuzz call in C, and checks on the tokens only the texts whose
codes come close (a code is never less similar than its tokens). Past that it does not
compare the query with every text: it uses *prefix filtering*. Two texts that similar share
at least ``alpha`` tokens (or n-grams), so under any fixed order of tokens the first
``size - alpha + 1`` tokens of each must share one; only texts sharing such a token
with the query are compared. Longer words come first (they are rarer, so they make
fewer candidates) and very common words last. Candidates are compared in key order and the search stops at the first
match, so a text repeated thousands of times costs one comparison per repeat.

Example:
    >>> a, b = "we can offer 80 per night".split(), "we can offer 85 per night".split()
    >>> round(similarity(a, b), 2), round(similarity(a, b, "jaccard", 2), 2)
    (0.83, 0.43)
    >>> index = NearDuplicates(0.8)
    >>> index.add(a, key=0); index.add("thank you so much".split(), key=1)
    >>> index.last(b)
    (0, 0.8333333333333334)
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Literal, NamedTuple

from rapidfuzz.distance import Indel

from repo_sdk.rules.codes import Hit, close_codes, encode

__all__ = ["COMMON_WORDS", "Metric", "NearDuplicates", "Probe", "similarity"]

Metric = Literal["ratio", "jaccard"]
Found = Hit | None


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


def similarity(a: Sequence[str], b: Sequence[str], metric: Metric = "ratio", ngram: int = 2) -> float:
    """Similarity in [0, 1] of two token lists.

    ``ratio`` is the Indel similarity over tokens (twice the longest common
    subsequence over the total length: order-aware, kind to small edits); ``jaccard``
    is the Jaccard index of the token n-gram sets.

    Example:
        >>> similarity("a b c d".split(), "a b x d".split()), similarity([], ["a"])
        (0.75, 0.0)
    """
    if not a or not b:
        return 0.0
    if metric == "jaccard":
        n = max(1, min(ngram, len(a), len(b)))
        sa, sb = _grams(a, n), _grams(b, n)
        return len(sa & sb) / len(sa | sb)
    return float(Indel.normalized_similarity(a, b))


def _grams(tokens: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


_COUNT_ALL = 48  # tokens past which a text's repeats are counted all at once


class NearDuplicates:
    """Texts (token lists) added with increasing keys; finds the first or last one similar to a query.

    Up to ``brute_limit`` texts are compared with the query one by one (``ratio``: their
    codes, by rapidfuzz in one call; cheaper than an index at that size); past it, the
    texts are indexed by their prefixes and only those sharing a prefix token with the
    query are compared. Both find the same text.

    Args:
        threshold: similarity at or above which two texts are near-duplicates.
        metric: ``ratio`` or ``jaccard`` (see :func:`similarity`).
        ngram: n-gram size of ``jaccard``.
        brute_limit: texts held before indexing starts.
        counts: how often each word occurs in all the texts, when known up front: features
            are then ordered rarest first.
    """

    def __init__(
        self,
        threshold: float,
        metric: Metric = "ratio",
        ngram: int = 2,
        brute_limit: int = 24,
        counts: Mapping[str, int] | None = None,
    ) -> None:
        self.threshold, self.metric, self.ngram, self.brute_limit = threshold, metric, ngram, brute_limit
        self.counts = counts
        self.keys: list[int] = []
        self._ratio = metric == "ratio"
        self._texts: list[Sequence[str]] = []
        self._codes: list[str] = []  # ratio: each text's code (see encode)
        self._first_of: dict[str, int] = {}  # ratio: a code -> its first text and its last
        self._last_of: dict[str, int] = {}
        self._cutoff = max(0.0, threshold - 1e-6)  # on codes: lower, so rounding never rules out a text
        self._sizes: list[int] = []  # tokens (ratio) or distinct n-grams (jaccard), once indexed
        self._postings: defaultdict[Hashable, list[int]] = defaultdict(list)
        self._short: list[int] = []  # texts too short for n-grams: always compared (jaccard only)
        self._indexed = False
        self._probed: dict[int, tuple[Sequence[str], Probe]] = {}  # texts searched for, then added: probed once
        self.comparisons = 0  # similarity computations on tokens, for tests of the cost
        self.scanned = 0  # codes compared in C before indexing starts
        self._prefixes: dict[int, int] = {}  # text size -> features indexed

    def __len__(self) -> int:
        return len(self.keys)

    def probe(self, tokens: Sequence[str]) -> Probe:
        """What the index needs of a text (its size and first features); pass it to several calls to reuse it."""
        if self.counts is not None:
            return self._probe_by_counts(tokens, self.counts)
        if self.metric == "jaccard":
            if len(tokens) < self.ngram:
                return Probe(len(tokens), None)
            grams = _grams(tokens, self.ngram)
            ordered = sorted(g for g in grams if g[0] not in COMMON_WORDS)
            ordered += sorted(g for g in grams if g[0] in COMMON_WORDS)
            return Probe(len(ordered), ordered[: self._prefix(len(ordered))])
        size = len(tokens)
        want = self._prefixes.get(size) or self._prefix(size)
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
            grams = sorted(_grams(tokens, self.ngram), key=lambda g: (counts.get(g[0], 0), g))
            return Probe(len(grams), grams[: self._prefix(len(grams))])
        want = self._prefix(len(tokens))
        seen: dict[str, int] = {}
        features = []
        for t in tokens:  # the k-th repeat of a word is a feature of its own
            k = seen[t] = seen.get(t, 0) + 1
            features.append((counts.get(t, 0), t, k))
        features.sort()
        return Probe(len(tokens), [f[1:] for f in features[:want]])

    def add(self, tokens: Sequence[str], key: int, code: str | None = None) -> None:
        """Add a text (with its :func:`encode` code when known); keys must increase from one call to the next."""
        if not tokens:
            return
        rid = len(self.keys)
        self.keys.append(key)
        self._texts.append(tokens)
        self._sizes.append(0)
        if self._ratio:
            code = encode(tokens) if code is None else code
            self._codes.append(code)
            self._first_of.setdefault(code, rid)
            self._last_of[code] = rid
        if self._indexed:
            self._index(rid)
        elif rid >= self.brute_limit:
            self._indexed = True
            for each in range(rid + 1):
                self._index(each)

    def add_all(self, texts: Sequence[Sequence[str]], first_key: int, codes: Sequence[str]) -> None:
        """Add texts (none empty) with keys ``first_key``, ``first_key + 1``, ... and their codes, at once."""
        rid = len(self.keys)
        if not self._ratio or self._indexed or rid + len(texts) > self.brute_limit:
            for k, tokens in enumerate(texts):
                self.add(tokens, first_key + k, codes[k])
            return
        self.keys.extend(range(first_key, first_key + len(texts)))
        self._texts.extend(texts)
        self._sizes.extend([0] * len(texts))
        self._codes.extend(codes)
        first_of = self._first_of
        for code in codes:
            if code not in first_of:
                first_of[code] = rid
            rid += 1
        self._last_of.update(zip(codes, range(rid - len(codes), rid), strict=True))

    def first(self, tokens: Sequence[str], min_key: int | None = None, code: str | None = None) -> Found:
        """``(key, similarity)`` of the earliest text (with key >= ``min_key``) similar to ``tokens``, or None."""
        return self._search(tokens, code, last=False, min_key=min_key)

    def last(self, tokens: Sequence[str], min_key: int | None = None, code: str | None = None) -> Found:
        """``(key, similarity)`` of the latest text (with key >= ``min_key``) similar to ``tokens``, or None."""
        return self._search(tokens, code, last=True, min_key=min_key)

    # --- internals -------------------------------------------------------------
    def _probe_of(self, tokens: Sequence[str]) -> Probe:
        held = self._probed.get(id(tokens))
        if held is not None and held[0] is tokens:
            return held[1]
        made = self.probe(tokens)
        self._probed[id(tokens)] = (tokens, made)
        return made

    def _index(self, rid: int) -> None:
        tokens = self._texts[rid]
        held = self._probed.pop(id(tokens), None)
        probe = held[1] if held is not None and held[0] is tokens else self.probe(tokens)
        self._sizes[rid] = probe.size
        if probe.prefix is None:
            self._short.append(rid)
            return
        postings = self._postings
        for f in probe.prefix:
            postings[f].append(rid)

    def _min_overlap(self, size: int) -> int:
        """Features a text of ``size`` shares with any text similar enough to it."""
        t = self.threshold
        bound = t * size / (2 - t) if self.metric == "ratio" else t * size
        return max(1, math.ceil(bound - 1e-9))

    def _prefix(self, size: int) -> int:
        found = self._prefixes[size] = max(1, size - self._min_overlap(size) + 1)
        return found

    def _search(self, tokens: Sequence[str], code: str | None, *, last: bool, min_key: int | None) -> Found:
        keys = self.keys
        if not tokens or not keys:
            return None
        lo = 0 if min_key is None else bisect_left(keys, min_key)
        if lo == len(keys):
            return None
        if not self._indexed:
            if self._ratio:
                return self._scan(tokens, encode(tokens) if code is None else code, lo, last)
            every = range(len(keys) - 1, lo - 1, -1) if last else range(lo, len(keys))
            return self._first_similar(tokens, None, every, None, last)
        if self._ratio:
            code = encode(tokens) if code is None else code
            exact = (self._last_of if last else self._first_of).get(code)
            if exact is not None and exact >= lo and self._texts[exact] == tokens:
                if (len(keys) - exact - 1 if last else exact - lo) <= self.brute_limit:
                    return self._scan(tokens, code, lo, last)  # few texts past an exact copy (before it): no index
        found = self._probe_of(tokens)
        if found.prefix is None or self._short:  # short texts: n-gram sizes differ per pair, compare with all
            every = range(len(keys) - 1, lo - 1, -1) if last else range(lo, len(keys))
            return self._first_similar(tokens, None, every, None, last)
        postings = self._postings
        lists = [hit for f in found.prefix if (hit := postings.get(f))]
        if not lists:
            return None
        if sum(map(len, lists)) <= 256:
            order: Iterable[int] = sorted(set().union(*lists), reverse=last)
            if self._ratio:
                return self._firstclose_codes(tokens, code, order, lo)  # type: ignore[arg-type]
        else:  # many candidates (a text repeated over and over): walk them in order, lazily
            order = heapq.merge(*(reversed(x) for x in lists), reverse=True) if last else heapq.merge(*lists)
        return self._first_similar(tokens, code if self._ratio else None, order, found.size, last, lo)

    def _scan(self, tokens: Sequence[str], code: str, lo: int, last: bool) -> Found:
        """Every text from ``lo`` on compared by its code in C; the close ones checked on tokens, in key order."""
        texts, codes, hi = self._texts, self._codes, len(self._codes)
        exact = (self._last_of if last else self._first_of).get(code)
        if exact is not None and exact >= lo and texts[exact] == tokens:  # an exact copy: only texts past it
            lo, hi = (exact + 1, hi) if last else (lo, exact)
        else:
            exact = None
        if hi > lo:
            self.scanned += hi - lo
            candidates = codes if lo == 0 and hi == len(codes) else codes[lo:hi]
            found = self._first_close(tokens, code, range(lo, hi), candidates, backwards=last)
            if found is not None:
                return found
        if exact is None:
            return None
        self.comparisons += 1
        return self.keys[exact], float(Indel.normalized_similarity(tokens, texts[exact]))

    def _firstclose_codes(self, tokens: Sequence[str], code: str, rids: list[int], lo: int) -> Found:
        """The first of ``rids`` (from ``lo`` on) similar to ``tokens``: codes compared in C, close ones on tokens."""
        if lo:
            rids = [rid for rid in rids if rid >= lo]
        return self._first_close(tokens, code, rids, [self._codes[rid] for rid in rids])

    def _first_close(
        self, tokens: Sequence[str], code: str, rids: Sequence[int], codes: Sequence[str], backwards: bool = False
    ) -> Found:
        """The first of ``rids`` (``backwards``: the last) whose code (``codes``, in the same order) is close
        to ``code`` and whose tokens are ``threshold`` similar to ``tokens``."""
        close = close_codes(code, codes, self._cutoff)
        texts, t = self._texts, self.threshold
        for i in reversed(close) if backwards else close:
            self.comparisons += 1
            score = float(Indel.normalized_similarity(tokens, texts[rids[i]]))
            if score >= t:
                return self.keys[rids[i]], score
        return None

    def _first_similar(
        self,
        tokens: Sequence[str],
        code: str | None,
        order: Iterable[int],
        size: int | None,
        last: bool,
        lo: int = 0,
    ) -> Found:
        t, ratio, cutoff = self.threshold, self._ratio, self._cutoff
        texts, codes = self._texts, self._codes
        sizes = self._sizes if self._indexed else None
        previous = -1
        for rid in order:
            if rid == previous:  # the same text found through two of its features
                continue
            previous = rid
            if rid < lo:
                if last:
                    return None  # keys only fall from here
                continue
            if size is not None:  # can two texts of these sizes be similar enough at all?
                other = sizes[rid] if sizes is not None else len(texts[rid])
                small, big = (size, other) if size <= other else (other, size)
                if (2 * small < t * (small + big) - 1e-9) if ratio else (small < t * big - 1e-9):
                    continue
            if code is not None and Indel.normalized_similarity(code, codes[rid], score_cutoff=cutoff) < cutoff:
                continue  # not even the codes are close
            self.comparisons += 1
            score = similarity(tokens, texts[rid], self.metric, self.ngram)
            if score >= t:
                return self.keys[rid], score
        return None
