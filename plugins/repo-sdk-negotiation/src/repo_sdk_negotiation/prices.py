"""Prices and percentages in a reply: currency-marked amounts and bare amounts in a price context.

A number is a price when a currency marks it (``€95``, ``95 EUR``, ``ninety-five
euros``, ``EUR 1.250,00``), when a night/room unit follows it (``95 per night``),
or when a price word comes just before it (``a rate of 95``). A bare number after
a weaker cue (``could you do 95?``, ``meet at ninety``) counts only inside the
``plausible`` range the caller passes (the rules derive it from the task), so
``at 3`` or ``to 2`` are not read as prices. Quantities (``2 nights``, ``4 stars``,
``10%``) and years are never prices.

Example:
    >>> [(p.value, p.currency) for p in find_prices("Could we settle at €95, or ninety euros per night?")]
    [(95.0, 'EUR'), (90.0, 'EUR')]
    >>> [p.value for p in find_prices("Could you do 95 for 2 nights?", plausible=(50, 200))]
    [95.0]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from repo_sdk.rules.text import fold
from repo_sdk_negotiation.numwords import NumberMention, find_numbers

__all__ = ["PriceMention", "currency_matches", "find_percentages", "find_prices"]

SYMBOLS = {"US$": "USD", "€": "EUR", "$": "$", "£": "GBP", "¥": "¥", "￥": "¥", "元": "CNY", "₩": "KRW", "฿": "THB"}
CODES = ("EUR USD GBP JPY CNY RMB CHF AUD CAD SGD HKD NZD THB KRW INR AED SEK NOK DKK PLN CZK HUF TRY MXN BRL").split()
WORDS = {
    "euro": "EUR",
    "euros": "EUR",
    "eur": "EUR",
    "dollar": "$",
    "dollars": "$",
    "pound": "GBP",
    "pounds": "GBP",
    "yen": "JPY",
    "yuan": "CNY",
    "renminbi": "CNY",
    "rmb": "CNY",
    "franc": "CHF",
    "francs": "CHF",
    "baht": "THB",
    "rupee": "INR",
    "rupees": "INR",
    "dirham": "AED",
    "dirhams": "AED",
}
# a symbol or word can stand for several ISO codes
COMPATIBLE = {"$": {"USD", "AUD", "CAD", "SGD", "HKD", "NZD", "MXN"}, "¥": {"JPY", "CNY"}, "RMB": {"CNY"}}

_SYM = "|".join(re.escape(s) for s in sorted(SYMBOLS, key=len, reverse=True))
_CODE = "|".join(CODES)
_LEFT_CUR = re.compile(rf"(?:(?P<sym>{_SYM})|\b(?-i:(?P<code>{_CODE}))\b)\s?$", re.I)
_RIGHT_CUR = re.compile(rf"^\s?(?:(?P<sym>{_SYM})|(?-i:(?P<code>{_CODE}))\b|(?P<word>{'|'.join(WORDS)})\b)", re.I)
_PER_UNIT = re.compile(r"^\s*(?:per|a|/|each|every)\s*(?:night|room|stay)\b|^\s*nightly\b", re.I)
_QUANTITY = re.compile(
    r"^\s*(?:%|percent\b|per\s*cent\b|pct\b|nights?\b|rooms?\b|guests?\b|people\b|persons?\b|pax\b|adults?\b|"
    r"child(?:ren)?\b|kids?\b|days?\b|weeks?\b|months?\b|years?\b|hours?\b|hrs?\b|minutes?\b|mins?\b|stars?\b|"
    r"pm\b|am\b|p\.m\.|a\.m\.|o'clock\b|times\b|km\b|m\b|floors?\b|beds?\b|bookings?\b|reservations?\b|"
    r"reviews?\b|st\b|nd\b|rd\b|th\b|x\b|more\b|of\s+(?:you|them|us|our|your|the)\b)",
    re.I,
)
_STRONG_LEFT = re.compile(
    r"\b(?:price|prices|rate|rates|quote|quoted|quoting|offer|offered|offering|counter-?offer|counter|pay|paying|"
    r"paid|charge|charging|charged|cost|costs|priced|pricing|tariff|net|selling|budget|amount)\b"
    r"(?:\s+(?:is|was|of|at|to|would be|will be|be|as|for|from|down to|around|about|just|only|now|still|currently))*"
    r"\s*$",
    re.I,
)
_WEAK_LEFT = re.compile(
    r"\b(?:at|for|to|from|do|accept|about|around|meet|settle|make it|how about|what about|would|with|only|just|"
    r"reach|hit|match|is|be|on|of|below|above|under|over)\s*$",
    re.I,
)
_PERCENT = re.compile(r"^\s?(?:%|percent\b|per\s*cent\b|pct\b)", re.I)
# What a cue can start (or, before a number, end) with: a set lookup before its search. A currency
# written before a number ends with a symbol's last character or a code's upper-case letter; one written
# after it starts with a symbol's, a code's or a currency word's first character (case ignored: none of
# these letters has another character matching it then). A quantity or a unit after it starts with one of
# its words' first two characters (folded: the long s and the Kelvin sign match ``s`` and ``k``), or is
# ``%``, ``m`` or ``x`` (``a`` and ``/`` for a unit). tests/test_negotiation_fast_paths.py checks each.
_LEFT_LAST = frozenset(s[-1] for s in SYMBOLS)
_RIGHT_FIRST = frozenset(
    {c for s in SYMBOLS for c in (s[0], s[0].lower())}
    | {c[0] for c in CODES}
    | {c for w in WORDS for c in (w[0], w[0].upper())}
)
_QUANTITY_HEADS = frozenset(
    "% pe pc ni ro gu pa ad ch ki da we mo ye ho hr mi st pm am p. a. o' ti km m fl be bo re nd rd th x of".split()
)
_PER_UNIT_HEADS = frozenset("pe a / ea ev ni".split())


def _starts(head: str, heads: frozenset[str]) -> bool:
    """Whether a folded text starting ``head`` (its first two characters) starts as one of ``heads`` can."""
    return head in heads or head[:1] in heads


@dataclass(frozen=True)
class PriceMention:
    """A price in text.

    Attributes:
        value: the amount.
        start, end: character span of the whole mention (currency included).
        text: the mention as written.
        currency: ISO code, or ``$`` / ``¥`` when only the symbol is known; None when unmarked.
        number: the number inside the mention.
    """

    value: float
    start: int
    end: int
    text: str
    currency: str | None
    number: NumberMention

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)

    @property
    def explicit(self) -> bool:
        """Whether a currency marks the amount."""
        return self.currency is not None


def currency_matches(found: str | None, expected: str | None) -> bool:
    """Whether a mention's currency fits the task's (unmarked amounts always fit).

    Example:
        >>> currency_matches("$", "USD"), currency_matches("EUR", "USD"), currency_matches(None, "EUR")
        (True, False, True)
    """
    if found is None or expected is None:
        return True
    found, expected = found.upper(), expected.upper()
    expected = "CNY" if expected == "RMB" else expected
    if found == expected:
        return True
    return expected in COMPATIBLE.get(found, set())


def _currency(match: re.Match[str] | None) -> str | None:
    if match is None:
        return None
    sym = match.group("sym")
    if sym:
        return SYMBOLS["US$" if sym.upper() == "US$" else sym]
    if match.group("code"):
        code = match.group("code").upper()
        return "CNY" if code == "RMB" else code
    word = match.groupdict().get("word")
    return WORDS[word.lower()] if word else None


def _is_year(n: NumberMention) -> bool:
    return not n.words and n.value.is_integer() and 1900 <= n.value <= 2100 and len(n.text) == 4


def find_prices(text: str, *, plausible: tuple[float, float] | None = None, loose: bool = False) -> list[PriceMention]:
    """Prices in ``text``, in order (see the module docs for what counts as a price).

    Args:
        text: the text to search.
        plausible: ``(low, high)``: bare numbers after a weak cue count only in this range.
        loose: count every bare number in the ``plausible`` range, cue or not (for the
            hotel's short answers like "OK, 100 works").
    """
    out: list[PriceMention] = []
    for n in find_numbers(text):
        before, after = text[max(0, n.start - 40) : n.start], text[n.end : n.end + 40]
        # Each cue is searched only where its first (or, before the number, last) character can be.
        # A currency before the number ends the window (``\s?$``: at most 4 characters, 5 before a final
        # newline); the search starts where such a match can, its word boundary still seeing the text before.
        tail = before.rstrip()[-1:]
        left = _LEFT_CUR.search(before, max(0, len(before) - 6)) if tail in _LEFT_LAST or "A" <= tail <= "Z" else None
        first = after[1:2] if after[:1].isspace() else after[:1]
        right = _RIGHT_CUR.match(after) if first in _RIGHT_FIRST else None
        currency = _currency(left) or _currency(right)
        if currency is not None:
            start = n.start - len(left.group(0)) if left else n.start
            end = n.end + len(right.group(0)) if (right and not left) else n.end
            out.append(PriceMention(n.value, start, end, text[start:end], currency, n))
            continue
        head = fold(after.lstrip()[:2])  # a cue after the number starts here
        if (_starts(head, _QUANTITY_HEADS) and _QUANTITY.match(after)) or _is_year(n) or n.value <= 0:
            continue
        cued = tail.isalpha()  # a cue word ends where the whitespace before the number starts
        if (_starts(head, _PER_UNIT_HEADS) and _PER_UNIT.match(after)) or (cued and _strong_left(before)):
            out.append(PriceMention(n.value, n.start, n.end, n.text, None, n))
        elif (
            plausible is not None
            and plausible[0] <= n.value <= plausible[1]
            and (loose or (cued and _weak_left(before)))
        ):
            out.append(PriceMention(n.value, n.start, n.end, n.text, None, n))
    return out


def _last_word(before: str) -> tuple[str, int]:
    """The letters just before the trailing whitespace of ``before`` (folded), and where the whitespace starts."""
    end = len(before.rstrip())
    start = end
    while start and before[start - 1].isalpha():
        start -= 1
    return fold(before[start:end]), end


def _strong_left(before: str) -> bool:
    """``_STRONG_LEFT.search(before)``, searched only when the last word can end a match."""
    word, _ = _last_word(before)
    return word in _STRONG_LAST and _STRONG_LEFT.search(before) is not None


def _weak_left(before: str) -> bool:
    """``_WEAK_LEFT.search(before)``: its word ends where the trailing whitespace starts, so only the
    last characters are searched (the word boundary before them still sees the text)."""
    word, end = _last_word(before)
    return word in _WEAK_LAST and _WEAK_LEFT.search(before, max(0, end - _WEAK_LONGEST)) is not None


def _alternatives(pattern: re.Pattern[str]) -> list[str]:
    """The words of the first alternation of a cue: ``\\b(?:price|rates?|...)`` -> ['price', 'rates?', ...]."""
    body = pattern.pattern[pattern.pattern.index("(?:") + 3 :]
    depth = 0
    for end, ch in enumerate(body):
        depth += ch == "("
        if ch == ")":
            if not depth:
                return body[:end].split("|")
            depth -= 1
    raise ValueError(f"no alternation closes in {pattern.pattern!r}")


# the words a match of each left cue can end with (before the trailing whitespace): a cheap test first
_LINKS = "is was of at to would be will be be as for from down to around about just only now still currently"


def _last_words(words: list[str]) -> frozenset[str]:
    out = set()
    for w in words:  # "counter-?offer" ends "counteroffer" or, after the hyphen, "offer"
        out |= {w.replace("-?", "").split()[-1], w.split("-?")[-1].split()[-1]}
    return frozenset(out)


_STRONG_LAST = _last_words(_alternatives(_STRONG_LEFT)) | frozenset(_LINKS.split())
_WEAK_LAST = _last_words(_alternatives(_WEAK_LEFT))
_WEAK_LONGEST = max(map(len, _alternatives(_WEAK_LEFT))) + 1


def find_percentages(text: str) -> list[NumberMention]:
    """Percentages (``10%``, ``fifteen percent``), as the number mention covering the sign.

    Example:
        >>> [(p.value, p.text) for p in find_percentages("a 10% cut, or fifteen percent")]
        [(10.0, '10%'), (15.0, 'fifteen percent')]
    """
    out = []
    for n in find_numbers(text):
        m = _PERCENT.match(text[n.end : n.end + 12])
        if m:
            end = n.end + len(m.group(0))
            out.append(NumberMention(n.value, n.start, end, text[n.start : end], n.words))
    return out
