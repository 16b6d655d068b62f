"""The near-duplicate index finds exactly what comparing with every earlier text finds, in linear work."""

from __future__ import annotations

import random
from collections import Counter
from difflib import SequenceMatcher

import pytest
from rapidfuzz.distance import Indel
from rapidfuzz.process import extractOne

from repo_sdk.rules import Repetition, RepetitionParams
from repo_sdk.rules import codes as codes_module
from repo_sdk.rules.codes import encode, first_repeats
from repo_sdk.rules.similar import NearDuplicates, similarity
from repo_sdk.testing import make_sample

WORDS = "the a we can offer room rate night price twin double breakfast 80 85 90 euros please thanks you".split()


def texts(seed: int, n: int) -> list[list[str]]:
    rng = random.Random(seed)
    out: list[list[str]] = []
    for _ in range(n):
        if out and rng.random() < 0.4:  # a near-copy of an earlier text: a word changed, dropped or added
            t = list(rng.choice(out))
            k = rng.randrange(len(t))
            op = rng.random()
            if op < 0.4:
                t[k] = rng.choice(WORDS)
            elif op < 0.7 and len(t) > 1:
                del t[k]
            else:
                t.insert(k, rng.choice(WORDS))
            out.append(t)
        else:
            out.append([rng.choice(WORDS) for _ in range(rng.randint(1, 14))])
    return out


@pytest.mark.parametrize("by_counts", [False, True])
@pytest.mark.parametrize("metric", ["ratio", "jaccard"])
@pytest.mark.parametrize("threshold", [0.6, 0.85, 1.0])
def test_index_matches_brute_force(metric, threshold, by_counts):
    for seed in range(4):
        items = texts(seed, 80)
        counts = Counter(t for text in items for t in text) if by_counts else None
        index = NearDuplicates(threshold, metric, ngram=2, counts=counts)
        for key, tokens in enumerate(items):
            min_key = key // 3
            scores = [similarity(tokens, items[k], metric, 2) for k in range(key)]
            hits = [k for k, s in enumerate(scores) if s >= threshold and items[k]]
            last = [k for k in hits if k >= min_key]
            assert index.first(tokens) == ((hits[0], scores[hits[0]]) if hits and tokens else None)
            assert index.last(tokens, min_key=min_key) == ((last[-1], scores[last[-1]]) if last and tokens else None)
            index.add(tokens, key)


def test_ratio_is_the_indel_similarity_and_agrees_with_difflib_on_edits():
    a = "could you offer the twin room at 80 euros per night".split()
    for b in (a[:-1], [*a[:3], "lower", *a[3:]], [w if w != "80" else "85" for w in a]):
        assert similarity(a, b) == pytest.approx(SequenceMatcher(None, a, b, autojunk=False).ratio())
    assert similarity("a b".split(), "b a".split()) == 0.5


def test_a_sentence_repeated_thousands_of_times_costs_linear_comparisons():
    unit = "Our breakfast is served from seven to ten in the garden room."
    reply = " ".join([unit] * 3000)
    rule = Repetition(RepetitionParams(max_hits=None))
    hits = rule.check(make_sample(response=reply))
    assert len(hits) == 2999  # every repeat but the first
    index = NearDuplicates(0.85)
    for k in range(3000):
        index.first(unit.lower().split())
        index.add(unit.lower().split(), k)
    assert index.comparisons <= 3000  # one per repeat, where comparing with all would make ~4.5 million


def test_threshold_keeps_paraphrase_apart_and_catches_a_changed_price():
    pitch = "Could you offer the twin room at 80 euros per night for our guests next month?"
    rule = Repetition()
    assert rule.check(make_sample(response=pitch.replace("80", "85"), history=[("assistant", pitch)]))
    other = "Would the double room be available at a lower rate for a group of twelve in June?"
    assert not rule.check(make_sample(response=other, history=[("assistant", pitch)]))


def brute(items: list[list[str]], tokens: list[str], threshold: float, *, last: bool, lo: int = 0) -> tuple | None:
    keys = [k for k in range(lo, len(items)) if items[k] and similarity(tokens, items[k]) >= threshold]
    if not keys or not tokens:
        return None
    k = keys[-1] if last else keys[0]
    return k, similarity(tokens, items[k])


def colliding_words(n: int) -> list[str]:
    """Words that share one character in `encode`'s codes (hashes differ per process: found here)."""
    groups: dict[str, list[str]] = {}
    for i in range(100_000):
        found = groups.setdefault(encode([f"w{i}"]), [])
        found.append(f"w{i}")
        if len(found) == n:
            return found
    raise AssertionError("no collision found")


def test_codes_are_a_character_per_token_and_never_less_similar_than_the_tokens():
    rng = random.Random(7)
    words = [*WORDS, *colliding_words(6)]
    for _ in range(2000):
        a = [rng.choice(words) for _ in range(rng.randint(1, 30))]
        b = [rng.choice(words) for _ in range(rng.randint(1, 30))]
        ca, cb = encode(a), encode(b)
        assert len(ca) == len(a) and ca.isascii() and encode(list(a)) == ca
        assert Indel.normalized_similarity(ca, cb) >= similarity(a, b)  # the codes only ever rule texts out


