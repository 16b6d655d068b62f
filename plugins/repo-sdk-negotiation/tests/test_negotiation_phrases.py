"""The rewrites done for speed find exactly what the code as first written finds, on random text."""

# ruff: noqa: RUF001 - the texts hold letters that fold to ASCII on purpose

from __future__ import annotations

import random
import re
import sys

import pytest
from repo_sdk_negotiation import cues
from repo_sdk_negotiation.phrases import alternatives, finditer_for, union_for
from repo_sdk_negotiation.rules import claims, prices, style, terms
from repo_sdk_negotiation.rules.style import STOPWORDS, EarlierReplies, OneLanguage, _Script
from repo_sdk_negotiation.text import sentences

from repo_sdk.rules.context import DialogueContext
from repo_sdk.rules.speedups import SPEEDUPS
from repo_sdk.rules.text import fold
from repo_sdk.rules.views import TextView
from repo_sdk.testing import make_sample
from repo_sdk.types import Turn

CUES = {name: getattr(cues, name) for name in cues.__all__}
CUES |= {
    "outcome": claims._OUTCOME,
    "strong": claims._STRONG,
    "competitor": claims._COMPETITOR,
    "offer": prices._OFFER,
    "sell": prices._SELL_CTX,
    "net": prices._NET_CTX,
}
CUES |= {what: re.compile(pattern, re.I) for what, pattern in terms.INTERNAL_TERMS}
NOISE = ["", " ", "  ", ", ", ". ", "? ", "!\n", "\n", "-", "'", "ſ", "K", "İ", "I", "é", "€95", "100", "#1", "%"]


def texts_of(pattern: re.Pattern[str], seed: int, n: int) -> list[str]:
    """Random texts of the pattern's own words (so its phrases match now and then), cased at random, and noise."""
    rng = random.Random(seed)
    words = [*re.findall(r"[a-z][a-z']*", pattern.pattern.replace("\\b", " ").replace("\\w", " ")), "the", "we", "i"]
    out = []
    for _ in range(n):
        pieces = []
        for _ in range(rng.randint(0, 30)):
            i = rng.randrange(len(words))  # a word, or a run of the words written next to each other
            w = " ".join(words[i : i + rng.choice((1, 1, 2, 3, 5))])
            w = w.upper() if rng.random() < 0.1 else w.capitalize() if rng.random() < 0.2 else w
            pieces.append(w + (rng.choice(NOISE) if rng.random() < 0.3 else " "))
        out.append("".join(pieces))
    return out


def spans(pattern: re.Pattern[str] | None, text: str) -> list[tuple[tuple[int, int], str]]:
    return [(m.span(), m.group(0)) for m in pattern.finditer(text)] if pattern is not None else []


@pytest.mark.parametrize("name", sorted(CUES))
def test_a_cue_split_into_its_phrases_finds_what_it_finds(name: str) -> None:
    pattern = CUES[name]
    whole = re.compile("|".join(f"(?:{p})" for p in alternatives(pattern.pattern)), pattern.flags)
    matched = 0
    for k, text in enumerate(texts_of(pattern, seed=len(name), n=600)):
        expected = spans(pattern, text)
        matched += bool(expected)
        assert spans(whole, text) == expected, text
        union = union_for(pattern, fold(text))
        assert spans(union, text) == expected, text
        for s in sentences(text)[:3] if k % 10 == 0 else ():  # and in any piece of the text, sentence by sentence
            assert spans(union, s.text) == spans(pattern, s.text), s.text
    assert matched >= 5 or name in ("FILLER_ONLY", "SILENCE", "GREETING", "HOTEL_CONFIRM")  # the texts do match


@pytest.mark.parametrize("name", sorted(CUES))
def test_a_cue_searched_only_where_it_may_start_finds_what_it_finds_in_a_long_reply(name: str) -> None:
    """Long replies are searched only at the positions where a cue's phrase may start: the same matches."""
    pattern = CUES[name]
    pieces = texts_of(pattern, seed=len(name) + 1, n=600)
    matched = 0
    for k in range(0, len(pieces), 60):
        text = "".join(pieces[k : k + 60])  # (about 8 KB: past the length from which it is searched that way)
        expected = spans(pattern, text)
        matched += len(expected)
        assert [(m.span(), m.group(0)) for m in finditer_for(pattern, text, fold(text))] == expected
    assert matched >= 5 or name in ("FILLER_ONLY", "SILENCE", "GREETING", "HOTEL_CONFIRM")


