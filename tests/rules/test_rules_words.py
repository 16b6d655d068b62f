"""The words a text holds, found in one pass (repo_sdk.rules.words), are the words a substring test finds.

Three ways find them: the C part, an Aho-Corasick automaton with substring tests for
short words, and substring tests alone. Each is checked against ``word in text`` over
random texts built from the words' own pieces (prefixes of one another, overlaps, case,
non-ASCII characters and half surrogate pairs), and the index keeps few texts.
"""

from __future__ import annotations

import random

import pytest

from repo_sdk.rules import words as module
from repo_sdk.rules.speedups import SPEEDUPS
from repo_sdk.rules.words import Needs, WordIndex

WORDS = ["a", "e", " ", "%", "#1", "ok", "no", "the", "then", "the user", "the hotel", "ticket", "tickets",
         "work order", "wo-", "step", "euro", " e", "ee", "eee", "eeee", "abc", "bca", "cab"]  # fmt: skip
PIECES = [*WORDS, "T", "HE", "x", "é", "谢", "\U0001f600", "\ud800", "\udc00", "\x00", "\n", "İ", "-", "e" * 7]
WAYS = ["c-part", "automaton", "substrings"]


def _index(monkeypatch: pytest.MonkeyPatch, way: str) -> WordIndex:
    if way == "c-part" and SPEEDUPS is None:
        pytest.skip("the C part is not built or ignored (REPO_SDK_PURE_PYTHON)")
    if way != "c-part":
        monkeypatch.setattr(module, "SPEEDUPS", None)
    if way == "substrings":
        monkeypatch.setattr(module, "AhoCorasick", None)
    index = WordIndex()
    index.register(WORDS)
    return index


def _truth(index: WordIndex, text: str) -> int:
    return sum(bit for w, bit in index.bits.items() if w in text)


@pytest.mark.parametrize("way", WAYS)
def test_the_words_found_are_the_words_a_substring_test_finds(monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    index = _index(monkeypatch, way)
    rng = random.Random(7)
    for _ in range(20_000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12)))
        assert index.found(text) == _truth(index, text), (way, text)
    text = "x" * 100_000 + "the user" + "é" * 100_000 + "ticket"  # a long text: found to its end
    assert index.found(text) == _truth(index, text) == index.mask(["the", "the user", " ", "e", "ticket"])


@pytest.mark.parametrize("way", WAYS)
def test_a_word_added_later_gets_its_own_bit_and_is_found_in_texts_read_before(
    monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    index = _index(monkeypatch, way)
    text = "a discount of 10%"
    before = index.found(text)
    discount = index.mask(["discount"])
    assert discount == 1 << len(WORDS) and index.mask(["%"]) & before  # old bits keep their meaning
    assert index.found(text) == before | discount
    with pytest.raises(ValueError, match="non-empty ASCII"):
        index.register(["prix", "réduction"])
    with pytest.raises(ValueError, match="non-empty ASCII"):
        index.register([""])


def test_the_index_keeps_few_texts_and_no_huge_one() -> None:
    index = WordIndex()
    ticket = index.mask(["ticket"])
    huge = "ticket " * (module._CACHED_CHARS // 20)  # past a quarter of the budget: never held
    long = ["x" * (module._CACHED_CHARS // 5) + str(i) for i in range(12)]
    for text in [huge, *long, *map(str, range(200)), huge]:
        assert bool(index.found(text) & ticket) is ("ticket" in text)
    held = list(index._texts)
    assert huge not in held and sum(map(len, held)) <= module._CACHED_CHARS and len(held) <= module._CACHED_TEXTS


@pytest.mark.skipif(SPEEDUPS is None, reason="the C part is not built or ignored (REPO_SDK_PURE_PYTHON)")
def test_the_c_table_refuses_what_it_cannot_find() -> None:
    with pytest.raises(ValueError, match="twice"):
        SPEEDUPS.words_table(("ok", "ok"))
    with pytest.raises(ValueError, match="word 1 is not a non-empty ASCII str"):
        SPEEDUPS.words_table(("ok", "é"))
    with pytest.raises(TypeError):
        SPEEDUPS.words_table(["ok"])
    with pytest.raises(TypeError, match="not one words_table made"):
        SPEEDUPS.words_in("ok", object())  # not a table: no crash
    table = SPEEDUPS.words_table(tuple(f"w{i:04d}" for i in range(3000)))  # a few thousand words: one bitmap
    found = SPEEDUPS.words_in("w0000 w2999 w1500", table)
    assert int.from_bytes(found, "little") == 1 | 1 << 1500 | 1 << 2999


@pytest.mark.parametrize("way", ["c-part", "substrings"])
def test_the_items_met_are_those_each_of_whose_needs_has_a_word_in_the_text(
    monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    index = _index(monkeypatch, way)
    index.register(f"w{i:03d}" for i in range(300))  # bits past the first bytes, and past 64
    vocabulary = list(index.bits)
    rng = random.Random(8)
    for _ in range(300):
        items = [
            [rng.sample(vocabulary, rng.randint(1, 4)) for _ in range(rng.randint(0, 3))]
            for _ in range(rng.randint(0, 70))
        ]
        needs = Needs(index, items)
        assert (needs._table is not None) is (way == "c-part")
        for _ in range(20):
            text = " ".join(rng.sample(vocabulary, rng.randint(0, 40)))
            held = {w for w in vocabulary if w in text}
            want = sum(1 << k for k, item in enumerate(items) if all(held & set(need) for need in item))
            assert needs.met_in(text) == needs.met(index.found(text)) == want, (items, text)


@pytest.mark.skipif(SPEEDUPS is None, reason="the C part is not built or ignored (REPO_SDK_PURE_PYTHON)")
def test_the_c_needs_table_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="word 1 of need 0 of item 1 is not a bit position"):
        SPEEDUPS.needs_table((((0,),), ((2, -1),)))
    with pytest.raises(ValueError, match="word 0 of need 0 of item 0 is not a bit position"):
        SPEEDUPS.needs_table(((("a",),),))
    with pytest.raises(TypeError, match="item 0 is not a tuple"):
        SPEEDUPS.needs_table(([(0,)],))
    table = SPEEDUPS.needs_table((((0,),), ((9,),)))
    assert SPEEDUPS.needs_met((1 << 9).to_bytes(2, "little"), table) == 2
    assert SPEEDUPS.needs_met(b"\x01", table) == 1  # (a bit past the end of the bitmap: not held)
    with pytest.raises(TypeError):
        SPEEDUPS.needs_met(1 << 9, table)  # a bitmap, not an int
    with pytest.raises(TypeError, match="not one needs_table made"):
        SPEEDUPS.needs_met(b"", SPEEDUPS.words_table(("ok",)))
