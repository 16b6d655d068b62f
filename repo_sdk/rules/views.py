"""Text views: what rules read off one text, computed once and shared by every rule.

A :class:`TextView` wraps one reply (or one earlier turn) and computes each view the
first time a rule asks for it: tokens, sentence spans, the tokens of each sentence,
numbers. Rules of a spec share one view per reply, and an earlier turn keeps its
view while the dialogue goes on, so no text is tokenized or split twice. Plugins
add their own views with :meth:`TextView.memo`.

Example:
    >>> v = TextView("Hi. We can do 80 EUR!")
    >>> v.tokens, [v.text[s:e] for s, e in v.sentences], [m.value for m in v.numbers]
    (['hi', 'we', 'can', 'do', '80', 'eur'], ['Hi.', 'We can do 80 EUR!'], [80.0])
    >>> v.memo("shout", str.upper)
    'HI. WE CAN DO 80 EUR!'
"""

from __future__ import annotations

import re
import string
from bisect import bisect_left
from collections.abc import Callable
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any, TypeVar

from repo_sdk.rules.blanking import Blanker
from repo_sdk.rules.codes import CODES, encode
from repo_sdk.rules.speedups import SPEEDUPS
from repo_sdk.rules.text import CJK, TOKEN, NumberMention, extract_numbers, fold, split_sentences, tokenize

__all__ = ["TextView"]

T = TypeVar("T")
_MISSING = object()
_DIGIT = re.compile(r"\d")


class _once:
    """A property computed on first access and then kept in the instance (``functools.cached_property``
    without its lock, which Python 3.11 takes on every first access: views are per thread anyway)."""

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        self.compute, self.__doc__ = compute, compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


