"""A cache of what is read off a text, bounded in memory as well as in entries.

A reply's sentences, clauses and numbers are asked for by the state and by several
rules in a row, so each is read once and kept. ``functools.lru_cache`` alone would keep
the last 64 texts whatever their length: 64 replies of 1 MB, each with hundreds of
thousands of numbers, would hold gigabytes. Here a text up to ``long`` characters is
kept among the last ``maxsize``; a longer one only until the next long one.

Example:
    >>> @text_cache()
    ... def words(text: str) -> tuple[str, ...]:
    ...     return tuple(text.split())
    >>> words("a b") is words("a b"), words("x " * 20_000) is words("x " * 20_000)
    (True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

__all__ = ["text_cache"]

T = TypeVar("T")


def text_cache(maxsize: int = 64, long: int = 16_384) -> Callable[[Callable[[str], T]], Callable[[str], T]]:
    """Cache ``fn(text)``: the last ``maxsize`` texts of up to ``long`` characters, and the last longer one."""

    def decorate(fn: Callable[[str], T]) -> Callable[[str], T]:
        short = lru_cache(maxsize=maxsize)(fn)
        last: list[tuple[str, T] | None] = [None]  # the last long text and its value, as one pair: threads
        # scoring other replies at the same time replace it whole, so a reader never mixes two of them

        @wraps(fn)
        def cached(text: str) -> T:
            if len(text) <= long:
                return short(text)
            held = last[0]
            if held is not None and held[0] == text:
                return held[1]
            value = fn(text)
            last[0] = (text, value)
            return value

        return cached

    return decorate
