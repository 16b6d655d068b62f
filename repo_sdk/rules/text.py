"""Text helpers shared by the built-in rules and by rule plugins.

The public pieces are :func:`extract_numbers` (numbers, prices and ranges with their
spans), :func:`normalize_currency`, :func:`split_sentences`, :func:`word_spans`,
:func:`tokenize` and :func:`clip_evidence`. Everything works on plain ``str`` and
returns character offsets into that string, so a rule can hand them straight to
:meth:`repo_sdk.interfaces.Rule.hit`.

Example:
    >>> [(m.value, m.currency, m.kind) for m in extract_numbers("Room 502: €1,200.50 for 2 nights")]
    [(502.0, None, 'identifier'), (1200.5, 'EUR', 'money'), (2.0, None, 'count')]
"""

from __future__ import annotations

import heapq
import re
import string
from dataclasses import dataclass
from itertools import product
from typing import Literal

from repo_sdk.rules.anchors import anchored_finditer, starts

try:  # a multi-word search in one pass (Rust); without it each word is a substring test of its own
    from ahocorasick_rs import AhoCorasick
except ImportError:  # pragma: no cover - an optional speed-up
    AhoCorasick = None  # type: ignore[misc,assignment]  # the class or None: the speed-up is optional

__all__ = [
    "AMBIGUOUS_MARKERS",
    "CJK",
    "CURRENCY_ALIASES",
    "NumberKind",
    "NumberMention",
    "TOKEN",
    "clip_evidence",
    "currencies_of",
    "extract_numbers",
    "fold",
    "normalize_currency",
    "parse_number",
    "split_sentences",
    "tokenize",
    "word_spans",
]

NumberKind = Literal["money", "number", "percent", "date", "time", "count", "ordinal", "identifier"]

#: Currency markers (lower-cased) and the ISO 4217 code each stands for. ``$`` is read
#: as USD and ``¥`` as CNY (the paper's setting is a Chinese travel agency); write
#: ``JPY`` or ``yen`` for yen.
CURRENCY_ALIASES: dict[str, str] = {
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "us dollar": "USD",
    "us dollars": "USD",
    "£": "GBP",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "¥": "CNY",
    "￥": "CNY",
    "cny": "CNY",
    "rmb": "CNY",
    "yuan": "CNY",
    "元": "CNY",
    "块": "CNY",
    "jpy": "JPY",
    "yen": "JPY",
    "hk$": "HKD",
    "hkd": "HKD",
    "hk dollar": "HKD",
    "hk dollars": "HKD",
    "chf": "CHF",
    "franc": "CHF",
    "francs": "CHF",
    "a$": "AUD",
    "aud": "AUD",
    "c$": "CAD",
    "cad": "CAD",
    "s$": "SGD",
    "sgd": "SGD",
}
#: Markers that stand for more than one currency: the code :data:`CURRENCY_ALIASES`
#: reads them as, and the others they may mean. A price check that knows the task's
#: currency accepts any of them (``¥24,000`` in a JPY task is yen).
_DOLLARS = frozenset({"USD", "AUD", "CAD", "NZD", "SGD", "HKD", "MXN"})
AMBIGUOUS_MARKERS: dict[str, frozenset[str]] = {
    "$": _DOLLARS, "dollar": _DOLLARS, "dollars": _DOLLARS, "bucks": _DOLLARS,
    "¥": frozenset({"CNY", "JPY"}), "￥": frozenset({"CNY", "JPY"}),
}  # fmt: skip
_CODES = "eur|usd|cny|rmb|gbp|jpy|hkd|chf|aud|cad|sgd"
_SP = "[ \u00a0\u202f]"  # a space, a no-break space or a narrow no-break space

# The number itself. Thousands separators: ``,`` (1,200), ``.`` when unambiguous
# (1.200,50 or 1.200.000) and no-break spaces (1 200). A single ``.`` or ``,`` with
# other than three digits after it is a decimal point.
# Every pattern that scans a whole text starts with a digit (or a literal), so the
# regex engine can skip to candidate positions; the boundary checks come right after
# that first digit as lookbehinds. This keeps extraction several times faster.