def test_union_for_leaves_out_what_a_reply_lacks_and_keeps_the_cue_when_it_may_all_match() -> None:
    cue = re.compile(r"\b(?:work order|ticket|target price)\b", re.I)
    assert union_for(cue, "nothing here") is None
    assert union_for(cue, "the ticket").pattern == r"(?:\b(?:ticket)\b)"  # type: ignore[union-attr]
    assert union_for(cue, "work order, ticket and target price") is cue


def old_tokens(text: str) -> list[str]:
    return re.findall(r"[\w€$£]+", text.lower())


TOKENS = [
    "Hello",
    "ROOM",
    "price",
    "95€",
    "$100",
    "£",
    "ΑΣ",
    "Σ",
    "σ",
    "İstanbul",
    "ß",
    "東京",
    "谢谢",
    "l'hôtel",
    "_x",
]
SEPS = [" ", ". ", "! ", "? ", "\n", "...", "80.00", ", ", "。", "\t", "  ", "?!", '." ', "\u2028", "\x1c"]


def random_replies(seed: int, n: int, vocabulary: list[str] = TOKENS) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(vocabulary) + rng.choice(SEPS) for _ in range(rng.randint(0, 25))) for _ in range(n)]


def _key(tokens: list[str]) -> object:
    """A sentence's key as _Script makes it: the tokens joined (C part) or their tuple (without it)."""
    return " ".join(tokens) if SPEEDUPS is not None else tuple(tokens)


def _grams(tokens: list[str]) -> set:
    """The trigram keys _Script gives: the C part's hashes of the plain trigrams, or the trigrams themselves."""
    if SPEEDUPS is not None:
        return SPEEDUPS.gram_keys(tokens)
    return {tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)}


def _plain_grams(text: str) -> set[tuple[str, ...]]:
    tokens = old_tokens(text)
    return {tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)}


def _read_plainly(script: _Script, text: str) -> None:
    assert script.sentences == [(s, len(t), _key(t)) for s in sentences(text) for t in [old_tokens(s.text)]], text
    assert script.count == len(old_tokens(text)), text
    assert script.grams == _grams(old_tokens(text)), text


def test_a_reply_read_for_repeated_scripts_has_the_tokens_of_the_plain_reading() -> None:
    for text in random_replies(0, 3000):
        _read_plainly(_Script(text), text)


@pytest.mark.skipif(SPEEDUPS is None, reason="the C part is not built or ignored (REPO_SDK_PURE_PYTHON)")
def test_trigram_keys_tell_trigrams_apart_and_follow_their_order() -> None:
    """The C part's trigram keys stand in for the trigrams: one key per trigram, distinct trigrams apart."""
    rng = random.Random(9)
    vocabulary = [*TOKENS, *(f"w{i}" for i in range(200)), "", "a", "aa", "b", "ab", "ba"]
    keys: dict[bytes, tuple[str, ...]] = {}
    for _ in range(150_000):
        gram = tuple(rng.choice(vocabulary) for _ in range(3))
        key = SPEEDUPS.gram_keys(list(gram))
        assert len(key) == 8 and keys.setdefault(key, gram) == gram, (gram, keys[key])
    assert len(set(keys.values())) > 100_000
    assert SPEEDUPS.gram_keys(["a", "b", "c"]) != SPEEDUPS.gram_keys(["c", "b", "a"])
    assert SPEEDUPS.gram_keys(["ab", "c", "d"]) != SPEEDUPS.gram_keys(["a", "bc", "d"])
    assert SPEEDUPS.gram_keys(["a", "b"]) == b"" and len(SPEEDUPS.gram_keys(["a", "b", "a", "b", "a"])) == 2 * 8


@pytest.mark.skipif(SPEEDUPS is None, reason="the C part is not built or ignored (REPO_SDK_PURE_PYTHON)")
def test_key_sets_count_what_python_sets_of_the_keys_count() -> None:
    rng = random.Random(11)
    union, plain = SPEEDUPS.key_set(), set()
    for _ in range(400):  # (the set grows past its first sizes)
        tokens = [rng.choice(TOKENS) for _ in range(rng.randint(0, 30))]
        grams = SPEEDUPS.gram_keys(tokens)
        keys = [grams[i : i + 8] for i in range(0, len(grams), 8)]
        assert keys == sorted(set(keys), key=lambda k: int.from_bytes(k, sys.byteorder))  # sorted, each once
        assert SPEEDUPS.key_set_count(union, grams) == len(set(keys) & plain)
        other = SPEEDUPS.gram_keys([rng.choice(TOKENS) for _ in range(rng.randint(0, 30))])
        others = {other[i : i + 8] for i in range(0, len(other), 8)}
        assert SPEEDUPS.keys_shared(grams, other) == SPEEDUPS.keys_shared(other, grams) == len(set(keys) & others)
        SPEEDUPS.key_set_add(union, grams)
        plain |= set(keys)
    assert len(plain) > 1000 and SPEEDUPS.key_set_count(union, b"".join(plain)) == len(plain)
    many = SPEEDUPS.gram_keys([f"t{rng.randrange(500)}" for _ in range(5000)])  # a long reply's: sorted apart
    keys = [int.from_bytes(many[i : i + 8], sys.byteorder) for i in range(0, len(many), 8)]
    assert len(keys) > 4000 and keys == sorted(set(keys))
    with pytest.raises(TypeError, match="not one key_set made"):
        SPEEDUPS.key_set_count(SPEEDUPS.words_table(("ok",)), b"")


