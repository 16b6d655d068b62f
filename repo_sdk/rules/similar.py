"""Near-duplicate search over token lists, in about linear time: similarity, and an index of earlier texts.

:func:`similarity` compares two token lists (``ratio``: the Indel similarity
``2 * LCS / (len a + len b)``, computed by rapidfuzz; ``jaccard``: Jaccard of token
n-gram sets). :class:`NearDuplicates` holds texts added in order and finds the
first or the last one at least ``threshold`` similar to a query. Up to ``brute_limit``
texts, ``ratio`` compares the query's :func:`encode` code (a character per token) with
every text's in one rapidfuzz call in C, and checks on the tokens only the texts whose
codes come close (a code is never less similar than its tokens). Past that it does not
compare the query with every text: it uses *prefix filtering*
(:mod:`repo_sdk.rules.features`): texts are indexed by the few features any
near-duplicate of them must share, and only texts sharing one with the query are
compared. Candidates are compared in key order and the search stops at the first
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
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence

from rapidfuzz.distance import Indel

from repo_sdk.rules.codes import Hit, any_close, close_codes, encode
from repo_sdk.rules.features import COMMON_WORDS, Features, Metric, Probe, grams

__all__ = ["COMMON_WORDS", "Metric", "NearDuplicates", "Probe", "similarity"]

Found = Hit | None
_KEPT_PROBES = 64  # probes of texts searched for and not yet added


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
        sa, sb = grams(a, n), grams(b, n)
        return len(sa & sb) / len(sa | sb)
    return float(Indel.normalized_similarity(a, b))


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
        max_candidates: once indexed, the texts a search looks at, on average over the searches
            so far: a search whose candidates would exceed what earlier searches left of that
            budget looks at the nearest eighth of it in key order (the latest for :meth:`last`,
            the earliest for :meth:`first`); exact copies are always found. None: no budget.
            Texts of a few words drawn again and again from a tiny vocabulary share features
            with nearly every other, and would cost the square of their number without it.
    """

    def __init__(
        self,
        threshold: float,
        metric: Metric = "ratio",
        ngram: int = 2,
        brute_limit: int = 24,
        counts: Mapping[str, int] | None = None,
        max_candidates: int | None = None,
    ) -> None:
        self.threshold, self.metric, self.ngram, self.brute_limit = threshold, metric, ngram, brute_limit
        self.max_candidates = max_candidates
        self._allowance = 0  # candidates the searches so far left of their budget
        self._features = Features(threshold, metric, ngram, counts)
        self.keys: list[int] = []
        self._ratio = metric == "ratio"
        self._texts: list[Sequence[str]] = []
        self._codes: list[str] = []  # ratio: each text's code (see encode)
        # ratio: a code -> its last text, and its first (made on the first search for a first text: most
        # indexes are only searched for last ones)
        self._last_of: dict[str, int] = {}
        self._first_of: dict[str, int] | None = None
        # ratio: once two different texts were found under one code, the texts -> their first and last
        self._copies: dict[tuple[str, ...], list[int]] | None = None
        self._cutoff = max(0.0, threshold - 1e-6)  # on codes: lower, so rounding never rules out a text
        self._sizes: list[int] = []  # tokens (ratio) or distinct n-grams (jaccard), once indexed
        self._postings: defaultdict[Hashable, list[int]] = defaultdict(list)
        self._short: list[int] = []  # texts too short for n-grams: always compared (jaccard only)
        self._indexed = False
        # texts searched for, then added: probed once (a few at a time: each is added right after its search)
        self._probed: dict[int, tuple[Sequence[str], Probe]] = {}
        self.comparisons = 0  # similarity computations on tokens, for tests of the cost
        self.scanned = 0  # codes compared in C before indexing starts
        self.candidates = 0  # texts searches looked at one by one or by their index (not by the scan in C)

    def __len__(self) -> int:
        return len(self.keys)

    def probe(self, tokens: Sequence[str]) -> Probe:
        """What the index needs of a text (its size and first features); pass it to several calls to reuse it."""
        return self._features.probe(tokens)

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
            if self._first_of is not None:
                self._first_of.setdefault(code, rid)
            self._last_of[code] = rid
            if self._copies is not None:
                self._copy(rid)
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
        if first_of is not None:
            for k, code in enumerate(codes, rid):
                first_of.setdefault(code, k)
        self._last_of.update(zip(codes, range(rid, rid + len(codes)), strict=True))
        if self._copies is not None:
            for each in range(rid, rid + len(codes)):
                self._copy(each)

    def first(self, tokens: Sequence[str], min_key: int | None = None, code: str | None = None) -> Found:
        """``(key, similarity)`` of the earliest text (with key >= ``min_key``) similar to ``tokens``, or None."""
        return self._search(tokens, code, last=False, min_key=min_key)

    def last(self, tokens: Sequence[str], min_key: int | None = None, code: str | None = None) -> Found:
        """``(key, similarity)`` of the latest text (with key >= ``min_key``) similar to ``tokens``, or None."""
        return self._search(tokens, code, last=True, min_key=min_key)

    def last_each(
        self, texts: Sequence[Sequence[str]], codes: Sequence[str], min_key: int | None = None
    ) -> list[Found]:
        """:meth:`last` of each of several texts (with their codes), as a reply's sentences are searched.

        Before indexing starts, the texts with no exact copy are compared with every code in one call in C:
        most find no close code.
        """
        keys = self.keys
        if self._indexed or not self._ratio or not keys:
            return [self.last(tokens, min_key, codes[k]) for k, tokens in enumerate(texts)]
        lo = 0 if min_key is None else bisect_left(keys, min_key)
        if lo == len(keys):
            return [None] * len(texts)
        candidates = self._codes if lo == 0 else self._codes[lo:]
        last_of = self._last_of
        # the texts with no copy to start from: C tells which have a close code at all (most have none)
        if last_of.keys().isdisjoint(codes) and all(texts):  # (most searches: no text was seen before)
            scan: Sequence[int] = range(len(texts))
            scan_codes = codes
        else:
            scan = [k for k, toks in enumerate(texts) if toks and ((e := last_of.get(codes[k])) is None or e < lo)]
            scan_codes = [codes[k] for k in scan]
        self.scanned += len(scan) * len(candidates)
        close = any_close(scan_codes, candidates, self._cutoff)
        if len(scan) == len(texts) and True not in close:  # (most searches: no text has a close code)
            return [None] * len(texts)
        ruled_out = {k for k, near in zip(scan, close, strict=True) if not near}
        return [
            None if k in ruled_out else self._search(tokens, codes[k], last=True, min_key=min_key)
            for k, tokens in enumerate(texts)
        ]

    # --- internals -------------------------------------------------------------
    def _exact(self, tokens: Sequence[str], code: str, last: bool) -> int | None:
        """The last (or first) text equal to ``tokens``, found by its code, or None.

        Codes hold a few bits per token, so different texts may share one: once a search meets
        such a pair, every text is also kept by its tokens, and looked up that way.
        """
        rid = (self._last_of if last else self._first_texts()).get(code)
        if rid is None or self._texts[rid] == tokens:
            return rid
        if self._copies is None:
            self._copies = {}
            for each in range(len(self._texts)):
                self._copy(each)
        found = self._copies.get(tuple(tokens))
        return None if found is None else found[1 if last else 0]

    def _first_texts(self) -> dict[str, int]:
        """A code -> its first text: made on the first search for a first text, kept up from then on."""
        if self._first_of is None:
            self._first_of = {}
            for k, code in enumerate(self._codes):
                self._first_of.setdefault(code, k)
        return self._first_of

    def _copy(self, rid: int) -> None:
        assert self._copies is not None
        held = self._copies.setdefault(tuple(self._texts[rid]), [rid, rid])
        held[1] = rid

    def _probe_of(self, tokens: Sequence[str]) -> Probe:
        held = self._probed.get(id(tokens))
        if held is not None and held[0] is tokens:
            return held[1]
        made = self.probe(tokens)
        if len(self._probed) >= _KEPT_PROBES:  # texts searched for and never added: let them go
            self._probed.clear()
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
        exact = None
        if self._ratio:
            code = encode(tokens) if code is None else code
            exact = self._exact(tokens, code, last)
            if exact is None or exact < lo:
                exact = None
            elif (len(keys) - exact - 1 if last else exact - lo) <= self.brute_limit:
                return self._scan(tokens, code, lo, last)  # few texts past an exact copy (before it): no index
        found = self._search_index(tokens, code, last, lo)
        if found is None and exact is not None:  # a copy further than the nearest max_candidates
            self.comparisons += 1
            return self.keys[exact], float(Indel.normalized_similarity(tokens, self._texts[exact]))
        return found

    def _search_index(self, tokens: Sequence[str], code: str | None, last: bool, lo: int) -> Found:
        """The search once texts are indexed by their prefixes: only texts sharing a feature are compared."""
        keys = self.keys
        found = self._probe_of(tokens)
        if found.prefix is None or self._short:  # short texts: n-gram sizes differ per pair, compare with all
            every = range(len(keys) - 1, lo - 1, -1) if last else range(lo, len(keys))
            few = self._within_budget(len(every))
            return self._first_similar(tokens, None, every if few is None else every[:few], None, last)
        postings = self._postings
        lists = [hit for f in found.prefix if (hit := postings.get(f))]
        if not lists:
            return None
        few = self._within_budget(sum(map(len, lists)))
        if few is not None:  # the nearest few: among each list's nearest few
            nearest = [x[-few:] for x in lists] if last else [x[(i := bisect_left(x, lo)) : i + few] for x in lists]
            near = sorted(set().union(*nearest))
            lists = [near[-few:] if last else near[:few]]  # (ascending, as postings are)
        if sum(map(len, lists)) <= 256:
            if self._ratio:  # (unordered: only the few close ones are put in order)
                return self._firstclose_codes(tokens, code, list(set().union(*lists)), lo, last)  # type: ignore[arg-type]
            order: Iterable[int] = sorted(set().union(*lists), reverse=last)
        else:  # many candidates (a text repeated over and over): walk them in order, lazily
            order = heapq.merge(*(reversed(x) for x in lists), reverse=True) if last else heapq.merge(*lists)
        return self._first_similar(tokens, code if self._ratio else None, order, found.size, last, lo)

    def _within_budget(self, candidates: int) -> int | None:
        """None when a search may look at all its ``candidates``; else how many (the nearest) it may."""
        if self.max_candidates is None:
            return None
        self._allowance += self.max_candidates
        if candidates <= self._allowance:
            self._allowance -= candidates
            return None
        few = max(8, self.max_candidates // 8)
        self._allowance = max(0, self._allowance - few)
        return few

    def _scan(self, tokens: Sequence[str], code: str, lo: int, last: bool) -> Found:
        """Every text from ``lo`` on compared by its code in C; the close ones checked on tokens, in key order."""
        texts, codes, hi = self._texts, self._codes, len(self._codes)
        exact = self._exact(tokens, code, last)
        if exact is not None and exact >= lo:  # an exact copy: only texts past it (before it) are compared
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

    def _firstclose_codes(self, tokens: Sequence[str], code: str, rids: list[int], lo: int, last: bool) -> Found:
        """The first (``last``: the latest) of ``rids`` (in any order; from ``lo`` on) similar to ``tokens``:
        codes compared in C, close ones on tokens."""
        if lo:
            rids = [rid for rid in rids if rid >= lo]
        self.candidates += len(rids)
        return self._first_close(tokens, code, rids, list(map(self._codes.__getitem__, rids)), backwards=last)

    def _first_close(
        self, tokens: Sequence[str], code: str, rids: Sequence[int], codes: Sequence[str], backwards: bool = False
    ) -> Found:
        """The first of ``rids`` (``backwards``: the last) whose code (``codes``, in the same order) is close
        to ``code`` and whose tokens are ``threshold`` similar to ``tokens``."""
        close = close_codes(code, codes, self._cutoff)
        if not close:  # (most searches)
            return None
        texts, t = self._texts, self.threshold
        for rid in sorted([rids[i] for i in close], reverse=backwards):
            self.comparisons += 1
            score = float(Indel.normalized_similarity(tokens, texts[rid]))
            if score >= t:
                return self.keys[rid], score
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
            self.candidates += 1
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