# The number itself. Thousands separators: ``,`` (1,200), ``.`` when unambiguous
# (1.200,50 or 1.200.000) and no-break spaces (1 200). A single ``.`` or ``,`` with
# other than three digits after it is a decimal point.
_NUM = r"""
\d(?<!\d\d)(?<!\d[.,]\d)
(?:
    \d{0,2}(?:,\d{3})+(?:\.\d+)?
  | \d{0,2}(?:\.\d{3})+,\d+
  | \d{0,2}(?:\.\d{3}){2,}
  | \d{0,2}(?:[\u00a0\u202f]\d{3})+(?:[.,]\d+)?
  | \d*(?:[.,]\d+)?
)
(?!\d)
"""
_MENTION = re.compile(
    rf"""
    (?P<num>{_NUM})
    (?P<k>[kK](?![A-Za-z]))?
    (?:{_SP}?(?P<post>[€$£¥￥元块]|(?<![A-Za-z])(?i:(?:us|hk){_SP})?(?i:{_CODES}|euros?|dollars?|bucks|pounds?|yuan|yen|francs?)(?![A-Za-z])))?
    """,
    re.X,
)
# a currency written before the number, searched in the few characters before it
_PREFIX = re.compile(rf"(?:(?<![A-Za-z])(?:[Uu][Ss]|[Hh][Kk]|[ACS])\$|[€$£¥￥]|(?<![A-Za-z])(?i:{_CODES})){_SP}?$")

