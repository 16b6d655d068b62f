"""Token lists as short strings compared in C: a cheap first look before comparing tokens.

:func:`encode` turns a token list into a string of one ASCII character per token (from
a hash of the token, so equal tokens get equal characters). Two different tokens may
share a character, so the Indel similarity of two codes is never below that of their
token lists: a code too far from the query's rules its text out, and the few close ones
are checked on their tokens. :func:`close_codes` finds the close codes among many in one
call, :func:`any_close` tells for each of several codes whether one is close,
:func:`first_repeats` finds, for each of a few texts, the first earlier one similar to it, and
:func:`repeat_free` tells in one call that a reply is close to none of its dialogue's earlier texts.

Where the C part is built (:mod:`repo_sdk.rules.speedups`) the codes come from it and are
compared by its bit-parallel longest common subsequence, one call for all of them; else
the characters come from :data:`CODES` and rapidfuzz compares them (``cdist``, several
short strings at a time, when there are many and numpy is installed). Either way the
same texts are found: the codes only rule texts out, and every candidate is checked on
its tokens.

Example:
    >>> a, b = encode("we can offer 80".split()), encode("we can offer 85".split())
    >>> len(a), a[:3] == b[:3], encode("we can".split()) == a[:2]
    (4, True, True)
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from rapidfuzz.distance import Indel
from rapidfuzz.process import cdist, extract, extractOne

from repo_sdk.rules.speedups import SPEEDUPS

__all__ = ["CODES", "Hit", "any_close", "close_codes", "encode", "first_repeats", "repeat_free"]

Hit = tuple[int, float]  # (key, similarity)

_CODES_HELD = 1 << 17  # tokens whose characters are kept at once
_LONGEST_HELD = 64  # longer tokens are coded each time they are met, never kept
_MATRIX_MIN = 160  # comparisons from which one cdist call (and its numpy array) costs less than a call per code


class _Codes(dict[str, str]):
    """token -> one ASCII character taken from its hash (so dropping them all changes no character).

    ASCII: rapidfuzz compares 1-byte strings 3x faster than wider ones, and the extra
    likeness two unrelated texts get from tokens that share a character (1 pair in 128)
    is far below a repeat's.
    """

    def __missing__(self, token: str) -> str:
        if len(token) > _LONGEST_HELD:  # (a 1 MB "word" is not kept: the table stays small whatever the replies)
            return chr(hash(token) & 0x7F)
        if len(self) >= _CODES_HELD:
            self.clear()
        code = self[token] = chr(hash(token) & 0x7F)
        return code


CODES = _Codes()  #: token -> its character in :func:`encode`'s codes


def encode(tokens: Iterable[str]) -> str:
    """A token list as a string of one ASCII character per token, which rapidfuzz compares in C.

    The characters come from the C module (:mod:`repo_sdk.rules.speedups`) where it is built,
    else from :data:`CODES`: one process uses one of them for every code, so equal tokens
    always get equal characters.

    Example:
        >>> encode(["we", "we"])[0] == encode(["we", "we"])[1], len(encode(["a", "b", "c"]))
        (True, 3)
    """
    return "".join(map(CODES.__getitem__, tokens)) if _ENCODE is None else _ENCODE(tokens)


_ENCODE = None if SPEEDUPS is None else SPEEDUPS.encode
_CLOSE_CODES = None if SPEEDUPS is None else SPEEDUPS.close_codes
_ANY_CLOSE = None if SPEEDUPS is None else SPEEDUPS.any_close
_CLOSE_EARLIER = None if SPEEDUPS is None else SPEEDUPS.close_earlier
_REPEAT_FREE = None if SPEEDUPS is None else SPEEDUPS.repeat_free


def close_codes(code: str, codes: Sequence[str], cutoff: float) -> list[int]:
    """Where (indexes, in order) the codes at least ``cutoff`` similar to ``code`` are, found in C.

    Most searches find none: one call that stops at the first close code asks that first.
    """
    if _CLOSE_CODES is not None and (found := _CLOSE_CODES(code, codes, cutoff)) is not None:
        return found  # (found in C without a call per code; None: a code is not ASCII)
    scorer = Indel.normalized_similarity
    if extractOne(code, codes, scorer=scorer, processor=None, score_cutoff=cutoff) is None:
        return []
    return sorted([c[2] for c in extract(code, codes, scorer=scorer, processor=None, score_cutoff=cutoff, limit=None)])


def any_close(codes: Sequence[str], candidates: Sequence[str], cutoff: float) -> list[bool]:
    """For each of ``codes``, whether one of ``candidates`` is at least ``cutoff`` similar to it.

    Example:
        >>> any_close(["abc", "xyz"], ["abd", "qqq"], 0.6)
        [True, False]
    """
    if not candidates:
        return [False] * len(codes)
    if _ANY_CLOSE is not None and (found := _ANY_CLOSE(codes, candidates, cutoff)) is not None:
        return found  # (found in C, no matrix of scores; None: a code is not ASCII)
    scores = _scores(codes, candidates, cutoff) if len(codes) * len(candidates) >= _MATRIX_MIN else None
    if scores is not None:
        return scores.any(axis=1).tolist()
    scorer = Indel.normalized_similarity
    return [extractOne(c, candidates, scorer=scorer, processor=None, score_cutoff=cutoff) is not None for c in codes]


def _scores(codes: Sequence[str], candidates: Sequence[str], cutoff: float) -> Any:
    """The similarity of each code to each candidate, 0 where under ``cutoff`` (> 0), in one call; None
    without numpy (``cdist`` returns a numpy array)."""
    if cutoff <= 0 or not _has_numpy():
        return None
    scorer = Indel.normalized_similarity
    return cdist(codes, candidates, scorer=scorer, processor=None, score_cutoff=cutoff, workers=1)


@functools.cache
def _has_numpy() -> bool:
    try:
        import numpy  # noqa: F401 - imported on first use: it costs start-up time
    except ImportError:  # pragma: no cover - numpy comes with every trainer, but is not required
        return False
    return True


def repeat_free(
    whole: str | None,
    codes: Sequence[str],
    replies: Sequence[str],
    sentences: Sequence[str],
    min_len: int,
    within: bool,
    cutoff: float,
) -> bool | None:
    """Whether no code is at least ``cutoff`` close to another where a repeat check would compare them, in one
    call in C: ``whole`` (None: not checked) with each of ``replies``; each of ``codes`` of ``min_len`` characters
    or more with each such one of ``sentences`` and (``within``) with each such one before it in ``codes``.

    True: no text with these codes is a near-duplicate of another (a code is never less similar than its
    tokens). False: some pair is close, and must be checked on its tokens. None: cannot tell here (the C part
    is not built, or a code is not ASCII).

    Example:
        >>> a, b = encode("we can offer 80 per night".split()), encode("see you on friday then".split())
        >>> repeat_free(None, [a], [], [b], 3, True, 0.8) in (True, None)
        True
        >>> repeat_free(a, [], [a], [], 3, True, 0.8) in (False, None)
        True
    """
    return None if _REPEAT_FREE is None else _REPEAT_FREE(whole, codes, replies, sentences, min_len, within, cutoff)


def first_repeats(texts: Sequence[Sequence[str]], codes: Sequence[str], threshold: float) -> list[tuple[int, Hit]]:
    """Each text at least ``threshold`` similar (ratio) to an earlier one: ``(index, (first such, similarity))``.

    What :meth:`repo_sdk.rules.similar.NearDuplicates.first` finds for each text, then ``add``,
    with every text compared in C (for a few texts, as a reply's sentences are).

    Example:
        >>> texts = [t.split() for t in ("we can offer 80 per night", "thanks", "we can offer 85 per night")]
        >>> first_repeats(texts, [encode(t) for t in texts], 0.8)
        [(2, (0, 0.8333333333333334))]
    """
    out: list[tuple[int, Hit]] = []
    first_of: dict[str, int] = {}
    cutoff = max(0.0, threshold - 1e-6)
    if _CLOSE_EARLIER is not None and (close := _CLOSE_EARLIER(codes, cutoff)) is not None:
        return _first_repeats_of(texts, codes, threshold, close)
    for k, code in enumerate(codes):
        tokens = texts[k]
        hi = exact = first_of.setdefault(code, k)
        if exact == k or texts[exact] != tokens:  # no exact copy before: every earlier text is a candidate
            hi, exact = k, -1
        for j in close_codes(code, codes[:hi], cutoff) if hi else ():
            score = float(Indel.normalized_similarity(tokens, texts[j]))
            if score >= threshold:
                out.append((k, (j, score)))
                break
        else:
            if exact >= 0:
                out.append((k, (exact, float(Indel.normalized_similarity(tokens, texts[exact])))))
    return out


def _first_repeats_of(
    texts: Sequence[Sequence[str]], codes: Sequence[str], threshold: float, close: list[tuple[int, list[int]]]
) -> list[tuple[int, Hit]]:
    """:func:`first_repeats` from each text's earlier close codes (found in C at once; most texts have none)."""
    out: list[tuple[int, Hit]] = []
    for k, near in close:
        tokens, code = texts[k], codes[k]
        # the first text with the same code (always a close one), if its tokens are these: only texts before it
        # are compared, and it is the repeat when none of them is
        exact = next((j for j in near if codes[j] == code), -1)
        if exact >= 0 and texts[exact] != tokens:
            exact = -1
        hi = k if exact < 0 else exact
        hit: Hit | None = None
        for j in near:
            if j >= hi:
                break
            score = float(Indel.normalized_similarity(tokens, texts[j]))
            if score >= threshold:
                hit = (j, score)
                break
        if hit is None and exact >= 0:  # no earlier text: the copy
            hit = (exact, float(Indel.normalized_similarity(tokens, texts[exact])))
        if hit is not None:
            out.append((k, hit))
    return out
