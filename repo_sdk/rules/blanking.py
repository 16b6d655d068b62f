"""Runs of a character class found by blanking every other character and splitting: no expression per run.

A :class:`Blanker` makes every character of a text outside a class a space, offsets
kept, so that ``str.split`` of the text, or of any span of it, gives the runs of the
class there: what ``re.findall("[class]+", text, start, end)`` finds, several times
faster. ASCII goes through one ``bytes.translate`` of the UTF-8 (which keeps a
character's bytes together); the few kinds of other characters outside the class a
text holds are replaced one kind at a time. A text with many such kinds, or with a
character that is a run of its own (CJK, for word tokens), is refused (None): the
caller uses its expression. Text views split tokens this way, and plugins their words.

Example:
    >>> letters = Blanker("abcdefghijklmnopqrstuvwxyz", re.compile(r"[^\\W\\d_]"))
    >>> letters("l'hôtel: 80 eur!").split()
    ['l', 'hôtel', 'eur']
"""

from __future__ import annotations

import re

__all__ = ["Blanker"]

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_FEW_CHARS = 16_384  # a text this short gathers its non-ASCII characters one by one; a longer one, in runs
_KINDS_KEPT = 65_536  # non-ASCII characters whose kind a blanker remembers
_IN, _OUT, _ALONE = 0, 1, 2  # a character's kind: in the class, outside it, a run of its own


class Blanker:
    """Blanks the characters of a text outside one class of characters (see the module).

    Args:
        ascii_kept: the ASCII characters of the class.
        kept: a one-character pattern matching the non-ASCII characters of the class.
        alone: a one-character pattern matching characters that are runs of their own
            (a text holding one is refused).
        max_kinds: kinds of non-ASCII character outside the class a text may hold (more: refused).
    """

    def __init__(
        self, ascii_kept: str, kept: re.Pattern[str], alone: re.Pattern[str] | None = None, max_kinds: int = 32
    ) -> None:
        self._table = bytes(b if chr(b) in ascii_kept or b >= 128 else 32 for b in range(256))
        self._kept, self._alone, self._max_kinds = kept, alone, max_kinds
        self._kinds: dict[str, int] = {}

    def __call__(self, text: str) -> str | None:
        """``text`` with every character outside the class a space; None when it holds a character that is a run
        of its own or too many kinds outside the class."""
        if text.isascii():
            return text.encode("ascii").translate(self._table).decode("ascii")
        if len(text) <= _FEW_CHARS:
            chars = set(_NON_ASCII.findall(text))
        else:  # in runs: a long text makes no string per character
            chars = set("".join(_NON_ASCII_RUN.findall(text)))
        blank, known = [], self._kinds
        for c in chars:
            kind = known.get(c)
            if kind is None:
                kind = self._kind(c)
            if kind != _IN:
                if kind == _ALONE:
                    return None
                blank.append(c)
        if len(blank) > self._max_kinds:
            return None
        for c in blank:
            text = text.replace(c, " ")
        return text.encode(errors="surrogatepass").translate(self._table).decode(errors="surrogatepass")

    def _kind(self, c: str) -> int:
        """The kind of a character met for the first time (remembered)."""
        if len(self._kinds) >= _KINDS_KEPT:
            self._kinds.clear()
        if self._kept.match(c):
            kind = _IN
        else:
            kind = _ALONE if self._alone is not None and self._alone.match(c) else _OUT
        self._kinds[c] = kind
        return kind
