"""Dialogue state carried turn to turn: the same hits as rebuilding it per sample, each turn read once."""

# ruff: noqa: RUF001 - replies hold CJK punctuation on purpose

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from repo_sdk.rules import BUILTIN_RULES
from repo_sdk.rules.context import DialogueContext, DialogueTracker, TurnContext
from repo_sdk.rules.text import tokenize
from repo_sdk.rules.views import TextView
from repo_sdk.sources.rules_source import RulesSource
from repo_sdk.testing import make_dialogue, make_sample
from repo_sdk.types import Turn

REPLIES = [
    "We can offer 80 EUR per night for the twin room, breakfast included.",
    "We can offer 80 EUR per night for the twin room, breakfast included!",
    "Okay, so the user wants a discount. Let me think step by step.",
    "## Offer\n- twin: 80\n- double: **95**",
    "我们希望双床房的价格是680元，可以吗？ Thanks!",
    "Our target price in the work order is 75, the ticket is open.",
    "Could you do 1,200.00 USD for the week (5 nights)?",
]


def dialogue(seed: int, turns: int = 24):
    rng = random.Random(seed)
    pairs = []
    for i in range(turns):
        role = "user" if i % 2 == 0 else "assistant"
        pairs.append((role, f"We can do {rng.randint(70, 130)} at most." if role == "user" else rng.choice(REPLIES)))
    task = {"current_price": 120, "target_price": 80, "currency": "EUR"}
    return make_dialogue(pairs, task=task, id=f"d{seed}")


def source() -> RulesSource:
    return RulesSource.build(
        [cls.name for cls in BUILTIN_RULES if cls.name != "numeric_consistency"]
        + [{"name": "numeric_consistency", "history_roles": ["user"]}]
    )


def test_carried_state_gives_the_hits_of_samples_scored_alone():
    src = source()
    for seed in range(3):
        samples = dialogue(seed).samples()
        carried = src.score(samples)
        alone = [src.score([s])[0] for s in samples]  # a lone sample: context rebuilt from its history
        for a, b in zip(carried, alone, strict=True):
            assert a.value == b.value
            assert [h.model_dump() for h in a.details["hits"]] == [h.model_dump() for h in b.details["hits"]]
        assert any(a.details["hits"] for a in carried)


def test_out_of_order_samples_are_scored_as_if_alone():
    src = source()
    samples = dialogue(7).samples()
    shuffled = list(reversed(samples))
    by_id = {s.id: r.value for s, r in zip(shuffled, src.score(shuffled), strict=True)}
    assert by_id == {s.id: r.value for s, r in zip(samples, src.score(samples), strict=True)}


class Counting(DialogueTracker):
    fed = 0

    def feed(self, index, turn, view):
        Counting.fed += 1


def test_each_turn_is_fed_once_per_dialogue():
    from repo_sdk.interfaces import Rule

    class UsesTracker(Rule):
        name = "uses_tracker"

        def check_turn(self, turn):
            turn.dialogue.tracker(Counting)
            return []

    src = RulesSource(RulesSource.Config(rules=["cot_leak"]), [UsesTracker()])
    Counting.fed = 0
    d = dialogue(1, turns=120)
    src.score(d.samples())
    # every turn before the last reply, once: linear, where a replay per sample would feed ~n^2 / 4
    assert Counting.fed == len(d.turns) - 1


def test_context_of_a_lone_sample_holds_its_history():
    sample = make_sample(response="Hi", history=[("user", "a"), ("assistant", "b")])
    turn = TurnContext.of_sample(sample)
    assert [t.content for t in turn.dialogue.turns] == ["a", "b"] and turn.reply.text == "Hi"
    ctx = DialogueContext(task={})
    ctx.push(Turn(role="user", content="x"))
    assert ctx.memo("k", lambda: [1]) is ctx.memo("k", lambda: [2])


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_token_views_match_tokenize(text):
    view = TextView(text)
    assert view.tokens == tokenize(text)
    assert [toks for _, toks in view.sentence_tokens] == [tokenize(text[s:e]) for s, e in view.sentences]


def test_the_link_to_its_dialogue_is_not_part_of_a_samples_value():
    from repo_sdk.types import Sample

    sample = dialogue(3).samples()[1]
    assert Sample(**sample.model_dump()) == sample and "origin" not in str(sample.model_dump())


class _Counted(DialogueTracker):
    """Counts the turns it is fed, and keeps the last one."""

    fed = 0

    def __init__(self, dialogue: DialogueContext) -> None:
        super().__init__(dialogue)
        self.turns: list[int] = []

    def feed(self, index: int, turn: Turn, view: TextView) -> None:
        type(self).fed += 1
        self.turns.append(index)


def test_dialogue_rules_get_the_context_the_turn_rules_carried() -> None:
    """A dialogue rule reads the trackers the turn rules fed: every turn fed once over replies and dialogue row."""
    from repo_sdk import hookimpl
    from repo_sdk.interfaces import Rule
    from repo_sdk.testing import register_plugin

    class Turns(Rule):
        name = "test.turns_seen"

        def check_turn(self, turn: TurnContext) -> list:
            turn.dialogue.tracker(_Counted)
            return []

    class Whole(Rule):
        name = "test.whole_seen"
        scope = "dialogue"

        def check_dialogue_context(self, dialogue, context):  # type: ignore[no-untyped-def]
            seen = context.tracker(_Counted).turns
            return [self.hit(f"saw {len(seen)} turns", turn_index=seen[-1])]

    class Plugin:
        @hookimpl
        def register_rules(self, register):  # type: ignore[no-untyped-def]
            register(Turns)
            register(Whole)

    d = dialogue(7, turns=21)  # ends on a user turn: pushed when the dialogue row is scored
    with register_plugin(Plugin(), "test-carried") as registry:
        src = RulesSource.build(["test.turns_seen", "test.whole_seen"], registry=registry)
        _Counted.fed = 0
        src.score(d.samples())
        hits = src.score_dialogue(d).details["hits"]  # type: ignore[union-attr]
        assert [h.reason for h in hits] == ["saw 21 turns"] and hits[0].turn_index == 20
        assert _Counted.fed == 21, "each turn fed once: none replayed for the dialogue row"
        # without the turn rules' context (a dialogue never scored turn by turn) it is built from the turns
        alone = Whole().check_dialogue(d)
        assert [h.reason for h in alone] == ["saw 21 turns"]