def test_an_ascii_reply_read_by_splitting_has_the_tokens_of_the_plain_reading() -> None:
    rng = random.Random(8)
    pieces = ["Hello", "ROOM", "$100", "95$", "a_b", "_", "don't", "x-y", "@", "#1", "80.00", "e.g.", "A.B", "~", "`"]
    seps = [" ", ". ", "! ", "? ", "\n", "...", ", ", "\t", "  ", "?!", '." ', "\x1c", "\r\n", ""]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) + rng.choice(seps) for _ in range(rng.randint(0, 20)))
        assert text.isascii()
        _read_plainly(_Script(text), text)


def test_near_copies_are_those_of_the_plain_jaccard_with_each_earlier_reply() -> None:
    rng = random.Random(3)
    words = "we can do a better rate for your hotel thanks".split()  # few words: near-copies are common
    copies = 0
    for _ in range(300):
        base = [rng.choice(words) for _ in range(rng.randint(0, 14))]  # replies that change a few of its words
        edits = [[w if rng.random() < 0.8 else rng.choice(words) for w in base] for _ in range(rng.randint(1, 8))]
        replies = [" ".join(e if rng.random() < 0.7 else e[: rng.randint(0, len(e))]) for e in edits]
        dialogue = DialogueContext({})
        earlier = EarlierReplies(dialogue)
        for i, reply in enumerate(replies[:-1]):
            earlier.feed(i, Turn(role="assistant", content=reply), TextView(reply))
        grams, last = _Script(replies[-1]).grams, _plain_grams(replies[-1])
        for similarity in (0.2, 0.5, 0.6, 1.0):
            plain = any(
                len(last & g) / len(last | g) >= similarity for g in (_plain_grams(r) for r in replies[:-1]) if last & g
            )
            assert earlier.near_copy(grams, similarity) == plain, (replies, similarity)
            copies += plain
    assert copies > 50


def old_one_language(rule: OneLanguage, sample_text: str, task: dict) -> list[tuple[tuple[int, int] | None, str]]:
    """``OneLanguage.check_context`` as first written."""
    from repo_sdk_negotiation.rules.base import context_of
    from repo_sdk_negotiation.text import commas, find_terms

    ctx = context_of(make_sample(response=sample_text, task=task))
    p = rule.config
    lang = (p.language or ctx.task.language or "en").lower()[:2]
    text = ctx.reading.text
    names = find_terms(text, [n.lower() for n in ctx.task.names()])
    if names:
        pieces, pos = [], 0
        for a, b, _ in names:
            pieces += [text[pos:a], " " * (b - a)]
            pos = b
        text = "".join([*pieces, text[pos:]])
    hits = [
        rule.hit_at(ctx, f"text in another script in a reply expected in {lang!r}", m.span())
        for m in style._foreign_runs(lang)[0].finditer(text)
    ]
    foreign = set().union(*(w for o, w in STOPWORDS.items() if o != lang), style.COURTESY) if lang in STOPWORDS else ()
    if lang in STOPWORDS and {w.lower() for w in style._WORD.findall(text)} & foreign:
        for piece in commas(text):
            start, clause = piece.start, piece.text
            words = [w.lower() for w in style._WORD.findall(clause)]
            counts = dict.fromkeys(STOPWORDS, 0)
            for w in words:
                for lg in style._LANGUAGES_OF.get(w, ()):
                    counts[lg] += 1
            other = max((lg for lg in counts if lg != lang), key=lambda lg: counts[lg])
            if counts[other] >= p.min_foreign_words and counts[other] > counts[lang]:
                span = (start, start + len(clause.rstrip()))
                hits.append(rule.hit_at(ctx, f"a clause in {other!r} in a reply expected in {lang!r}", span))
            elif lang != other:
                for m in style._WORD.finditer(clause):
                    if m.group(0).lower() in style.COURTESY and m.group(0).lower() not in STOPWORDS[lang]:
                        span = (start + m.start(), start + m.end())
                        hits.append(rule.hit_at(ctx, f"foreign courtesy word in a reply expected in {lang!r}", span))
    return [(h.span, h.reason) for h in sorted(hits, key=lambda h: h.span or (0, 0))]


