"""Which of the words the rules look for a text holds: a bit per word, all found in one pass.

A reply is tested by dozens of patterns (every rule's phrases), each needing some
literal words that :mod:`repo_sdk.rules.prefilter` reads off the pattern. Each word is
registered once in :data:`WORDS` and gets a bit. :meth:`WordIndex.found` reads a text
once for all of them and gives an int with the bits of the words it holds (as
substrings), so a pattern's test is a bitwise AND with its :meth:`WordIndex.mask`, and
:class:`Needs` tells at once which of many patterns a text's words allow.
The C part (:mod:`repo_sdk.rules.speedups`) finds them where it is built; otherwise an
Aho-Corasick automaton finds the longer words and a substring test each short one.

Words stay registered for the life of the process (their bits are held in masks), so
register the words of patterns, not of texts.

Example:
    >>> index = WordIndex()
    >>> ticket, order = index.mask(["ticket"]), index.mask(["work order", "wo-"])
    >>> found = index.found("two tickets, 10%")
    >>> bool(found & ticket), bool(found & order)
    (True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from repo_sdk.rules.speedups import SPEEDUPS

try:  # a multi-word search in one pass (Rust), where the C part is not built
    from ahocorasick_rs import AhoCorasick, Implementation
except ImportError:  # pragma: no cover - an optional speed-up
    AhoCorasick = Implementation = None  # type: ignore[misc,assignment]  # the class or None

__all__ = ["WORDS", "Needs", "WordIndex"]

_LONG = 3  # without the C part: words this long are found by the automaton, shorter ones by a substring test
_CACHED_TEXTS = 64
_CACHED_CHARS = 8_000_000  # characters of the texts held (long replies must not pile up here)


class WordIndex:
    """Registered words (lower-case ASCII, as :func:`repo_sdk.rules.text.fold` leaves them) and the ones each
    recent text holds.

    Attributes:
        bits: each registered word's bit (``1 << its index``).
    """

    def __init__(self) -> None:
        self.bits: dict[str, int] = {}
        self._search: Callable[[str], int | bytes] | None = None  # made when first needed, again after a word is added
        self._texts: dict[str, int | bytes] = {}  # recent texts -> the words they hold (see held)
        self._chars = 0  # characters of the texts held
        self._last: tuple[str | None, int | bytes] = (None, 0)  # the last text answered (rules ask about one at a time)

    @property
    def built(self) -> bool:
        """Whether the search over the words registered so far is made (it is made on the first :meth:`found`)."""
        return self._search is not None

    def register(self, words: Iterable[str]) -> None:
        """Give each new word a bit. Raises ``ValueError`` for a word that is empty or not ASCII."""
        bits = self.bits
        new = [w for w in dict.fromkeys(words) if w not in bits]
        for w in new:
            if not w or not w.isascii():
                raise ValueError(f"a registered word is non-empty ASCII, got {w!r}")
            bits[w] = 1 << len(bits)
        if new:  # texts read before miss the new words
            self._search, self._texts, self._chars, self._last = None, {}, 0, (None, 0)

    def mask(self, words: Iterable[str]) -> int:
        """The bits of ``words`` (registered here if they were not), to test :meth:`found` with."""
        words = list(words)
        self.register(words)
        mask = 0
        for w in words:
            mask |= self.bits[w]
        return mask

    def found(self, folded: str) -> int:
        """The bits of the registered words ``folded`` holds as substrings (computed once for a recent text)."""
        held = self.held(folded)
        return held if isinstance(held, int) else int.from_bytes(held, "little")

    def held(self, folded: str) -> int | bytes:
        """:meth:`found` as this index keeps it: with the C part a bitmap (bit ``k`` of the int is bit ``k % 8``
        of byte ``k // 8``), else the int; :meth:`Needs.met_in` reads either."""
        last = self._last
        if last[0] is folded:
            return last[1]
        held = self._texts.get(folded)
        if held is None:
            search = self._search if self._search is not None else self._made()
            held = search(folded)
            if len(folded) <= _CACHED_CHARS // 4:  # (a huge text is not kept: it would evict every other)
                if len(self._texts) >= _CACHED_TEXTS or self._chars + len(folded) > _CACHED_CHARS:
                    self._texts, self._chars = {}, 0
                self._texts[folded] = held
                self._chars += len(folded)
        self._last = (folded, held)
        return held

    def _made(self) -> Callable[[str], int | bytes]:
        words, bits = tuple(self.bits), self.bits
        if SPEEDUPS is not None:
            table, words_in = SPEEDUPS.words_table(words), SPEEDUPS.words_in
            self._search = lambda folded: words_in(folded, table)  # (the C part: a bitmap)
            return self._search
        longs = tuple(w for w in words if len(w) >= _LONG)
        shorts = tuple(w for w in words if len(w) < _LONG)
        automaton = None
        if AhoCorasick is not None and longs:  # (a DFA: a few hundred words make a small one, searched fast)
            automaton = AhoCorasick(longs, store_patterns=True, implementation=Implementation.DFA)

        def search(folded: str) -> int:
            try:
                held = set(automaton.find_matches_as_strings(folded, overlapping=True)) if automaton else None
            except UnicodeEncodeError:  # half of a surrogate pair: not UTF-8, so not for the automaton
                held = None
            found = 0
            for w in held if held is not None else (w for w in longs if w in folded):
                found |= bits[w]
            for w in shorts:
                if w in folded:
                    found |= bits[w]
            return found

        self._search = search
        return search


class Needs:
    """Items (a union's patterns) each needing one word of each of its sets of words; :meth:`met` tells which
    items a text's words allow, as an int with bit ``k`` set for ``items[k]``.

    Example:
        >>> index = WordIndex()
        >>> needs = Needs(index, [[["ticket"]], [["work order", "wo-"], ["now"]], []])
        >>> bin(needs.met_in("the work order, now")), bin(needs.met(index.found("a ticket")))
        ('0b110', '0b101')
    """

    def __init__(self, index: WordIndex, items: Sequence[Sequence[Iterable[str]]]) -> None:
        self.index = index
        self.masks = [[index.mask(need) for need in item] for item in items]  # per item: its needs' bits
        self.mask = 0  # every word of the items'
        for masks in self.masks:
            for mask in masks:
                self.mask |= mask
        self._table = None
        if SPEEDUPS is not None:  # (the needs' bit positions, read in C)
            positions = tuple(tuple(tuple(_positions(mask)) for mask in masks) for masks in self.masks)
            self._table = SPEEDUPS.needs_table(positions)

    def met_in(self, folded: str) -> int:
        """:meth:`met` for the words ``folded`` holds (the index's :meth:`WordIndex.held`, read as it is kept)."""
        last = self.index._last  # (the text asked about last, as held keeps it: no call)
        held = last[1] if last[0] is folded else self.index.held(folded)
        if self._table is not None and isinstance(held, bytes):
            return SPEEDUPS.needs_met(held, self._table)  # type: ignore[union-attr]  # (set with it)
        return self.met(held if isinstance(held, int) else int.from_bytes(held, "little"))

    def met(self, found: int) -> int:
        """The bits of the items each of whose needs has a word in ``found`` (:meth:`WordIndex.found`)."""
        found &= self.mask
        met = 0
        for k, masks in enumerate(self.masks):
            for mask in masks:
                if not found & mask:
                    break
            else:
                met |= 1 << k
        return met


def _positions(mask: int) -> Iterable[int]:
    """The positions of the bits set in ``mask``."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


WORDS = WordIndex()  #: the words of every rule's patterns (one pass over a reply finds them all)
