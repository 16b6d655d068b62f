"""Numbers in free text: digits ("1,250.50", "95,00") and English number words
("ninety-five", "one hundred and twenty").

Only what negotiation replies need: cardinals up to the millions, with ``and`` and
hyphens. Colloquial forms ("one-twenty" for 120, "a buck fifty") are not read; they
come out as two separate numbers or none, which the price rules treat as unknown.

Example:
    >>> words_to_number("one hundred and twenty-five")
    125
    >>> [(n.value, n.text) for n in find_numbers("Could we do ninety-five, or 1.250,50 for the week?")]
    [(95.0, 'ninety-five'), (1250.5, '1.250,50')]
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from repo_sdk.rules.prefilter import Prefilter
from repo_sdk.rules.text import fold
from repo_sdk_negotiation.memo import text_cache

__all__ = ["NumberMention", "find_numbers", "parse_digits", "words_to_number"]

UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
NUMBER_WORDS = frozenset(UNITS) | frozenset(TENS) | frozenset(SCALES)

_WORD = re.compile(r"[A-Za-z]+")
# a number in words holds one of these ("a" alone starts one only before a scale word)
_ANY_NUMBER_WORD = re.compile(
    r"(?<![A-Za-z])(?i:" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")(?![A-Za-z])"
)
_NUMBER_WORDS_NEEDED = Prefilter(_ANY_NUMBER_WORD)
_JOINER = re.compile(r"^[ \t-]+$")
# ``\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d{1,2}\.\d{1,2}\.\d{2,4}\b|\b\d{1,2}:\d{2}\b``,
# written to start with a digit (the boundary checked after it), so the engine skips to digits
_DATES_TIMES = re.compile(
    r"\d(?<!\w\d)(?:\d{3}-\d{1,2}-\d{1,2}\b|\d?/\d{1,2}(?:/\d{2,4})?\b|\d?\.\d{1,2}\.\d{2,4}\b|\d?:\d{2}\b)"
)
_DIGIT = re.compile(r"\d")
_DIGITS = re.compile(r"\d{1,3}(?:([,.])\d{3})(?:\1\d{3})*(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?(?!\d)")


@dataclass(frozen=True)
class NumberMention:
    """A number found in text: its value, character span and the text as written."""

    value: float
    start: int
    end: int
    text: str
    words: bool = False

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)


def _start(mention: NumberMention) -> int:
    return mention.start


def parse_digits(text: str) -> float:
    """The value of a digit string with either decimal convention.

    ``1,250`` and ``1.250`` are thousands (three digits after the separator),
    ``95,50`` and ``95.50`` are decimals.

    Example:
        >>> parse_digits("1.250,50"), parse_digits("95,5"), parse_digits("1,250")
        (1250.5, 95.5, 1250.0)
    """
    seps = [c for c in text if c in ",."]
    if not seps:
        return float(text)
    last = max(text.rfind(","), text.rfind("."))
    decimals = len(text) - last - 1
    if len(seps) == 1 and decimals == 3:
        return float(text.replace(",", "").replace(".", ""))
    if decimals in (1, 2):
        whole = re.sub(r"[.,]", "", text[:last])
        return float(f"{whole}.{text[last + 1 :]}")
    return float(re.sub(r"[.,]", "", text))


def _below_hundred(tokens: list[str], i: int) -> tuple[int, int]:
    """Parse 1..99 at ``tokens[i]``: returns (value, tokens used); (0, 0) if none."""
    if i < len(tokens) and tokens[i] in TENS:
        value = TENS[tokens[i]]
        if i + 1 < len(tokens) and tokens[i + 1] in UNITS and 0 < UNITS[tokens[i + 1]] < 10:
            return value + UNITS[tokens[i + 1]], 2
        return value, 1
    if i < len(tokens) and tokens[i] in UNITS:
        return UNITS[tokens[i]], 1
    return 0, 0


def _below_thousand(tokens: list[str], i: int) -> tuple[int, int]:
    """Parse 1..999 ("a hundred and five", "two hundred", "forty-two")."""
    start = i
    if i < len(tokens) and tokens[i] == "a" and i + 1 < len(tokens) and tokens[i + 1] == "hundred":
        value, i = 100, i + 2
    else:
        head, used = _below_hundred(tokens, i)
        if not used:
            return 0, 0
        if used == 1 and head < 10 and i + 1 < len(tokens) and tokens[i + 1] == "hundred":
            value, i = head * 100, i + 2
        else:
            return head, used
    j = i + 1 if i < len(tokens) and tokens[i] == "and" else i
    tail, used = _below_hundred(tokens, j)
    if used:
        return value + tail, j + used - start
    return value, i - start


def _parse(tokens: list[str], i: int) -> tuple[int, int]:
    """Parse a whole number at ``tokens[i]`` with thousands and millions."""
    total, start = 0, i
    for scale in ("million", "thousand"):
        j = i + 1 if total and i < len(tokens) and tokens[i] == "and" else i
        if j < len(tokens) and tokens[j] == "a" and j + 1 < len(tokens) and tokens[j + 1] == scale:
            total, i = total + SCALES[scale], j + 2
            continue
        value, used = _below_thousand(tokens, j)
        if used and j + used < len(tokens) and tokens[j + used] == scale:
            total, i = total + value * SCALES[scale], j + used + 1
    j = i + 1 if total and i < len(tokens) and tokens[i] == "and" else i
    value, used = _below_thousand(tokens, j)
    if used:
        return total + value, j + used - start
    return total, i - start


def words_to_number(text: str) -> int | None:
    """The value of a phrase that is one number in words, else None.

    Example:
        >>> words_to_number("Eighty"), words_to_number("a hundred and ten"), words_to_number("nice")
        (80, 110, None)
    """
    tokens = [t.lower() for t in _WORD.findall(text)]
    if not tokens:
        return None
    value, used = _parse(tokens, 0)
    return value if used == len(tokens) else None


def _word_numbers(text: str) -> list[NumberMention]:
    words = list(_WORD.finditer(text))
    out: list[NumberMention] = []
    i = 0
    while i < len(words):
        low = words[i].group(0).lower()
        if low not in NUMBER_WORDS and low != "a":
            i += 1
            continue
        # the run of words joined only by spaces or hyphens
        j = i + 1
        while j < len(words) and _JOINER.match(text[words[j - 1].end() : words[j].start()]):
            j += 1
        tokens = [w.group(0).lower() for w in words[i:j]]
        value, used = _parse(tokens, 0)
        if used and tokens[used - 1] not in ("and", "a"):
            first, last = words[i], words[i + used - 1]
            out.append(NumberMention(float(value), first.start(), last.end(), text[first.start() : last.end()], True))
            i += used
        else:
            i += 1
    return out


def find_numbers(text: str) -> list[NumberMention]:
    """Every number in ``text``, digits and words, in order of appearance.

    Digits glued to letters on the left (``T-1042``, ``WO5531``, ``room12``) are
    identifiers, and dates and clock times (``2025-06-15``, ``15/06``, ``14:00``)
    are not amounts; both are skipped.
    """
    return list(_find_numbers(text))


@text_cache()  # a reply's numbers are asked for by the state and by several rules
def _find_numbers(text: str) -> tuple[NumberMention, ...]:
    # the words test first: a substring scan per word is cheaper than the alternation's search
    words = _NUMBER_WORDS_NEEDED.may_match(fold(text)) and _ANY_NUMBER_WORD.search(text) is not None
    out = _word_numbers(text) if words else []
    if _DIGIT.search(text) is None:
        return tuple(out)
    blocked = [m.span() for m in _DATES_TIMES.finditer(text)]  # sorted and apart: look one up by bisection
    worded = len(out)
    past = len(text) + 1
    append = out.append
    for m in _DIGITS.finditer(text):
        start = m.start()
        before = text[start - 1] if start else " "
        if before.isalpha() or before in "_#":
            continue
        if blocked and (i := bisect_right(blocked, (start, past)) - 1) >= 0 and blocked[i][0] <= start < blocked[i][1]:
            continue
        if before == "-" and start >= 2 and text[start - 2].isalpha():
            continue
        digits = m.group(0)
        append(NumberMention(float(digits) if digits.isdecimal() else parse_digits(digits), start, m.end(), digits))
    return tuple(sorted(out, key=_start) if worded else out)  # digits alone are found in order
