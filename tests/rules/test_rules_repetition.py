"""repetition: repeating the agent's own earlier turns, or a sentence within the reply."""

# ruff: noqa: RUF001 - CJK punctuation and look-alike letters are what these tests are about

from __future__ import annotations

import random
from typing import Any

import pytest

from repo_sdk.rules import Repetition, RepetitionParams
from repo_sdk.rules.repetition import similarity
from repo_sdk.rules.speedups import SPEEDUPS
from repo_sdk.testing import make_sample

PITCH = "Could you offer the twin room at 80 euros per night for our guests this summer?"
OTHER = "We also need breakfast included, and a late check-out on the last day."


def hits(response: str, turns: list[tuple[str, str]], **params: Any) -> list[tuple[str, str]]:
    found = Repetition(RepetitionParams(**params)).check(make_sample(response=response, history=turns))
    for h in found:
        assert h.span is not None and response[h.span[0] : h.span[1]] == h.evidence
    return [(h.reason.split(" (")[0], h.evidence) for h in found]


@pytest.mark.parametrize(
    ("response", "history", "params", "expected"),
    [
        # the whole reply repeats an earlier assistant turn, exactly or nearly
        (PITCH, [("assistant", PITCH), ("user", "No.")], {}, [("reply repeats history turn 0", PITCH)]),
        (
            PITCH.replace("80", "85"),
            [("user", "Hello"), ("assistant", PITCH), ("user", "No.")],
            {},
            [("reply repeats history turn 1", PITCH.replace("80", "85"))],
        ),
        # an earlier line recycled inside a new reply
        (
            f"Thanks for waiting. {PITCH}",
            [("assistant", f"{OTHER} {PITCH}"), ("user", "Hmm.")],
            {},
            [("sentence repeats history turn 0", PITCH)],
        ),
        # a sentence repeated within the reply
        (f"{PITCH} Also, hello. {PITCH}", [], {}, [("sentence repeated within the reply", PITCH)]),
        # the counterpart's words are not the agent's repetition
        (PITCH, [("user", PITCH)], {}, []),
        # short polite phrases may recur
        ("Thank you!", [("assistant", "Thank you!"), ("user", "You're welcome.")], {}, []),
        ("Thank you. Thank you.", [("assistant", "Thank you.")], {}, []),
        # a different reply
        (OTHER, [("assistant", PITCH)], {}, []),
        # switches and window
        (PITCH, [("assistant", PITCH)], {"history": False, "sentences": False}, []),
        (PITCH, [("assistant", PITCH), ("assistant", OTHER)], {"window": 1, "sentences": False}, []),
        (PITCH, [("assistant", PITCH)], {"metric": "jaccard"}, [("reply repeats history turn 0", PITCH)]),
        (f"{PITCH} {PITCH}", [], {"within": False}, []),
    ],
)
def test_repetition(
    response: str, history: list[tuple[str, str]], params: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert hits(response, history, **params) == expected


def test_cjk_repetition_uses_characters_as_tokens() -> None:
    reply = "您好，请问双床房今晚能否以八十欧元的价格预订？"
    assert hits(reply, [("assistant", reply)]) == [("reply repeats history turn 0", reply)]


@pytest.mark.parametrize(
    ("a", "b", "metric", "low", "high"),
    [
        ("a b c d", "a b c d", "ratio", 1.0, 1.0),
        ("a b c d", "w x y z", "ratio", 0.0, 0.0),
        ("a b c d", "a b c e", "jaccard", 0.3, 0.7),
        ("", "a", "ratio", 0.0, 0.0),
    ],
)
def test_similarity(a: str, b: str, metric: str, low: float, high: float) -> None:
    assert low <= similarity(a.split(), b.split(), metric) <= high  # type: ignore[arg-type]


VOCAB = "we can offer the twin room at 80 85 euros per night breakfast thanks you a late check out please".split()


def random_reply(rng: random.Random, said: list[str], sentences: int) -> str:
    out = []
    for _ in range(sentences):
        if said and rng.random() < 0.3:  # an earlier sentence again, sometimes a word changed
            words = rng.choice(said).split()
            if rng.random() < 0.5:
                words[rng.randrange(len(words))] = rng.choice(VOCAB)
        else:
            words = [rng.choice(VOCAB) for _ in range(rng.randint(2, 14))]
        sentence = " ".join(words)
        said.append(sentence)
        out.append(sentence.capitalize() + rng.choice([".", "!", "?"]))
    return " ".join(out)


def expected_hits(reply: str, history: list[tuple[str, str]], p: RepetitionParams) -> list[tuple[str, tuple]]:
    """What the rule must find, by comparing every pair of texts (no index, no codes)."""
    from repo_sdk.rules.views import TextView

    agent = [(i, TextView(text)) for i, (role, text) in enumerate(history) if role == "assistant"]
    view = TextView(reply)
    mine = [(span, toks) for span, toks in view.sentence_tokens if len(toks) >= p.min_tokens]
    out: list[tuple[str, tuple]] = []
    first = 0 if p.window is None else max(0, len(agent) - p.window)
    seen = agent[first:]

    def sim(a: list[str], b: list[str]) -> float:
        return similarity(a, b, p.metric, p.ngram)

    whole = False
    if p.history and agent and len(view.tokens) >= p.min_tokens:
        found = [
            (i, sim(view.tokens, v.tokens)) for i, v in seen if v.tokens and sim(view.tokens, v.tokens) >= p.threshold
        ]
        if found:
            out.append((f"reply repeats history turn {found[-1][0]} (similarity {found[-1][1]:.2f})", (0, len(reply))))
            whole = True
    if p.sentences and agent and not whole:
        earlier = [(i, toks) for i, v in seen for _, toks in v.sentence_tokens if len(toks) >= p.min_tokens]
        for span, toks in mine:
            found = [(i, sim(toks, e)) for i, e in earlier if sim(toks, e) >= p.threshold]
            if found:
                out.append((f"sentence repeats history turn {found[-1][0]} (similarity {found[-1][1]:.2f})", span))
    if p.within and len(mine) > 1:
        for k, (span, toks) in enumerate(mine):
            found = [sim(toks, e) for _, e in mine[:k] if sim(toks, e) >= p.threshold]
            if found:
                out.append((f"sentence repeated within the reply (similarity {found[0]:.2f})", span))
    return out


@pytest.mark.parametrize(
    "params",
    [{}, {"metric": "jaccard"}, {"threshold": 0.7, "window": 4}, {"threshold": 1.0, "min_tokens": 3}],
)
def test_the_rule_finds_what_comparing_every_pair_finds(
    params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Short and long dialogues (past the 256 texts compared before the index starts), long replies too; the
    searches' budget lifted (a reply of 700 sentences from a small vocabulary, at 0.7, goes past it)."""
    from repo_sdk.rules import repetition

    monkeypatch.setattr(repetition, "_MAX_CANDIDATES", None)
    p = RepetitionParams(max_hits=None, **params)
    rule = Repetition(p)
    rng = random.Random(11)
    for turns, per_reply in [(3, 4), (12, 6), (70, 10), (2, 700)]:
        said: list[str] = []
        history: list[tuple[str, str]] = []
        for _ in range(turns):
            if history and rng.random() < 0.15:  # a whole earlier reply again
                text = rng.choice(history)[1]
                if rng.random() < 0.5:
                    text = text.replace(rng.choice(VOCAB), rng.choice(VOCAB))
            else:
                text = random_reply(rng, said, rng.randint(1, per_reply))
            history += [("user", "Hmm, maybe."), ("assistant", text)]
        reply = random_reply(rng, said, per_reply) if rng.random() < 0.5 else history[-1][1] + " Thanks."
        got = [(h.reason, h.span) for h in rule.check(make_sample(response=reply, history=history))]
        assert got == expected_hits(reply, history, p)


def test_a_reply_of_few_words_from_a_tiny_vocabulary_costs_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sentences of a few characters drawn from seven (1 MB of them took ten minutes): each shares features with
    nearly every other, so each search looks at a bounded number of them, and the cost grows with the length."""
    import random

    from repo_sdk.rules import repetition
    from repo_sdk.rules.similar import NearDuplicates

    made: list[NearDuplicates] = []

    class Counted(NearDuplicates):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(repetition, "NearDuplicates", Counted)
    rng = random.Random(0)
    looked, hits = [], []
    for size in (64_000, 256_000):
        made.clear()
        reply = "".join(rng.choice("谢谢你好世界。") for _ in range(size))
        hits.append(len(Repetition(RepetitionParams(max_hits=None)).check(make_sample(response=reply))))
        looked.append(sum(index.candidates + index.comparisons for index in made))
    assert hits[0] > 50 and hits[1] > 3 * hits[0]  # repeats are still found, the more the longer
    assert looked[1] < 5 * looked[0]  # four times the text, about four times the work


needs_c = pytest.mark.skipif(SPEEDUPS is None, reason="the C part is not built or ignored (REPO_SDK_PURE_PYTHON)")


@needs_c
def test_repeat_free_is_true_exactly_when_no_compared_pair_of_codes_is_close() -> None:
    """The one call that lets most replies skip the searches: random codes (some past 64 characters, some
    empty), each check on and off, against every pair compared in Python."""
    from rapidfuzz.distance import Indel

    from repo_sdk.rules.codes import repeat_free

    rng = random.Random(5)

    def code() -> str:
        return "".join(rng.choice("abcdef") for _ in range(rng.choice([0, 2, 5, 8, 12, 70])))

    outcomes = set()
    for _ in range(3000):
        whole = None if rng.random() < 0.3 else code()
        codes, replies, sentences = ([code() for _ in range(rng.randint(0, 4))] for _ in range(3))
        least, within, cutoff = rng.choice([1, 5, 8]), rng.random() < 0.5, rng.choice([0.6, 0.85, 1.0])

        def close(a: str, b: str, cutoff: float = cutoff) -> bool:
            return Indel.normalized_similarity(a, b) >= cutoff

        mine = [c for c in codes if len(c) >= least]
        pairs = [(whole, r) for r in replies if whole is not None]
        pairs += [(c, s) for c in mine for s in sentences if len(s) >= least]
        pairs += [(c, mine[j]) for k, c in enumerate(mine) for j in range(k)] if within else []
        expected = not any(close(a, b) for a, b in pairs)
        assert repeat_free(whole, codes, replies, sentences, least, within, cutoff) is expected
        outcomes.add(expected)
    assert outcomes == {True, False}
    assert repeat_free(None, ["é"], [], [], 1, True, 0.5) is None  # not a code: cannot tell


@needs_c
@pytest.mark.parametrize(
    "params",
    [{}, {"window": 3}, {"threshold": 0.7, "min_tokens": 3}, {"history": False}, {"sentences": False, "window": 2}],
)
def test_scanned_searches_find_what_the_indexes_find(params: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Logged dialogues scored turn by turn (each dialogue's context carried from reply to reply), with repeats
    near and far, a dialogue that outgrows the scan (past 256 sentences) and a reply that does: every turn's
    hits are those the indexes alone find, and those comparing every pair finds."""
    from repo_sdk.rules import repetition
    from repo_sdk.sources.rules_source import RulesSource
    from repo_sdk.testing import make_dialogue

    monkeypatch.setattr(repetition, "_MAX_CANDIDATES", None)  # (comparing every pair has no budget)
    p = RepetitionParams(max_hits=None, **params)
    rng = random.Random(17)
    dialogues = []
    for agent_turns, per_reply in [(4, 3), (10, 5), (16, 6), (60, 6), (6, 4)]:
        said: list[str] = []
        turns: list[tuple[str, str]] = []
        for k in range(agent_turns):
            if turns and rng.random() < 0.15:
                text = rng.choice([t for r, t in turns if r == "assistant"])
            elif per_reply == 4 and k == 3:  # past the scan limit on its own
                text = random_reply(rng, said, 300)
            else:
                text = random_reply(rng, said, rng.randint(1, per_reply))
            turns += [("user", "Hmm, maybe."), ("assistant", text)]
        dialogues.append(make_dialogue(turns))
    # a sentence one token short of counting, then the same with one more: close, yet never compared (and a
    # repeat beside it, so that the reply is searched)
    words = "could you offer the twin room at eighty euros".split()
    short, longer = (" ".join(words[:n]).capitalize() + "." for n in (p.min_tokens - 1, p.min_tokens))
    again = "We can offer you breakfast and a late check out on the last day."
    turns = [("user", "Hi"), ("assistant", f"{short} {again}"), ("user", "So?"), ("assistant", f"{longer} {again}")]
    dialogues.append(make_dialogue(turns))
    verdicts: list[bool] = []
    free = repetition.repeat_free

    def counted(*args: Any) -> bool | None:
        verdict = free(*args)
        verdicts.append(verdict is True)
        return verdict

    def found(scans: bool) -> list[list[tuple[str, Any]]]:
        rule = Repetition(p)
        rule.prechecked = scans
        source = RulesSource(RulesSource.Config(rules=["repetition"]), [rule])
        return [
            [(h.reason, h.span) for h in score.details["hits"]]
            for d in dialogues
            for score in source.score(d.samples())
        ]

    indexed = found(False)
    assert not verdicts  # (no scan at all)
    monkeypatch.setattr(repetition, "repeat_free", counted)
    scanned = found(True)
    assert scanned == indexed
    assert sum(map(bool, scanned)) > 10
    assert verdicts.count(True) > 20 and verdicts.count(False) > 10  # both ways taken
    brute = [
        [(reason, span) for reason, span in expected_hits(s.response, [(t.role, t.content) for t in s.history], p)]
        for d in dialogues
        for s in d.samples()
    ]
    assert scanned == brute


def test_a_huge_reply_repeating_an_earlier_one_costs_linear_time() -> None:
    """A model repeating a reply of 3.6 MB (one sentence: no full stop), as it was and edited in the middle.
    Their codes share a long prefix and suffix, compared first: each repeat is found in about 0.1 s. Comparing
    the codes position by position (a longest common subsequence, bit-parallel) costs the square of their
    length, about 18 s here, so the loose bound below cannot be met that way and leaves room for any machine."""
    import time

    rng = random.Random(0)
    text = " ".join(rng.choice(VOCAB) for _ in range(700_000))
    edited = text[: len(text) // 2] + " changed " + text[len(text) // 2 :]
    for reply in (text, edited):
        started = time.process_time()
        found = Repetition().check(make_sample(response=reply, history=[("assistant", text), ("user", "again")]))
        assert time.process_time() - started < 5.0
        assert [h.reason.split(" (")[0] for h in found] == ["reply repeats history turn 0"]
