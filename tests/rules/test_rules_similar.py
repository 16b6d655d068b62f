"""The near-duplicate index finds exactly what comparing with every earlier text finds, in linear work."""

from __future__ import annotations

import random
from collections import Counter
from difflib import SequenceMatcher

import pytest

from repo_sdk.rules import Repetition, RepetitionParams
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
