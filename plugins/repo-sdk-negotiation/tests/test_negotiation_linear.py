"""The negotiation engine in linear time: each turn read once per dialogue, long replies read in one pass."""

from __future__ import annotations

from repo_sdk_negotiation import load_example_dialogues, spec_path, text
from repo_sdk_negotiation.rules import ALL_RULES
from repo_sdk_negotiation.state import NegotiationState

from repo_sdk.pipeline import RewardPipeline
from repo_sdk.sources.rules_source import RulesSource
from repo_sdk.testing import make_dialogue

TASK = {"room_type": "Twin Room", "current_price": 120, "target_price": 95, "hotel": "Hotel Aurora"}


def turn_rules() -> RulesSource:
    return RulesSource.build([cls.name for cls in ALL_RULES if cls.scope == "turn"])


def test_carried_state_gives_the_hits_of_samples_scored_alone():
    src = turn_rules()
    for d in load_example_dialogues():
        samples = d.samples()
        carried = src.score(samples)
        alone = [src.score([s])[0] for s in samples]
        for a, b in zip(carried, alone, strict=True):
            assert [h.model_dump() for h in a.details["hits"]] == [h.model_dump() for h in b.details["hits"]]


def test_each_turn_is_read_once_per_dialogue(monkeypatch):
    reads = {"agent": 0, "hotel": 0}
    agent, hotel = NegotiationState.read_agent, NegotiationState.read_hotel

    def count(kind, fn):
        def wrapped(self, content, *more):
            reads[kind] += 1
            return fn(self, content, *more)

        return wrapped

    monkeypatch.setattr(NegotiationState, "read_agent", count("agent", agent))
    monkeypatch.setattr(NegotiationState, "read_hotel", count("hotel", hotel))
    pairs = []
    for k in range(60):
        pairs += [("user", f"We can do {130 - k % 9} at most."), ("assistant", f"Could you do €{95 + k % 7}?")]
    turn_rules().score(make_dialogue(pairs, task=TASK).samples())
    # a replay per reply would read about 60 * 61 agent turns; the state carried reads each once
    assert reads == {"agent": 60, "hotel": 60}


def test_a_long_reply_is_split_once_and_negation_reads_a_short_stretch(monkeypatch):
    calls = {"split": 0, "negation_reads": 0, "longest": 0}
    split, words = text._sentences.__wrapped__, text._WORDS

    def counted_split(t):
        calls["split"] += 1
        return split(t)

    class Measured:  # the word pattern of is_negated, recording how much text it reads
        def findall(self, t):
            calls["negation_reads"] += 1
            calls["longest"] = max(calls["longest"], len(t))
            return words.findall(t)

    monkeypatch.setattr(text, "_sentences", counted_split)
    monkeypatch.setattr(text, "_WORDS", Measured())
    reply = " ".join(f"Could you do €{90 + k % 9}? Thank you for agreeing! We can't go lower." for k in range(400))
    with RewardPipeline.from_spec(spec_path(), only=["rules"]) as pipe:
        pipe.score(make_dialogue([("user", "Hello?"), ("assistant", reply)], task=TASK).samples())
    assert calls["split"] <= 40  # per piece of text the rules look at, not per price or per sentence
    assert calls["negation_reads"] > 100 and calls["longest"] <= 1024  # a few words back, never the whole reply


def test_what_is_read_off_long_texts_is_kept_for_the_last_one_only() -> None:
    """64 replies of 1 MB, each with half a million numbers, must not all stay in memory."""
    from repo_sdk_negotiation.memo import text_cache

    calls: list[str] = []

    @text_cache(maxsize=2, long=10)
    def read(text: str) -> tuple[str, ...]:
        calls.append(text)
        return tuple(text)

    long_a, long_b = "a" * 11, "b" * 11
    assert read(long_a) is read(long_a) and calls == [long_a]  # a reply's rules ask in a row: read once
    read(long_b)
    read(long_a)
    assert calls == [long_a, long_b, long_a]  # the next long text let the first go
    for short in ("x", "y", "x", "y"):
        read(short)
    assert calls[3:] == ["x", "y"]  # short texts: the last `maxsize` kept
    read("z")
    read("x")
    assert calls[5:] == ["z", "x"]