@pytest.mark.parametrize("brute_limit", [0, 3, 24, 10_000])
@pytest.mark.parametrize("collide", [False, True])
def test_scan_and_index_find_what_comparing_every_text_finds(brute_limit, collide):
    """Codes scanned in C (before the index), exact copies, the index past them: the same texts as brute force,
    also when many tokens share a code (a code that looks similar is checked on the tokens)."""
    words = colliding_words(8) if collide else None
    for seed in range(3):
        items = texts(seed, 120)
        if words:  # the same texts written with words whose codes are all one character
            table = dict(zip(WORDS, words * 3, strict=False))
            items = [[table.get(t, t) for t in text] for text in items]
        for threshold in (0.6, 0.85, 1.0):
            latest = NearDuplicates(threshold, brute_limit=brute_limit)
            earliest = NearDuplicates(threshold, brute_limit=brute_limit)
            for key, tokens in enumerate(items):
                lo = key // 3
                assert latest.last(tokens, min_key=lo) == brute(items[:key], tokens, threshold, last=True, lo=lo)
                assert earliest.first(tokens) == brute(items[:key], tokens, threshold, last=False)
                several = items[key : key + 4]  # this text and the next few, searched for at once
                assert latest.last_each(several, [encode(t) for t in several], min_key=lo) == [
                    brute(items[:key], t, threshold, last=True, lo=lo) for t in several
                ]
                latest.add(tokens, key, encode(tokens))
                earliest.add(tokens, key)