def test_one_language_hits_what_the_plain_reading_hits() -> None:
    foreign = sorted({w for ws in STOPWORDS.values() for w in ws} | style.COURTESY)
    vocabulary = [*TOKENS, *foreign, *(w.upper() for w in foreign[:40]), "Casa del Sol", "Lisboa", "Aurora", "Привет"]
    tasks = [
        {},
        {"hotel": "Casa del Sol", "city": "Lisboa", "language": "es"},
        {"hotel": "Hotel Aurora", "room_type": "Twin Room", "current_price": 120, "target_price": 95},
        {"hotel": "東京ホテル", "language": "ja"},
        {"language": "ko"},
    ]
    rules = [OneLanguage(), OneLanguage(style.OneLanguageParams(min_foreign_words=1))]
    # a clause is skipped when no foreign word of the reply is in its lower case: sound while no such word holds
    # a sigma (the one letter whose lower case depends on its neighbours)
    assert not any(c in w for ws in style._FOREIGN.values() for w in ws for c in "σς")
    hits = 0
    for k, text in enumerate(random_replies(5, 1500, vocabulary)):
        task, rule = tasks[k % len(tasks)], rules[k % 2]
        found = [(h.span, h.reason) for h in rule.check(make_sample(response=text, task=task))]
        assert found == old_one_language(rule, text, task), (text, task)
        hits += len(found)
    assert hits > 500


def test_one_language_reads_only_the_sentences_a_foreign_word_stands_in() -> None:
    """Words stuck to digits, apostrophes and underscores, in sentences that only look like they hold one."""
    rule = OneLanguage()
    texts = [
        "Merci beaucoup. Fine, 2merci and hotel. We stay. Merci_bien, le prix!",
        "It's a tablet. Le prix, c'est bien: merci. L'hôtel, aujourd'hui, bien merci. Bye",
        "MERCI, BIEN. Close the hotel ledger.\nQue tal, gracias por todo, muchas gracias. OK",
        "Σ merci bien. ΑΣ c'est le prix.",
    ]
    for text in texts:
        found = [(h.span, h.reason) for h in rule.check(make_sample(response=text))]
        assert found == old_one_language(rule, text, {}) and found, text


def test_words_of_a_text_are_the_word_expression_lower_cased() -> None:
    rng = random.Random(7)
    pieces = "Don't|l'|'|''|rock'n'roll|O'|abc1def|_|x|PAY| |,|é|ß|٣|谢".split("|")
    pieces += ["İ", "ΑΣ", "Σ1", "Ⅷ", "Ⓐ", "😀", "\u2019", "—", "\u0301", "\u00a0", "Ж", "ｱ", "\ud800", "²", "\u2028"]
    for _ in range(30000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert style.words_of(text) == {w.lower() for w in style._WORD.findall(text)}, text
    plain = [*pieces[:16], "Ж", "😀", "—", "\u2019"]  # no character whose lower case is longer, no capital sigma
    long = "".join(rng.choice(plain) for _ in range(8000))  # a long text: its characters gathered in runs
    assert len(long) > 16_384 and style.words_of(long) == {w.lower() for w in style._WORD.findall(long)}
    arrows = "".join(chr(0x2190 + i) + "a" for i in range(40))  # many kinds of symbol: the expression reads it
    assert style.words_of(arrows) == {"a"}


def test_the_nearest_selling_or_net_context_is_the_plain_scan_of_the_sentence() -> None:
    rng = random.Random(7)
    words = "guests see our platform your rate net we pay listed at the price €95 and 120 selling rate".split()
    near = 0
    for _ in range(3000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 20)))
        pos = rng.randint(0, len(text))
        for pattern in (prices._SELL_CTX, prices._NET_CTX):
            dists = [min(abs(m.start() - pos), abs(m.end() - pos)) for m in pattern.finditer(text)]
            assert prices._nearest(prices._ends(pattern, text), pos) == (min(dists) if dists else None), (text, pos)
            near += bool(dists)
    assert near > 1000