_MONTH = (
    r"(?:\b(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)|\bMay)\b\.?"
)
_MONTH_HINTS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# Whether text.lower() holds one of them, asked of the text itself: only ASCII letters lower-case to
# these letters (the Kelvin sign and the dotted I lower-case to a k and an i, which no month has), so
# the text holds one with its letters in any case; every case of each is searched in one pass.
_MONTH_HINT = (
    AhoCorasick(sorted({"".join(c) for m in _MONTH_HINTS for c in product(*((x, x.upper()) for x in m))}))
    if AhoCorasick is not None
    else None
)
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?!\d)(?:st|nd|rd|th)?"
_SUFFIX = r"(?:st|nd|rd|th)?"
_DATES = re.compile(
    rf"""
    \d
    (?:
        (?<!\w\d)\d{{3}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}\b
      | (?<!\w\d)\d?[-/.]\d{{1,2}}[-/.]\d{{2,4}}\b
      | (?<!\w\d)\d?/\d{{1,2}}\b
      | (?<!\w\d)\d?(?!\d)(?<![4-9]\d)(?<!3[2-9])(?<!00){_SUFFIX}(?:\s*[-\u2013]\s*{_DAY})?\s+(?:of\s+)?{_MONTH}
        (?:,?\s+\d{{4}})?
      | \d{{1,3}}年(?:\d{{1,2}}月)?(?:\d{{1,2}}[日号])?
      | \d?月(?:\d{{1,2}}[日号])?
    )
    """,
    re.X,
)
_MONTH_DATES = re.compile(rf"{_MONTH}\s+{_DAY}(?:\s*[-\u2013]\s*{_DAY})?(?:,?\s+\d{{4}})?")
_MONTH_STARTS = starts(_MONTH_DATES)  # a month name: the search tries only where one starts
_TIMES = re.compile(
    r"""
    \d
    (?:
        (?<!\w\d)\d?:\d{2}(?::\d{2})?(?:\s?(?i:[ap]\.m\.|[ap]m\b))?
      | (?<!\w\d)\d?\s?(?i:[ap]\.m\.|[ap]m\b)
      | (?<!\w\d)\d?h\d{2}\b
      | (?<!\w\d)\d?\s?(?i:o'?clock)\b
      | \d?[点时](?:\d{1,2}分)?
    )
    """,
    re.X,
)
_PHONES = (
    re.compile(r"\+\d{1,4}(?:[ \-.]?\d{2,5}){2,}"),
    re.compile(r"\d(?<![\d.,]\d)\d{1,4}(?:-\d{2,5}){2,}(?![\d.,])"),
)
_PERCENT = re.compile(rf"{_SP}?(?:%|\uff05|(?i:percent|per{_SP}?cent|pct)\b)")
_ORDINAL = re.compile(r"(?i:st|nd|rd|th)\b")
# the units a count's number comes before (``2 nights``), case ignored; each starts with two literal
# characters (or is one: ``x``), which :func:`_may_count` tests before the pattern runs
_UNITS = (
    "nights?|rooms?|guests?|people|persons?|pax|adults?|child(?:ren)?|kids?|days?|weeks?|months?|years?"
    "|beds?|floors?|stars?|breakfasts?|hours?|hrs?|minutes?|mins?|seconds?|km|kilomet(?:er|re)s?|miles?|meters?"
    "|metres?|sqm|m2|m²|square|times|x|pieces?|units?|items?|tickets?|bookings?|reservations?|options?"
    "|questions?|points?|steps?|types?|kinds?|buildings?|stops?"
)
_CJK_UNITS = "晚间人位天夜个次张层楼"
_COUNT = re.compile(
    rf"""
    {_SP}?-?{_SP}?
    (?:
      (?i:(?!(?:per|a|an|each|every|for|the|and|or|to|is|was|at|on|in)\b)[a-z]+\s+)?
      (?i:{_UNITS})\b
      | [{_CJK_UNITS}]
    )
    """,
    re.X,
)
_UNIT_HEADS = frozenset({unit[:2] for unit in _UNITS.split("|")} | set(_CJK_UNITS))
_IDENT_WORDS = frozenset(
    "room rm number floor tel phone order booking reservation confirmation ref code id flight gate platform line bus"
    " apartment apt suite unit building ext".split()
)  # the words before a number that make it an identifier (``room 502``), case ignored
_IDENT_LAST = frozenset(".#№°")  # the characters its other markers end with (``No.``, ``#``, ``№``, ``N°``)
_IDENT_BEFORE = re.compile(rf"(?:(?i:\b(?:{'|'.join(sorted(_IDENT_WORDS))}))\.?|\bNo\.|\bno\.|[#№]|N°)\s*#?\s*$")
_IDENT_LONGEST = len("confirmation.")  # the longest marker _IDENT_BEFORE ends with
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_YEAR = re.compile(r"(?:19|20)\d{2}")
_YEAR_BEFORE = re.compile(r"\b(?i:in|since|until|till|by|year)\s+$")
_RANGE_SEP = re.compile(r"\s*(?:-|\u2013|\u2014|~|\uff5e|\u81f3|\u5230|\bto\b)\s*")
_DIGIT = re.compile(r"\d")

CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"  #: CJK ranges (in a class)
TOKEN = re.compile(rf"[{CJK}]|[^\W_{CJK}]+")
_TOKEN = TOKEN
_CLOSERS = r"[\"'\u201d\u2019)\]]*"  # quotes and brackets that may follow a full stop
# ``[.!?…]+(?=CLOSERS(?:\s|$))CLOSERS|[CJK stops]+|\n``, written to start with the one character every
# sentence end starts with, so the engine skips to those characters instead of trying every position
_SENTENCE_END = re.compile(
    rf"[.!?\u2026\u3002\uff01\uff1f\n](?:(?<=[.!?\u2026])[.!?\u2026]*(?={_CLOSERS}(?:\s|$)){_CLOSERS}"
    r"|(?<=[\u3002\uff01\uff1f])[\u3002\uff01\uff1f]*|(?<=\n))"
)
_SENTENCE_GAP = re.compile(rf"(?:{_SENTENCE_END.pattern})(\s*)")  # a sentence's end and the whitespace after it