def test_texts_added_at_once_are_found_as_if_added_one_by_one():
    items = [t for t in texts(5, 90) if t]
    for limit in (10, 200):
        one, many = NearDuplicates(0.8, brute_limit=limit), NearDuplicates(0.8, brute_limit=limit)
        for start in range(0, len(items), 7):
            chunk = items[start : start + 7]
            for k, tokens in enumerate(chunk):
                one.add(tokens, start + k)
            many.add_all(chunk, start, [encode(t) for t in chunk])
            probe = items[(start * 5) % len(items)]
            assert one.last(probe, min_key=start // 2) == many.last(probe, min_key=start // 2)
            assert one.first(probe) == many.first(probe)


@pytest.mark.parametrize("threshold", [0.6, 0.85, 1.0])
def test_first_repeats_is_first_then_add_for_each_text(threshold):
    for seed in range(6):
        items = [t for t in texts(seed, 60) if t]
        index = NearDuplicates(threshold)
        expected = []
        for k, tokens in enumerate(items):
            found = index.first(tokens)
            if found is not None:
                expected.append((k, found))
            index.add(tokens, k)
        assert first_repeats(items, [encode(t) for t in items], threshold) == expected


def test_an_exact_copy_past_the_index_is_found_by_its_code_with_one_comparison():
    unit = "our breakfast is served from seven to ten in the garden room".split()
    other = [f"w{i} x{i} y{i} z{i} q{i} r{i}".split() for i in range(300)]
    index = NearDuplicates(0.85, brute_limit=24)
    for k, tokens in enumerate(other):
        index.add(tokens, k)
    index.add(unit, 300)
    before, scanned = index.comparisons, index.scanned
    for k in range(301, 2301):
        assert index.last(unit) == (k - 1, 1.0)
        index.add(unit, k)
    assert index.comparisons - before == 2000  # one per repeat: the copy itself, found by its code
    assert index.scanned == scanned  # nothing past the copy to compare: no scan, no candidates


def test_probes_of_texts_searched_for_and_never_added_are_let_go():
    index = NearDuplicates(0.85, brute_limit=0)  # indexed from the first text: searches probe
    index.add("the twin room is 80 euros a night".split(), key=0)
    queries = [f"query number {i} about a room tonight".split() for i in range(1000)]
    for q in queries:
        assert index.last(q) is None
    assert len(index._probed) <= 64
    kept = "the twin room is 80 euros a night tonight".split()
    index.last(kept)
    index.add(kept, key=1)  # a text searched for, then added: its probe is taken, not made again
    assert id(kept) not in index._probed
    assert index.last("the twin room is 80 euros a night tonight".split()) == (1, 1.0)


@pytest.mark.parametrize("last", [True, False])
def test_searches_past_the_index_keep_to_their_budget_and_still_find_exact_copies(last):
    """Texts of a few words from a tiny vocabulary share features with nearly every other: without a budget each
    search looks at most earlier texts (a square's cost); with one, at most the budget per search on average (the
    nearest few once over it), and exact copies are found all the same."""
    rng = random.Random(9)
    items = [[rng.choice("abcdef") for _ in range(rng.randint(6, 9))] for _ in range(2000)]
    budgeted = NearDuplicates(0.85, brute_limit=24, max_candidates=32)
    full = NearDuplicates(0.85, brute_limit=24)
    found = 0
    for key, tokens in enumerate(items):
        got = budgeted.last(tokens) if last else budgeted.first(tokens)
        if got is not None:
            found += 1
            assert got[1] == similarity(tokens, items[got[0]]) >= 0.85
        if tokens in items[:key]:  # an exact copy is found, however far
            assert got is not None
        uncapped = full.last(tokens) if last else full.first(tokens)
        assert (uncapped is None) <= (got is None)  # nothing found that comparing with all would not find
        budgeted.add(tokens, key)
        full.add(tokens, key)
    assert found > 10 and budgeted.candidates <= (32 + 8) * len(items)
    assert full.candidates > 20 * budgeted.candidates


@pytest.mark.parametrize("last", [True, False])
@pytest.mark.parametrize("brute_limit", [24, 100_000])
def test_texts_sharing_one_code_still_find_their_exact_copies(last, brute_limit):
    """Codes hold a few bits per token, so different texts share one (here: every text of a length). An exact
    copy is found however many other texts share its code: scanned before indexing, and past the index with a
    budget too small to reach it."""
    rng = random.Random(4)
    items = [[rng.choice("abc") for _ in range(rng.randint(6, 8))] for _ in range(1500)]
    capped = NearDuplicates(0.85, brute_limit=brute_limit, max_candidates=8)
    copies = 0
    for key, tokens in enumerate(items):
        code = "x" * len(tokens)
        got = capped.last(tokens, code=code) if last else capped.first(tokens, code=code)
        earlier = [k for k in range(key) if items[k] == tokens]
        if earlier:
            copies += 1
            assert got is not None, (key, tokens)
        if got is not None:
            assert got[1] == similarity(tokens, items[got[0]]) >= 0.85
        if earlier and brute_limit > len(items):  # scanned: the very copy (or a later near one) is found
            assert got[0] >= earlier[-1] if last else got[0] <= earlier[0]
        capped.add(tokens, key, code)
    assert copies > 150


def test_a_budget_past_every_search_changes_nothing():
    for seed in range(3):
        items = texts(seed, 150)
        capped = NearDuplicates(0.8, brute_limit=10, max_candidates=10_000)
        for key, tokens in enumerate(items):
            assert capped.last(tokens, min_key=key // 3) == brute(items[:key], tokens, 0.8, last=True, lo=key // 3)
            assert capped.first(tokens) == brute(items[:key], tokens, 0.8, last=False)
            capped.add(tokens, key)


@pytest.mark.parametrize("cutoff", [0.5, 0.85, 1.0])
def test_codes_compared_in_one_call_are_the_codes_compared_one_by_one(monkeypatch, cutoff):
    rng = random.Random(7)
    alphabet = "abcdefgh"
    for _ in range(300):
        candidates = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(rng.randint(0, 60))
        ]
        codes = [rng.choice(candidates) if candidates and rng.random() < 0.2 else "" for _ in range(rng.randint(1, 9))]
        codes = [c or "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for c in codes]
        one_call = codes_module.any_close(codes, candidates, cutoff)
        expected = [
            extractOne(c, candidates, scorer=Indel.normalized_similarity, processor=None, score_cutoff=cutoff)
            is not None
            for c in codes
        ]
        assert one_call == expected
        if len(codes) * len(candidates) >= codes_module._MATRIX_MIN:
            monkeypatch.setattr(codes_module, "_has_numpy", lambda: False)  # the path without numpy
            assert codes_module.any_close(codes, candidates, cutoff) == expected
            monkeypatch.undo()
    assert codes_module._has_numpy()  # the one-call path ran (numpy comes with the test environment)


def test_features_by_counts_are_the_rarest_first_with_repeats_apart():
    """A text's features under known word counts: (word, k-th repeat), by count, then word, then k; a word
    missing from the counts after every counted one, in the order first met."""
    from repo_sdk.rules.features import Features

    rng = random.Random(12)
    for _ in range(3000):
        words = rng.sample(WORDS, rng.randint(1, len(WORDS)))
        tokens = [rng.choice(words) for _ in range(rng.randint(1, 30))] if rng.random() < 0.5 else words
        counts = Counter({w: rng.randint(0, 5) for w in WORDS if rng.random() < 0.8})
        features = Features(0.85, counts=counts)
        probe = features.probe(tokens)
        seen: Counter[str] = Counter()
        every = []
        for t in tokens:
            seen[t] += 1
            missing = t not in counts
            every.append((missing, counts.get(t, 0), tokens.index(t) if missing else t, seen[t], t))
        expected = [features.feature(t, k) for *_, k, t in sorted(every)[: features.prefix(len(tokens))]]
        assert probe == (len(tokens), expected)
        assert len(set(expected)) == len(expected)  # one feature per (word, k)
