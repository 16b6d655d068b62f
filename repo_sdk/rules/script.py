"""Mixed languages, detected as mixed writing systems (scripts) in one reply."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Literal, NamedTuple

from pydantic import Field

from repo_sdk.interfaces import Rule
from repo_sdk.rules.base import RuleParams, cap_hits, task_value
from repo_sdk.rules.context import TurnContext
from repo_sdk.rules.speedups import SPEEDUPS
from repo_sdk.rules.text import clip_evidence
from repo_sdk.types import RuleHit

__all__ = ["SCRIPTS", "MixedScript", "MixedScriptParams", "Script", "class_bounds", "script_segments"]

Script = Literal["latin", "cyrillic", "greek", "cjk", "arabic", "hebrew", "devanagari", "thai"]

#: Letters of each script, as regex character-class ranges. ``cjk`` is Chinese,
#: Japanese and Korean together (Han, kana, Hangul): Japanese and Korean mix these
#: within one language. Digits, punctuation, symbols and emoji belong to no script.
SCRIPTS: dict[str, str] = {
    "latin": "A-Za-z\u00aa\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff\uff21-\uff3a\uff41-\uff5a",
    "cyrillic": "\u0400-\u0481\u048a-\u052f",
    "greek": "\u0370-\u0373\u0376\u0377\u037b-\u037d\u0386\u0388-\u03ff\u1f00-\u1fff",
    "cjk": "\u3005\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7a3\uf900-\ufaff\uff66-\uff9d\U00020000-\U0002fa1f",
    "arabic": "\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc",
    "hebrew": "\u05d0-\u05ea\u05f0-\u05f2",
    "devanagari": "\u0900-\u0939\u093d\u0950\u0958-\u0961\u0972-\u097f",
    "thai": "\u0e01-\u0e30\u0e32\u0e33\u0e40-\u0e46",
}
_ALL_LETTERS = "".join(SCRIPTS.values())
_ASCII_NON_LETTERS = bytes(c for c in range(128) if not chr(c).isalpha())
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


class _Patterns(NamedTuple):
    segments: re.Pattern[str]  # a segment in one match (script_segments)
    non_letters: re.Pattern[str]  # a run of characters that are no script's letters
    letter: re.Pattern[str]  # one letter of any script
    other_scripts: re.Pattern[str]  # one letter of a script other than Latin


@cache
def _patterns() -> _Patterns:
    """The expressions over every script's letters, compiled on first use: about 30 ms, which a run whose
    replies hold Latin letters alone never pays.

    A segment in one match: a letter of one script, then as far as its last letter before a letter of
    another script (the classes are disjoint: the first letter names the script). One class runs over the
    segment, and the engine steps back only over the non-letters after its last letter.
    """
    segments = "|".join(
        f"(?P<{name}>[{chars}](?:[^{''.join(v for k, v in SCRIPTS.items() if k != name)}]*[{chars}])?)"
        for name, chars in SCRIPTS.items()
    )
    others = "".join(chars for name, chars in SCRIPTS.items() if name != "latin")
    return _Patterns(
        segments=re.compile(segments),
        non_letters=re.compile(f"[^{_ALL_LETTERS}]+"),
        letter=re.compile(f"[{_ALL_LETTERS}]"),
        other_scripts=re.compile(f"[{others}]"),
    )


def class_bounds(inside: str) -> tuple[int, ...]:
    """The first and last code point of each range of a character class's inside, for
    ``SPEEDUPS.any_in_ranges`` (:mod:`repo_sdk.rules.speedups`).

    Example:
        >>> class_bounds("a-zé")
        (97, 122, 233, 233)
    """
    out: list[int] = []
    i = 0
    while i < len(inside):
        if i + 2 < len(inside) and inside[i + 1] == "-":
            out += [ord(inside[i]), ord(inside[i + 2])]
            i += 3
        else:
            out += [ord(inside[i])] * 2
            i += 1
    return tuple(out)


_OTHER_BOUNDS = class_bounds("".join(chars for name, chars in SCRIPTS.items() if name != "latin"))
# a CJK character carries about a word; weigh it like a few Latin letters
_WEIGHT = {"cjk": 3}


@dataclass(frozen=True)
class Segment:
    """A maximal stretch of one script (runs of it with only non-letters between)."""

    script: str
    start: int
    end: int
    letters: int


def script_segments(text: str) -> list[Segment]:
    """The segments of ``text`` by script, in order; non-letters join neighbouring runs.

    Example:
        >>> [(s.script, s.start, s.end) for s in script_segments("Hi 你好 there!")]
        [('latin', 0, 2), ('cjk', 3, 5), ('latin', 6, 11)]
    """
    out: list[Segment] = []
    for m in _patterns().segments.finditer(text):
        a, b = m.span()
        out.append(Segment(m.lastgroup or "", a, b, _letters(m.group(), text, a, b)))
    return out


def _letters(piece: str, text: str, a: int, b: int) -> int:
    """The letters of ``piece`` (``text[a:b]``): its bytes once the ASCII non-letters are deleted, less those
    of its non-ASCII characters, plus those of them that are letters (read one by one while they are few)."""
    raw = piece.encode("utf-8", "surrogatepass")  # (half a surrogate pair: 3 bytes, as any character of its range)
    kept = len(raw.translate(None, _ASCII_NON_LETTERS))
    if len(raw) == len(piece):
        return kept
    wide = _NON_ASCII.findall(piece)
    if len(wide) * 8 > len(piece):  # mostly non-ASCII: the runs of non-letters counted
        return b - a - sum(map(len, _patterns().non_letters.findall(text, a, b)))
    wide_bytes = len(raw) - (len(piece) - len(wide))
    return kept - wide_bytes + sum(map(bool, map(_patterns().letter.match, wide)))


class MixedScriptParams(RuleParams):
    primary: Script | None = Field(
        None, description="the script replies must be written in; None: the reply's own main script"
    )
    allowed: list[Script] = Field(
        default_factory=list, description="other scripts that may appear beside the primary one without a hit"
    )
    min_letters: int = Field(
        3,
        ge=1,
        description="ignore foreign stretches of an alphabetic script with fewer letters ('ok', 'x'); "
        "a single CJK character always counts",
    )
    ignore_latin_names: bool = Field(
        True, description="in a non-Latin reply, ignore capitalised Latin words (brands, hotel names, acronyms)"
    )
    name_max_words: int = Field(3, ge=1, description="longest run of capitalised Latin words ignored as a name")
    task_names: list[str] = Field(
        default_factory=list,
        description="task fields (dotted paths, '*' for every item of a list) holding names that may be written "
        "in their own script, e.g. [hotel, city]: a foreign stretch that is part of one is fine",
    )


class MixedScript(Rule[MixedScriptParams]):
    """A reply mixing writing systems: Latin with CJK, Cyrillic, Greek, Arabic, ...

    The reply's script is ``primary`` or, unset, the script with most letters (a CJK
    character weighing 3 letters). Each stretch in another script, not in
    ``allowed``, is one hit whose evidence is that stretch. Digits, punctuation,
    currency symbols and emoji belong to no script and never fire. Short foreign
    stretches (``min_letters``) and, in a non-Latin reply, capitalised Latin names
    (``Hilton``, ``Wi-Fi``, ``OK``) are ignored when the reply's own script
    outweighs the Latin text at least twice. A language change within one script
    (English to French) is out of reach of this rule.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> [h.evidence for h in MixedScript().check(make_sample(response="We can offer 80 欧元 per night."))]
        ['欧元']
        >>> MixedScript().check(make_sample(response="Thanks, 80 EUR works 👍"))
        []
    """

    name: ClassVar[str] = "mixed_script"
    description: ClassVar[str] = "reply mixes writing systems (e.g. Latin and CJK or Cyrillic)"
    default_points: ClassVar[float] = -10.0

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        p = self.config
        text = turn.reply.text
        if p.primary is None and (text.isascii() or not _other_scripts(text)):
            return []  # Latin letters alone (or none): one script, nothing to mix
        segments = script_segments(text)
        if not segments:
            return []
        weight: dict[str, int] = {}
        for s in segments:
            weight[s.script] = weight.get(s.script, 0) + s.letters * _WEIGHT.get(s.script, 1)
        primary: str | None = p.primary
        if primary is None:
            if len(weight) == 1:
                return []
            primary = max(weight, key=lambda k: weight[k])
        # names are only names inside a reply clearly written in another script
        names_ok = p.ignore_latin_names and weight.get(primary, 0) >= 2 * weight.get("latin", 0)
        ok = {primary, *p.allowed}
        names = _task_names(turn.task, p.task_names)
        hits = []
        for seg in segments:
            if seg.script in ok:
                continue
            if seg.script != "cjk" and seg.letters < p.min_letters:
                continue
            piece = text[seg.start : seg.end]
            if any(piece in name for name in names):
                continue
            if seg.script == "latin" and names_ok and _is_name(piece, p.name_max_words):
                continue
            span = (seg.start, seg.end)
            hits.append(
                self.hit(
                    f"{seg.script} text in a {primary} reply",
                    span=span,
                    evidence=clip_evidence(text, span),
                )
            )
        return cap_hits(hits, self.config)


def _other_scripts(text: str) -> bool:
    """Whether ``text`` holds a letter of a script other than Latin."""
    if SPEEDUPS is not None:
        return bool(SPEEDUPS.any_in_ranges(text, _OTHER_BOUNDS))
    return _patterns().other_scripts.search(text) is not None


def _task_names(task: Mapping[str, Any], fields: list[str]) -> list[str]:
    names: list[str] = []
    for field in fields:
        value = task_value(task, field)
        names += [str(v) for v in (value if isinstance(value, list) else [value]) if isinstance(v, str) and v]
    return names


def _is_name(piece: str, max_words: int) -> bool:
    words = [w for w in re.split(r"[\s&/.,-]+", piece) if any(c.isalpha() for c in w)]
    return 0 < len(words) <= max_words and all(w[0].isupper() or w[0].isdigit() for w in words)