@dataclass(frozen=True)
class NumberMention:
    """A number found in a text, with what it seems to be.

    Attributes:
        value: the number as a float (``"1,200.50"`` -> ``1200.5``; ``"80k"`` -> ``80000.0``).
        span: ``(start, end)`` of the whole mention in the text, currency marker (and ``%``) included.
        text: ``text[span[0]:span[1]]``.
        currency: ISO 4217 code when a currency marker is attached (``€80``, ``80 EUR``,
            ``80元``), or carried over from the other end of a range; else ``None``.
        kind: ``money`` (has a currency), ``number`` (a plain number, possibly a price),
            or a kind that is clearly not a price: ``percent``, ``date``, ``time``,
            ``count`` (``2 nights``), ``ordinal`` (``3rd``) or ``identifier``
            (``room 502``, ``#12``, phone numbers, digits glued to letters as in ``A380``).
        number_span: ``(start, end)`` of the digits alone.
        range_bounds: ``(low, high)`` when the number is an end of a range (``80-90``,
            ``€80 to €90``); both ends are reported as their own mentions.
    """

    value: float
    span: tuple[int, int]
    text: str
    currency: str | None = None
    kind: NumberKind = "number"
    number_span: tuple[int, int] = (0, 0)
    range_bounds: tuple[float, float] | None = None

    @property
    def is_price_like(self) -> bool:
        """True for ``money`` and plain ``number`` mentions: the ones a price check looks at."""
        return self.kind in ("money", "number")


def normalize_currency(marker: str | None) -> str | None:
    """The ISO 4217 code of a currency marker, or ``None`` when it is not one.

    Accepts symbols, codes and words in any case; an ISO-looking three-letter code
    that is not in :data:`CURRENCY_ALIASES` is returned upper-cased.

    Example:
        >>> normalize_currency("€"), normalize_currency("Euros"), normalize_currency("rmb"), normalize_currency("")
        ('EUR', 'EUR', 'CNY', None)
    """
    if not marker:
        return None
    key = " ".join(marker.lower().replace("\u00a0", " ").replace("\u202f", " ").split())
    if key in CURRENCY_ALIASES:
        return CURRENCY_ALIASES[key]
    if re.fullmatch(r"[a-z]{3}", key):
        return key.upper()
    return None


def currencies_of(mention: NumberMention) -> frozenset[str]:
    """The currencies a mention's own marker may stand for: one code, several for ``$`` or ``¥``.

    Empty when the mention has no marker of its own: a plain number, or the end of
    a range that takes its currency from the other end (``80`` in ``80-90 EUR``).

    Example:
        >>> [sorted(currencies_of(m)) for m in extract_numbers("¥24,000 or 80-90 EUR or 95")]
        [['CNY', 'JPY'], [], ['EUR'], []]
    """
    if mention.currency is None:
        return frozenset()
    a, b = mention.number_span[0] - mention.span[0], mention.number_span[1] - mention.span[0]
    marker = (mention.text[:a] + mention.text[b:]).strip(" \u00a0\u202f-").lower()
    if not marker:
        return frozenset()
    return AMBIGUOUS_MARKERS.get(marker, frozenset({mention.currency}))


def parse_number(text: str) -> float:
    """Parse one number as written in prose: ``1,200.50``, ``1.200,50``, ``1 200``, ``80,5``.

    A lone ``,`` followed by exactly three digits is a thousands separator
    (``1,200`` is 1200); any other lone ``,`` or ``.`` is a decimal point (``1.200``
    is 1.2, the English reading). With both separators the last one is the decimal point.

    Raises:
        ValueError: when ``text`` is not a number.

    Example:
        >>> parse_number("1,200.50"), parse_number("1.200,50"), parse_number("80,5"), parse_number("1.200.000")
        (1200.5, 1200.5, 80.5, 1200000.0)
    """
    s = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif "," in s:
        s = s.replace(",", "") if _THOUSANDS.fullmatch(s) else s.replace(",", ".")
    elif s.count(".") > 1:
        s = s.replace(".", "")
    if not _PLAIN_NUMBER.fullmatch(s):
        raise ValueError(f"not a number: {text!r}")
    return float(s)