class TextView:
    """Lazily computed, cached views of one text. Treat every view as read-only: rules share them.

    Attributes:
        text: the text itself.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._memo: dict[str, Any] = {}

    @staticmethod
    def of(text: str) -> TextView:
        """The view of ``text``, shared with earlier callers for a short text seen recently.

        Views depend on the text alone, so the turns that many samples repeat (a GRPO
        group's shared history, a greeting every dialogue opens with) are read once.
        """
        return _recent(text) if len(text) <= _SHARED_MAX else TextView(text)

    def __repr__(self) -> str:
        return f"TextView({self.text[:40]!r}{'...' if len(self.text) > 40 else ''})"

    @_once
    def has_digit(self) -> bool:
        """Whether the text holds a decimal digit (number checks skip texts without one)."""
        return _DIGIT.search(self.text) is not None

    @_once
    def folded(self) -> str:
        """:func:`repo_sdk.rules.text.fold` of the text: for quick "could this pattern match?" tests."""
        return self.lower if self.text.isascii() else fold(self.text)  # (fold lower-cases ASCII text)

    @_once
    def lower(self) -> str:
        """``text.lower()``, made once for the rules that read lower-cased words."""
        return self.text.lower()

    @_once
    def _lower(self) -> str | None:
        # tokens are lower-cased; lower-casing the text once is the same when no character changes length
        lower = self.lower
        return lower if len(lower) == len(self.text) else None

    @_once
    def _spaced(self) -> str | None:
        # the lower-cased text with every character outside a token made a space (None: see token_gaps_blanked)
        lower = self._lower
        return None if lower is None else token_gaps_blanked(lower)

    @_once
    def tokens(self) -> list[str]:
        """:func:`repo_sdk.rules.text.tokenize` of the text: lower-cased words, CJK characters alone."""
        if "sentence_tokens" in self.__dict__:  # no token spans two sentences, and only spaces lie between them
            return list(chain.from_iterable(map(itemgetter(1), self.sentence_tokens)))
        spaced = self._spaced
        if spaced is not None:
            return spaced.split()
        lower = self._lower
        return tokenize(self.text) if lower is None else TOKEN.findall(lower)

    @_once
    def sentences(self) -> list[tuple[int, int]]:
        """:func:`repo_sdk.rules.text.split_sentences` of the text: sentence spans."""
        return _split_sentences(self.text)

    @_once
    def sentence_tokens(self) -> list[tuple[tuple[int, int], list[str]]]:
        """Each sentence span with its tokens."""
        if SPEEDUPS is not None and (lower := self._lower) is not None:
            # read in C, with each sentence's code (sentence_codes), all the tokens and their code on the way
            codes, tokens, every, code = SPEEDUPS.sentence_tokens(lower, self.sentences)
            held = self.__dict__
            held["sentence_codes"], held["tokens_code"] = codes, code
            held.setdefault("tokens", every)  # (the same tokens, whichever way a rule read them first)
            return list(zip(self.sentences, tokens, strict=True))
        spaced = self._spaced
        if spaced is not None:
            return [(span, spaced[span[0] : span[1]].split()) for span in self.sentences]
        lower, text = self._lower, self.text
        if lower is None:
            return [(span, tokenize(text[span[0] : span[1]])) for span in self.sentences]
        findall = TOKEN.findall
        apart = self._cjk_apart
        if apart is None:
            return [(span, findall(lower, span[0], span[1])) for span in self.sentences]
        # a few CJK characters: the sentences without one are split, those with one read by the expression
        blanked, cjk = apart
        out = []
        for span in self.sentences:
            s, e = span
            i = bisect_left(cjk, s)
            out.append((span, findall(lower, s, e) if i < len(cjk) and cjk[i] < e else blanked[s:e].split()))
        return out

    @_once
    def sentence_codes(self) -> list[str]:
        """The :func:`~repo_sdk.rules.codes.encode` code of each sentence's tokens (in :attr:`sentence_tokens`)."""
        every = self.sentence_tokens
        made = self.__dict__.get("sentence_codes")  # (read in C with the tokens)
        if made is not None:
            return made
        if SPEEDUPS is not None:
            return [encode(tokens) for _, tokens in every]
        join, code = "".join, CODES.__getitem__  # encode(), without a call per sentence
        return [join(map(code, tokens)) for _, tokens in every]

    @_once
    def tokens_code(self) -> str:
        """The :func:`~repo_sdk.rules.codes.encode` code of the tokens of all the :attr:`sentence_tokens`, in order."""
        codes = self.sentence_codes
        made = self.__dict__.get("tokens_code")  # (read in C with the tokens)
        return made if made is not None else "".join(codes)

    @_once
    def _cjk_apart(self) -> tuple[str, list[int]] | None:
        # a text holding a few kinds of CJK character (no _spaced): the lower-cased text with them blanked too,
        # and their offsets (None: no lower-cased text, or too many kinds of character)
        lower = self._lower
        blanked = None if lower is None else _BETWEEN_CJK(lower)
        return None if blanked is None else (blanked, [m.start() for m in _CJK_CHAR.finditer(lower)])

    @_once
    def numbers(self) -> list[NumberMention]:
        """:func:`repo_sdk.rules.text.extract_numbers` of the text (empty without a digit)."""
        return extract_numbers(self.text) if self.has_digit else []

    def memo(self, key: str, compute: Callable[[str], T]) -> T:
        """A view of a plugin's own: ``compute(text)``, computed on the first call with ``key``.

        Use a key that names the plugin (``"negotiation.prices"``), so two plugins never share one.
        """
        value = self._memo.get(key, _MISSING)
        if value is _MISSING:
            value = self._memo[key] = compute(self.text)
        return value


# the characters of TOKEN's runs; a CJK character is a token of its own
_TOKEN_GAPS = Blanker(string.ascii_lowercase + string.digits, re.compile(rf"[^\W_{CJK}]"), re.compile(rf"[{CJK}]"))
_BETWEEN_CJK = Blanker(string.ascii_lowercase + string.digits, re.compile(rf"[^\W_{CJK}]"))  # CJK blanked too
_CJK_CHAR = re.compile(rf"[{CJK}]")


def token_gaps_blanked(lower: str) -> str | None:
    """``lower`` (lower-cased text) with each character outside a :data:`repo_sdk.rules.text.TOKEN` token made a
    space, so that ``str.split`` of any span of it gives the tokens ``TOKEN.findall`` finds there, several times
    faster (:class:`repo_sdk.rules.blanking.Blanker`). None when that cannot be: the text holds a CJK character
    (a token of its own) or many kinds of non-ASCII punctuation and symbols.

    Example:
        >>> token_gaps_blanked("it's 80€, café!").split(), token_gaps_blanked("谢谢")
        (['it', 's', '80', 'café'], None)
    """
    return _TOKEN_GAPS(lower)


_split_sentences = split_sentences if SPEEDUPS is None else SPEEDUPS.split_sentences  # the same spans
_SHARED_MAX = 16_384  # longer texts are rarely repeated, and their views are large


@lru_cache(maxsize=4096)
def _recent(text: str) -> TextView:
    return TextView(text)
