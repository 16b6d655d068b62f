"""Format breakage: markdown, HTML or JSON in a chat reply; unbalanced brackets and quotes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from pydantic import Field

from repo_sdk.interfaces import Rule
from repo_sdk.rules.base import RuleParams, cap_hits
from repo_sdk.rules.context import TurnContext
from repo_sdk.rules.speedups import SPEEDUPS
from repo_sdk.rules.text import clip_evidence
from repo_sdk.types import RuleHit

__all__ = ["FormatBreakage", "FormatBreakageParams", "find_json_objects", "unbalanced_brackets"]

_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S.*$", re.M)
_BULLET = re.compile(r"^[ \t]*[-*+•][ \t]+\S.*$", re.M)
_NUMBERED = re.compile(r"^[ \t]*\d{1,2}[.)][ \t]+\S.*$", re.M)
# **bold**, __bold__ (not inside a word), *italics* (not after a star or inside a word). Each
# alternative starts with its star or underscore, the test of the character before it comes after
# (``_(?<!\w_)`` is ``(?<!\w)_``): the engine then jumps from star to underscore instead of trying
# every position.
_EMPHASIS = re.compile(
    r"\*\*(?=\S)[^*\n]{1,300}?(?<=\S)\*\*|_(?<!\w_)_(?=\S)[^_\n]{1,300}?(?<=\S)__(?!\w)"
    r"|\*(?<![*\w]\*)(?=[^\s*])[^*\n]{1,300}?(?<=[^\s*])\*(?![*\w])"
)
_FENCE = re.compile(r"^[ \t]*(?:```|~~~).*?(?:^[ \t]*(?:```|~~~)[ \t]*$|\Z)", re.M | re.S)  # what _fenced finds
_FENCE_OPEN = re.compile(r"^[ \t]*(?:```|~~~)", re.M)
_FENCE_CLOSE = re.compile(r"^[ \t]*(?:```|~~~)[ \t]*$", re.M)
_INLINE_CODE = re.compile(r"`[^`\n]{1,300}`")
# (each optional part owns its spaces: two adjacent [ \t]* would backtrack quadratically)
_TABLE_RULE = re.compile(r"^[ \t]*(?:\|[ \t]*)?:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)+(?:\|[ \t]*)?$", re.M)
_LINK = re.compile(r"!?\[[^\]\n]{1,200}\]\((?:https?://|www\.|/|#|mailto:)[^)\s]{0,500}\)")
_HTML = re.compile(
    r"</?(?:br|p|div|span|b|i|u|strong|em|ul|ol|li|h[1-6]|table|tr|td|th|a|img|code|pre|hr)\b[^<>]{0,200}?/?>", re.I
)
# ``[\[{]\s*["'][^"'\n]{1,80}["']\s*:|\[\s*\{`` with the bracket both start with first (a jump between brackets)
_JSON_START = re.compile(r"[\[{](?:\s*[\"'][^\"'\n]{1,80}[\"']\s*:|(?<=\[)\s*\{)")

_PAIRS = {
    ")": "(",
    "]": "[",
    "}": "{",
    "\uff09": "\uff08",
    "\u3011": "\u3010",
    "\u300d": "\u300c",
    "\u300f": "\u300e",
    "\u300b": "\u300a",
    "\u3009": "\u3008",
    "\u201d": "\u201c",
}  # ASCII, fullwidth and CJK brackets, curly double quotes
_OPENERS = set(_PAIRS.values())
_BRACKET = re.compile("[" + re.escape("".join(_PAIRS) + "".join(sorted(_OPENERS))) + "]")
# ":)", ";-)", "=]" smileys and "1)", "a)", "iv)" list markers close nothing
_EXEMPT_CLOSER = re.compile(r"(?:[:;=8][-^']?[)\]]|(?:^|\s)[0-9A-Za-z]{1,2}\))$")


def unbalanced_brackets(text: str) -> list[int]:
    """Offsets of brackets without a partner: ``() [] {}``, CJK brackets and curly double quotes.

    Smileys (``:)``, ``;-)``, ``:(``) and list markers (``1)``, ``a)``) are not brackets.

    Example:
        >>> unbalanced_brackets("(fine) [oops"), unbalanced_brackets("1) twin 2) double :) (a)")
        ([7], [])
    """
    stack: list[int] = []
    bad: list[int] = []
    for m in _BRACKET.finditer(text):  # only the brackets: a long reply holds few of them
        i, ch = m.start(), m.group()
        if ch in _OPENERS:
            if ch == "(" and i > 0 and (text[i - 1] in ":;=" or text[i - 2 : i] in (":-", ";-", ":'")):
                continue  # ":(" is a frown
            stack.append(i)
        elif ch in _PAIRS:
            want = _PAIRS[ch]
            if stack and text[stack[-1]] == want:
                stack.pop()
            elif _EXEMPT_CLOSER.search(text[max(0, i - 4) : i + 1]):
                continue
            elif any(text[j] == want for j in stack):
                while text[stack[-1]] != want:
                    bad.append(stack.pop())
                stack.pop()
            else:
                bad.append(i)
    return sorted(bad + stack)


def find_json_objects(text: str) -> list[tuple[int, int]]:
    """Spans of JSON-like objects or arrays of objects (``{"key": ...}``, ``[{...}]``).

    A span runs from the opening bracket to its partner (strings respected), or to
    the end of the text when it is never closed.

    Example:
        >>> t = 'Sure: {"price": 80, "room": "twin"} ok'
        >>> [t[s:e] for s, e in find_json_objects(t)]
        ['{"price": 80, "room": "twin"}']
    """
    out: list[tuple[int, int]] = []
    pos = 0
    while (m := _JSON_START.search(text, pos)) is not None:
        start = m.start()
        end = _matching(text, start)
        out.append((start, end))
        pos = max(end, start + 1)
    return out


_JSON_MARK = re.compile(r"[\\\"'\[\]{}]")  # the only characters _matching looks at


def _matching(text: str, start: int) -> int:
    depth = 0
    quote: str | None = None
    i = start
    search = _JSON_MARK.search
    while (m := search(text, i)) is not None:  # jump to the next character that can matter
        i = m.start()
        ch = text[i]
        if quote is not None:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


class FormatBreakageParams(RuleParams):
    headings: bool = Field(True, description="markdown headings ('## Offer')")
    bullets: bool = Field(
        True, description="bullet lists: at least min_list_items lines starting with '-', '*', '+' or '•'"
    )
    numbered: bool = Field(False, description="numbered lists ('1. ...' lines); off: numbering options is fine in chat")
    min_list_items: int = Field(2, ge=1, description="list lines needed before a list counts")
    emphasis: bool = Field(True, description="markdown bold or italics (**x**, __x__, *x*)")
    code: bool = Field(True, description="code fences and `inline code`")
    tables: bool = Field(True, description="markdown tables (a |---|---| rule line)")
    links: bool = Field(True, description="markdown links and images ([text](url))")
    html: bool = Field(True, description="HTML tags (<br>, <b>, <p>, ...)")
    json_objects: bool = Field(True, description="JSON objects or arrays of objects in the reply")
    brackets: bool = Field(True, description="unbalanced () [] {} or CJK brackets and curly quotes")
    quotes: bool = Field(True, description="an odd number of straight double quotes")


class FormatBreakage(Rule[FormatBreakageParams]):
    """Formatting that breaks a chat reply: markdown, HTML, JSON, unbalanced brackets or quotes.

    One hit per kind of breakage found (headings, bullets, emphasis, code, table,
    link, html, json, brackets, quotes), pointing at its first occurrence; the reason
    says how many there are. A hyphen or an asterisk inside a sentence ("80-90",
    "a 5* hotel") is not markdown; a bullet list needs ``min_list_items`` lines.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> [h.evidence for h in FormatBreakage().check(make_sample(response="## Offer\\nWe pay **80**."))]
        ['## Offer', '**80**']
        >>> FormatBreakage().check(make_sample(response="A 5* hotel at 80-90 EUR (breakfast included)."))
        []
    """

    name: ClassVar[str] = "format_breakage"
    description: ClassVar[str] = "markdown, HTML or JSON in a chat reply; unbalanced brackets or quotes"
    default_points: ClassVar[float] = -5.0

    def __init__(self, config: FormatBreakageParams | None = None, points: float | None = None) -> None:
        super().__init__(config, points)
        p = self.config
        # each finder with the characters it cannot find anything without (a reply lacking them skips it)
        finders: list[tuple[str, Callable[[str], list[tuple[int, int]]], int, str]] = []
        if p.code:
            finders.append(("code", _code, 1, "`~"))
        if p.headings:
            finders.append(("markdown heading", lambda t: _spans(_HEADING, t), 1, "#"))
        if p.bullets:
            finders.append(("bullet list", lambda t: _spans(_BULLET, t), p.min_list_items, "-*+•"))
        if p.numbered:
            finders.append(("numbered list", lambda t: _spans(_NUMBERED, t), p.min_list_items, ".)"))
        if p.emphasis:
            finders.append(("markdown emphasis", lambda t: _spans(_EMPHASIS, t), 1, "*_"))
        if p.tables:
            finders.append(("markdown table", _tables, 1, "-"))
        if p.links:  # (a link needs "](": most brackets are not links)
            finders.append(("markdown link", lambda t: _spans(_LINK, t) if "](" in t else [], 1, "["))
        if p.html:
            finders.append(("HTML tag", lambda t: _spans(_HTML, t), 1, "<"))
        if p.json_objects:
            finders.append(("JSON", find_json_objects, 1, "[{"))
        if p.brackets:
            brackets = "".join(_PAIRS) + "".join(_OPENERS)
            finders.append(("unbalanced bracket", lambda t: [(i, i + 1) for i in unbalanced_brackets(t)], 1, brackets))
        if p.quotes:
            finders.append(("unbalanced quote", _odd_quotes, 1, '"'))
        self._finders = finders
        # one search for every character any finder needs: most replies hold none of them
        marks = "".join(sorted({c for *_, needs in finders for c in needs}))
        self._marks = re.compile("[" + re.escape(marks) + "]") if marks else None
        self._mark_chars = marks
        # (found in C where the module is built: no string per character found)
        self._chars_present = SPEEDUPS.chars_present if SPEEDUPS is not None and len(marks) <= 64 else None

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        text = turn.reply.text
        if self._marks is None:
            return []
        # the characters of any finder the reply holds, in one pass
        found = self._chars_present
        present = set(self._marks.findall(text) if found is None else found(text, self._mark_chars))
        if not present:
            return []
        hits: list[RuleHit] = []
        code: list[tuple[int, int]] = []
        for label, find, minimum, needs in self._finders:
            if present.isdisjoint(needs):
                continue
            spans = find(text)
            if label == "code":
                code = spans
            elif code:  # markdown inside a code block is part of that one breakage
                spans = [s for s in spans if not any(a <= s[0] < b for a, b in code)]
            if len(spans) < minimum or not spans:
                continue
            span = min(spans)
            many = f" ({len(spans)} found)" if len(spans) > 1 else ""
            hits.append(self.hit(f"{label} in a chat reply{many}", span=span, evidence=clip_evidence(text, span)))
        hits.sort(key=lambda h: h.span or (0, 0))
        return cap_hits(hits, self.config)


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text) if m.end() > m.start()]


def _code(text: str) -> list[tuple[int, int]]:
    fenced = _fenced(text) if "```" in text or "~~~" in text else []  # a fence needs one of them
    return fenced + _spans(_INLINE_CODE, text)


def _fenced(text: str) -> list[tuple[int, int]]:
    """The spans ``_FENCE`` finds: from a fence opening a line to the first closing one after it (or the end), found
    with one search each instead of trying the closing fence at every character in between.

    Example:
        >>> _fenced("Run:\\n```sh\\nls\\n```\\nthen ~~~ this\\n~~~\\nopen")
        [(5, 17), (32, 40)]
    """
    out = []
    at = 0
    while (opening := _FENCE_OPEN.search(text, at)) is not None:
        closing = _FENCE_CLOSE.search(text, opening.end())
        at = closing.end() if closing is not None else len(text)
        out.append((opening.start(), at))
        if at == len(text):
            break
    return out


def _tables(text: str) -> list[tuple[int, int]]:
    if "---" not in text:  # a rule line needs three dashes in a row
        return []
    out = []
    for m in _TABLE_RULE.finditer(text):
        head = text.rfind("\n", 0, max(0, m.start() - 1)) + 1
        out.append((head, m.end()))
    return out


def _odd_quotes(text: str) -> list[tuple[int, int]]:
    if text.count('"') % 2 == 0:
        return []
    last = text.rfind('"')
    return [(last, last + 1)]