class _Protected:
    """The dates, times and phone numbers of a text: for an offset inside one, the furthest end covering
    it and its kind (the first found among those ending there). Offsets are asked for in increasing
    order, so the spans are swept once (a heap of the spans begun so far, furthest end first)."""

    def __init__(self, text: str) -> None:
        patterns: list[tuple[re.Pattern[str], NumberKind]] = [(_DATES, "date"), (_TIMES, "time")]
        patterns += [(p, "identifier") for p in _PHONES]
        found = [(m.start(), -m.end(), kind) for pattern, kind in patterns for m in pattern.finditer(text)]
        if _has_month(text):
            found += [(m.start(), -m.end(), "date") for m in anchored_finditer(_MONTH_DATES, text, _MONTH_STARTS)]
        # (start, order): a stable order of the spans as found, pattern by pattern
        self.spans = sorted((start, order, -neg_end, kind) for order, (start, neg_end, kind) in enumerate(found))
        self._next = 0
        self._open: list[tuple[int, int, NumberKind]] = []  # (-end, order, kind)

    def at(self, pos: int) -> tuple[int, NumberKind] | None:
        spans, heap = self.spans, self._open
        while self._next < len(spans) and spans[self._next][0] <= pos:
            _, order, end, kind = spans[self._next]
            heapq.heappush(heap, (-end, order, kind))
            self._next += 1
        while heap and -heap[0][0] <= pos:
            heapq.heappop(heap)  # ended before pos: it covers no later offset either
        return (-heap[0][0], heap[0][2]) if heap else None


def _has_month(text: str) -> bool:
    """Whether ``text.lower()`` holds the first letters of a month's name."""
    if _MONTH_HINT is not None:
        try:
            return bool(_MONTH_HINT.find_matches_as_indexes(text))
        except UnicodeEncodeError:  # half of a surrogate pair: not UTF-8, so not for the automaton
            pass
    lower = text.lower()
    return any(month in lower for month in _MONTH_HINTS)


def _ident_before(before: str) -> bool:
    """``_IDENT_BEFORE.search(before)``, searched only where a match can end the text and from where it
    can start: its marker (at most ``_IDENT_LONGEST`` characters) is one of its words, or ends in
    ``.``, ``#``, ``№`` or ``°``, where only spaces and one ``#`` follow."""
    rest = before.rstrip()
    last = rest[-1:]
    if last.isalpha():
        if fold(_last_letters(rest)) not in _IDENT_WORDS:
            return False
    elif last not in _IDENT_LAST:
        return False
    if last == "#":  # the marker, or the ``#`` after one
        rest = rest[:-1].rstrip()
    return _IDENT_BEFORE.search(before, max(0, len(rest) - _IDENT_LONGEST)) is not None


def _last_letters(text: str) -> str:
    """The letters ``text`` ends with."""
    start = len(text)
    while start and text[start - 1].isalpha():
        start -= 1
    return text[start:]


def _may_count(after: str) -> bool:
    """Whether ``_COUNT`` can match ``after``: a unit starts after the spaces and dash, or after one
    word and the whitespace following it (``2 double rooms``)."""
    rest = after.lstrip(" \u00a0\u202f-")
    if not rest[:1].isalpha():  # every unit, and the word before one, starts with a letter
        return False
    if _unit_head(rest):
        return True
    end = 0
    while end < len(rest) and rest[end].isalpha():
        end += 1
    return 0 < end < len(rest) and rest[end].isspace() and _unit_head(rest[end:].lstrip())


def _unit_head(text: str) -> bool:
    """Whether ``text`` starts as a unit of ``_COUNT`` can (case ignored as the regex engine ignores it)."""
    head = fold(text[:2])
    return head[:2] in _UNIT_HEADS or head[:1] in _UNIT_HEADS


