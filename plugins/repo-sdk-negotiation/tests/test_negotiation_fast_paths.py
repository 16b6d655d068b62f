"""The shortcuts taken for speed find exactly what the plain searches find."""

# ruff: noqa: RUF001 - the windows hold letters that fold to ASCII on purpose

from __future__ import annotations

import random

from repo_sdk_negotiation import numwords, prices
from repo_sdk_negotiation.rules import StageOrder, TicketsClosed
from repo_sdk_negotiation.rules.base import NegotiationTracker, context_of
from repo_sdk_negotiation.state import NegotiationState

from repo_sdk.rules.text import fold
from repo_sdk.testing import make_dialogue, make_sample

PIECES = (
    "price rate counter-offer counteroffer Counter-Offer PRICE is would be at to do meet make it what about "
    "flat 5price é x EUR eur US$ € $ ¥ rmb RMB USD pay charged ninety around still currently ſo İs"
).split()


def windows(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    seps = ["", " ", "  ", "\n", "-", "5", "\t", " \n"]
    return ["".join(rng.choice(PIECES) + rng.choice(seps) for _ in range(rng.randint(0, 7)))[-40:] for _ in range(n)]


def test_left_cues_of_a_price_are_the_plain_searches() -> None:
    for before in windows(0, 30_000):
        assert prices._strong_left(before) == (prices._STRONG_LEFT.search(before) is not None), before
        assert prices._weak_left(before) == (prices._WEAK_LEFT.search(before) is not None), before
        plain, bounded = prices._LEFT_CUR.search(before), prices._LEFT_CUR.search(before, max(0, len(before) - 6))
        assert (plain and (plain.span(), plain.groupdict())) == (bounded and (bounded.span(), bounded.groupdict()))


def test_dates_and_times_pattern_starting_with_a_digit_matches_as_written() -> None:
    import re

    written = re.compile(
        r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d{1,2}\.\d{1,2}\.\d{2,4}\b|\b\d{1,2}:\d{2}\b"
    )
    rng = random.Random(1)
    for _ in range(20_000):
        text = "".join(rng.choice("0123456789-/.: a_x") for _ in range(rng.randint(0, 24)))
        assert [m.span() for m in numwords._DATES_TIMES.finditer(text)] == [m.span() for m in written.finditer(text)]


def test_a_task_without_tickets_reads_hotel_turns_and_agent_acts_only_when_asked() -> None:
    turns = [("user", "Hi, could we do 95 EUR? That's a deal."), ("assistant", "Sure, could you lower it to 90?")]
    d = make_dialogue([*turns, ("user", "OK fine."), ("assistant", "Great, thanks!")])
    eager = NegotiationState({})
    for i, t in enumerate(d.turns):
        eager.feed(t, i)
    calls = {"hotel": 0}
    lazy = NegotiationState({})
    read = lazy.read_hotel

    def counted(content: str):  # type: ignore[no-untyped-def]
        calls["hotel"] += 1
        return read(content)

    lazy.read_hotel = counted  # type: ignore[method-assign]
    tracker_like = [
        lazy.defer_hotel(t.content) if t.role == "user" else lazy.apply_agent(lazy.read_agent(t.content), i)
        for i, t in enumerate(d.turns)
    ]
    assert len(tracker_like) == 4 and calls["hotel"] == 0
    assert lazy.last_hotel == eager.last_hotel and calls["hotel"] == 1
    assert lazy.last_agent is not None and eager.last_agent is not None
    assert (lazy.last_agent.acts, lazy.last_agent.prices) == (eager.last_agent.acts, eager.last_agent.prices)
    assert lazy.last_agent.acts, "the deferred reading still finds the acts"


TASK = {
    "tickets": [
        {"id": "T1", "room_type": "Twin Room", "current_price": 120, "target_price": 95},
        {"id": "T2", "room_type": "Junior Suite", "current_price": 220, "target_price": 190},
    ]
}


def test_dialogue_rules_reuse_the_state_of_the_turn_rules(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Scoring a dialogue's replies and then its dialogue row reads each turn once, not once more per dialogue rule."""
    from repo_sdk.pipeline import RewardPipeline

    turns = [("user", "Hotel Aurora, hello."), ("assistant", "Is the twin still at €120?"), ("user", "Yes.")]
    for k in range(20):
        turns += [("assistant", f"Could you do €{100 - k}? We will revisit later."), ("user", "Maybe, let me check.")]
    turns += [("assistant", "Thank you, have a great day!")]
    d = make_dialogue(turns, task=TASK)
    counts = {"agent": 0, "hotel": 0}
    agent, hotel = NegotiationState._read_agent, NegotiationState.read_hotel

    def read_agent(self, text, folded=None):  # type: ignore[no-untyped-def]
        counts["agent"] += 1
        return agent(self, text, folded)

    def read_hotel(self, content):  # type: ignore[no-untyped-def]
        counts["hotel"] += 1
        return hotel(self, content)

    monkeypatch.setattr(NegotiationState, "_read_agent", read_agent)
    monkeypatch.setattr(NegotiationState, "read_hotel", read_hotel)
    spec = {
        "sources": {"rules": ["negotiation.price_consistency", "negotiation.stage_order", "negotiation.tickets_closed"]}
    }
    with RewardPipeline.from_spec(spec) as pipe:
        pipe.score(d.samples())
        dialogue_hits = pipe.score_dialogue(d)["rules"].details["hits"]
    agents = sum(t.role == "assistant" for t in d.turns)
    assert counts == {"agent": agents, "hotel": len(d.turns) - agents}
    fresh = StageOrder().check_dialogue(d) + TicketsClosed().check_dialogue(d)  # built from the turns alone
    assert [h.model_dump() for h in dialogue_hits] == [h.model_dump() for h in fresh] and fresh


def test_the_tracker_records_each_agent_turn_of_a_ticketed_task() -> None:
    s = make_sample(
        response="Could you do €95?", task=TASK, history=[("assistant", "Is the twin at €120?"), ("user", "Yes.")]
    )
    ctx = context_of(s)
    assert ctx.dialogue is not None
    steps = ctx.dialogue.tracker(NegotiationTracker).steps
    assert [(st.index, st.hotel) for st in steps] == [(0, None)] and steps[0].open_unasked == {"T1", "T2"}


AROUND = (
    "95 % %  percent per cent pct nights room rooms per night /night a night nightly each stay o'clock pm p.m. "
    "PERCENT Nights \u017ftars \u212am KIDS X M m2 more of them Of US a.m. AM th ST every night anight "
    "of you x times more EUR eur Eur US$ us$ \u20ac $ \u00a3 \u00a5 \uffe5 \u5143 \u20a9 \u0e3f euros Dollars yuan "
    "RMB rmb baht rupee \u017fo \u0130s \u212a \u00e9 price rate at to do 12 5"
).split(" ")


def test_each_price_cue_is_searched_where_its_first_or_last_character_can_be() -> None:
    rng = random.Random(5)
    seps = ["", " ", "  ", "\n", "\t", "-", " \n", "\u00a0"]
    for _ in range(30_000):
        window = "".join(rng.choice(AROUND) + rng.choice(seps) for _ in range(rng.randint(0, 6)))[:40]
        first = window[1:2] if window[:1].isspace() else window[:1]
        if prices._RIGHT_CUR.match(window):
            assert first in prices._RIGHT_FIRST, window
        head = fold(window.lstrip()[:2])
        if prices._QUANTITY.match(window):
            assert prices._starts(head, prices._QUANTITY_HEADS), window
        if prices._PER_UNIT.match(window):
            assert prices._starts(head, prices._PER_UNIT_HEADS), window
        tail = window.rstrip()[-1:]
        if prices._LEFT_CUR.search(window):
            assert tail in prices._LEFT_LAST or "A" <= tail <= "Z", window
        if prices._STRONG_LEFT.search(window) or prices._WEAK_LEFT.search(window):
            assert tail.isalpha(), window


def test_half_a_surrogate_pair_keeps_the_cue_words_found() -> None:
    """Such a string is not UTF-8, which the cue automaton takes: its words are then found by substring tests."""
    from repo_sdk.pipeline import RewardPipeline

    rules = ["negotiation.internal_terms", "negotiation.selling_net_confusion", "negotiation.no_overpromise"]
    task = {"room_type": "Twin Room", "current_price": 120, "target_price": 95}
    reply = "As an AI language model, I guarantee you more bookings. Lowering the price will double your bookings."
    with RewardPipeline.from_spec({"sources": {"rules": rules}}) as pipe:
        fired = []
        for text in (reply, reply.replace("rate", "rate\udc00"), reply + "\ud800"):
            for _ in range(70):  # past the words settling: the DFA is built and searched too
                result = pipe.score(
                    [make_sample(response=text, history=[("user", "Hi"), ("assistant", "Hello")], task=task)]
                )[0]
            assert result.sources["rules"].value is not None, result.sources["rules"].reason
            fired.append(sorted(h.rule for h in result.sources["rules"].details["hits"]))
    assert fired[0] and fired[0] == fired[1] == fired[2]


def test_each_cue_after_a_price_starts_as_its_guard_says() -> None:
    """The guards' sets, read off the patterns: every alternative of a quantity or a unit starts with one of
    its heads, and every character the regex engine matches to a currency's first letter is in the set."""
    import re

    from repo_sdk_negotiation.phrases import alternatives

    def head(alternative: str) -> str:  # the literal characters an alternative starts with (two at most)
        out, i = "", 0
        while i < len(alternative) and len(out) < 2:
            c = alternative[i]
            if c == "\\" and alternative[i + 1] in ".'%/":
                c, i = alternative[i + 1], i + 1
            elif c in "\\()[]?*+|^":
                break
            if alternative[i + 1 : i + 2] in ("?", "*"):
                break
            out, i = out + c, i + 1
        return out

    body = prices._QUANTITY.pattern
    quantities = alternatives(body[body.index("(?:") + 3 : body.rindex(")")])
    assert len(quantities) > 30 and {head(q) for q in quantities} <= prices._QUANTITY_HEADS
    units = [head(u) for u in ("per", "a", "\\/", "each", "every", "nightly")]
    assert set(units) <= prices._PER_UNIT_HEADS
    letters = "".join({w[0] for w in prices.WORDS} | {s[0].lower() for s in prices.SYMBOLS if s[0].isalpha()})
    one = re.compile(f"(?i:[{letters}])")
    assert {c for c in map(chr, range(0x110000)) if one.fullmatch(c)} <= prices._RIGHT_FIRST
    assert {c[0] for c in prices.CODES} <= prices._RIGHT_FIRST