def extract_numbers(text: str) -> list[NumberMention]:
    """Every number in ``text``, in order, with its value, span, currency and kind.

    Handles currency symbols and codes before or after the number (``€80``, ``80 €``,
    ``EUR 80``, ``80EUR``, ``80 euros``, ``US$80``, ``¥500``, ``500元``), thousands
    separators and decimals (``1,200``, ``80.00``, ``1.200,50``), a ``k`` suffix
    (``1.2k``) and ranges (``80-90``, ``€80 - €90``, ``80 to 90 EUR``, en or em dashes,
    ``~``: each end is a mention with ``range_bounds`` set, and a currency written on
    one end is carried to the other). Numbers inside dates, times and phone numbers, percentages,
    counts (``2 nights``, ``3 rooms``), ordinals and identifiers (``room 502``,
    ``#3``, ``A380``) get a kind other than ``money`` / ``number``, so price checks can
    skip them. Negative numbers are not recognised (a ``-`` is read as a range dash),
    nor are numbers written in words.

    Example:
        >>> [(m.text, m.value, m.currency) for m in extract_numbers("80-90 EUR, or $1,200.00")]
        [('80', 80.0, 'EUR'), ('90 EUR', 90.0, 'EUR'), ('$1,200.00', 1200.0, 'USD')]
        >>> [m.kind for m in extract_numbers("On 2024-05-01 at 14:00, 10% off, the 3rd floor")]
        ['date', 'date', 'date', 'time', 'time', 'percent', 'ordinal']
    """
    if not text or _DIGIT.search(text) is None:
        return []
    protected = _Protected(text)
    out: list[NumberMention] = []
    append = out.append
    last_end = 0
    for m in _MENTION.finditer(text):
        num, k, post = m.groups()
        num_span = m.span(1)
        # digits alone read as themselves (str.isdecimal is the regex engine's \d)
        value = float(num) if num.isdecimal() else parse_number(num)
        if k:
            value *= 1000.0
        start, end = m.span()
        pre = None
        if start > last_end:  # a currency written before the number: searched only where one can end
            lo = max(last_end, start - 8)
            i = start - 1  # the marker's last character: before one space, before a final newline (``$``)
            if text[i] == "\n" and i > lo:
                i -= 1
            if text[i] in _SPACES and i > lo:
                i -= 1
            if text[i] in _PREFIX_LAST:
                pre = _PREFIX.search(text, lo, start)
        if pre is not None:
            start = pre.start()
            marker = pre.group(0).rstrip(" \u00a0\u202f") or post
        else:
            marker = post
        currency = normalize_currency(marker) if marker else None
        cover = protected.at(num_span[0]) if protected.spans else None
        if cover is not None and cover[0] >= num_span[1]:
            kind, currency, (start, end) = cover[1], None, num_span
        elif currency is not None:
            kind = "money"
        else:
            kind, end = _plain_kind(text, start, end, num)
        last_end = max(end, m.end())
        append(_mention(value, (start, end), text[start:end], currency, kind, num_span))
    return _link_ranges(text, out)


# The characters a match of each context pattern can start (or, before a number, end) with: a cheap test
# that skips the search where it cannot match (``tests/rules/test_rules_fast_paths.py`` checks each set
# over every code point: the long s and the Kelvin sign match ``s`` and ``k`` when case is ignored).
_PREFIX_LAST = frozenset("$€£¥￥rdybpfRDYBPF")
_PERCENT_FIRST = frozenset("%\uff05pP")
_ORDINAL_FIRST = frozenset("sSnNrRtT\u017f")
_SPACES = frozenset(" \u00a0\u202f")
_ASCII_LETTERS = frozenset(string.ascii_letters)


def _plain_kind(text: str, start: int, end: int, num: str) -> tuple[NumberKind, int]:
    """The kind of a number written without a currency, and where its mention ends (after a ``%``)."""
    after = text[end : end + 40]
    first = after[:1]
    second = after[1:2] if first in _SPACES else first
    if second in _PERCENT_FIRST and (pm := _PERCENT.match(after)):
        return "percent", end + pm.end()
    if first in _ORDINAL_FIRST and _ORDINAL.match(after):
        return "ordinal", end
    if start > 0 and text[start - 1] in _ASCII_LETTERS:
        return "identifier", end
    before = text[max(0, start - 24) : start]
    if _ident_before(before):
        return "identifier", end
    if _may_count(after) and _COUNT.match(after):
        return "count", end
    if first in _ASCII_LETTERS:
        return "identifier", end  # digits glued to letters: 5G, 3x4, mp3-style tokens
    if len(num) == 4 and _YEAR.fullmatch(num) and (_YEAR_BEFORE.search(before) or after.startswith("年")):
        return "date", end
    return "number", end


_new_mention = object.__new__


def _mention(
    value: float,
    span: tuple[int, int],
    text: str,
    currency: str | None,
    kind: NumberKind,
    number_span: tuple[int, int],
    range_bounds: tuple[float, float] | None = None,
) -> NumberMention:
    """``NumberMention(...)`` without the frozen dataclass's per-field ``__setattr__`` (a reply may hold
    hundreds of thousands of numbers)."""
    mention = _new_mention(NumberMention)
    mention.__dict__.update(
        value=value,
        span=span,
        text=text,
        currency=currency,
        kind=kind,
        number_span=number_span,
        range_bounds=range_bounds,
    )
    return mention


def _link_ranges(text: str, mentions: list[NumberMention]) -> list[NumberMention]:
    out = list(mentions)
    price_like = ("money", "number")
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        if a.kind not in price_like or b.kind not in price_like or a.range_bounds is not None:
            continue
        if not _RANGE_SEP.fullmatch(text[a.span[1] : b.span[0]]):
            continue
        if a.currency and b.currency and a.currency != b.currency:
            continue
        bounds = (min(a.value, b.value), max(a.value, b.value))
        currency = a.currency or b.currency
        kind: NumberKind = "money" if currency else "number"
        out[i] = _mention(a.value, a.span, a.text, currency, kind, a.number_span, bounds)
        out[i + 1] = _mention(b.value, b.span, b.text, currency, kind, b.number_span, bounds)
    return out


def fold(text: str) -> str:
    """Case-folded ``text`` in which a word an ASCII pattern matches under ``re.IGNORECASE`` appears in lower case.

    For cheap prefilters: when ``"ticket" not in fold(text)``, no case-insensitive pattern
    needing the word "ticket" can match ``text`` (the long s, Kelvin sign and dotted or
    dotless i fold to ASCII as the regex engine matches them).

    Example:
        >>> fold("TİCKET"), fold("\u017ftep")
        ('ticket', 'step')
    """
    if text.isascii():
        return text.lower()
    return text.casefold().replace("\u0131", "i").replace("i\u0307", "i")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; each CJK character is a token of its own.

    Example:
        >>> tokenize("Thank you, 谢谢! It's 80.")
        ['thank', 'you', '谢', '谢', 'it', 's', '80']
    """
    return [t.lower() for t in _TOKEN.findall(text)]


def word_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the tokens :func:`tokenize` returns (words; single CJK characters).

    Example:
        >>> word_spans("Hi there")
        [(0, 2), (3, 8)]
    """
    return [m.span() for m in _TOKEN.finditer(text)]


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text``, surrounding whitespace left out.

    A sentence ends at ``.``, ``!``, ``?`` or ``…`` followed by a space or the end
    (so ``80.00`` does not split), at the CJK full stop, exclamation and question marks, and at each newline.

    Example:
        >>> t = "Hi. The price is 80.00 EUR!\\nBye"
        >>> [t[s:e] for s, e in split_sentences(t)]
        ['Hi.', 'The price is 80.00 EUR!', 'Bye']
    """
    out: list[tuple[int, int]] = []
    pos = len(text) - len(text.lstrip())  # each sentence starts where the whitespace after an end stops
    for m in _SENTENCE_GAP.finditer(text, pos):
        end = m.start(1)
        if text[end - 1] == "\n":  # a line's end: spaces may come before it (never before punctuation)
            end = pos + len(text[pos:end].rstrip())
        out.append((pos, end))
        pos = m.end()
    if pos < len(text):
        out.append((pos, pos + len(text[pos:].rstrip())))
    return out


def clip_evidence(text: str, span: tuple[int, int], limit: int = 200) -> str:
    """``text[start:end]``, cut to ``limit`` characters with a trailing ``…`` when longer.

    Example:
        >>> clip_evidence("abcdef", (1, 6), limit=3)
        'bc…'
    """
    s, e = span
    if min(e, len(text)) - s <= limit:
        return text[s:e]
    return text[s : s + max(0, limit - 1)] + "…"  # without copying a long span first
