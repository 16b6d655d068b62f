"""The per-turn path of offline scoring: samples built without a second validation, one
collection per group. What it must keep: the same samples, rows and errors; memory bounded."""

from __future__ import annotations

import gc
import pickle
import weakref
from typing import Any, ClassVar

import pytest

from repo_sdk import Rule, hookimpl
from repo_sdk.gc_policy import collected_after
from repo_sdk.io.messages import message_to_turn
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.rules.context import DialogueTracker, TurnContext
from repo_sdk.testing import make_dialogue, register_plugin
from repo_sdk.types import Dialogue, Sample, ToolCall, Turn
from repo_sdk.workers import score_group

TURNS = [
    Turn(role="system", content="You negotiate for a travel agency."),
    Turn(role="user", content="Hotel Aurora, good morning."),
    Turn(role="assistant", content="", tool_calls=(ToolCall(name="rates", arguments={"room": "twin"}),)),
    Turn(role="tool", name="rates", tool_call_id="c1", content="80 EUR"),
    Turn(role="assistant", content="Could you do 80 EUR for the twin room?"),
    Turn(role="user", content="85 is our best."),
    Turn(role="assistant", content="Then 82, and we book ten nights."),
]


def test_samples_equal_the_validated_ones_field_for_field() -> None:
    d = Dialogue(id="d1", task={"hotel": "Aurora", "tickets": [{"room": "twin"}]}, turns=TURNS, metadata={"src": 1})
    samples = d.samples()
    assert [s.id for s in samples] == ["d1#4", "d1#6"]
    for s in samples:
        checked = Sample(id=s.id, task=d.task, history=s.history, response=s.response, metadata=s.metadata)
        assert s == checked and s.model_dump() == checked.model_dump()
        assert list(s.__dict__) == list(checked.__dict__) and s.model_fields_set == checked.model_fields_set
        assert repr(s) == repr(checked) and pickle.loads(pickle.dumps(s)) == s
        assert Sample.model_validate_json(s.model_dump_json()) == s
        assert s.model_copy(update={"response": "x"}).response == "x" and s.response != "x"
    # each sample owns its task and metadata: a source that edits one changes nothing else
    samples[0].task["hotel"] = "changed"
    samples[0].metadata["note"] = 1
    assert d.task["hotel"] == "Aurora" and samples[1].task["hotel"] == "Aurora"
    assert "note" not in samples[1].metadata and d.metadata == {"src": 1}
    assert samples[1].metadata == {"src": 1, "dialogue_id": "d1", "turn_index": 6}


def test_a_turn_still_refuses_fields_that_do_not_fit_its_role() -> None:
    with pytest.raises(ValueError, match="only assistant turns make tool calls, not user turns"):
        Turn(role="user", tool_calls=[{"name": "rates"}])
    with pytest.raises(ValueError, match="name and tool_call_id belong to tool turns, not assistant turns"):
        Turn(role="assistant", tool_call_id="c1")
    with pytest.raises(ValueError, match="belong to tool turns, not user turns"):
        Dialogue.model_validate({"id": "d", "turns": [{"role": "user", "content": "x", "name": "n"}]})
    assert Turn(role="tool", name="rates", tool_call_id="c1").name == "rates"


@pytest.mark.parametrize(
    "message",
    [
        {"role": "user", "content": "hi", "name": "ignored: not a tool turn"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": 7, "function": {"name": "x", "arguments": "{}"}}]},
        {"role": "tool", "name": "rates", "tool_call_id": 3, "content": "80 EUR"},
        {"role": "tool", "content": [{"type": "text", "text": "80"}, {"type": "image"}]},
    ],
)
def test_a_message_reads_as_the_turn_validation_would_make(message: dict[str, Any]) -> None:
    turn = message_to_turn(message)
    checked = Turn(**{k: v for k, v in turn.__dict__.items() if k in turn.model_fields_set})
    assert turn == checked and list(turn.__dict__) == list(checked.__dict__)
    assert turn.model_fields_set == checked.model_fields_set and repr(turn) == repr(checked)
    assert Turn.model_validate(turn.model_dump()) == turn


def test_the_origin_of_a_sample() -> None:
    d = Dialogue(id="d1", turns=TURNS)
    assert [(s.origin().dialogue is d, s.origin().index) for s in d.samples()] == [(True, 4), (True, 6)]
    assert Sample(id="s", response="x").origin() is None


class _Cycle:
    """A reference cycle: freed only by the cycle collector."""

    def __init__(self) -> None:
        self.me = self


made: list[weakref.ref[_Cycle]] = []


class CyclicRule(Rule):
    """A rule that leaves cyclic garbage behind for every turn it checks (as a careless plugin might)."""

    name: ClassVar[str] = "t.cyclic"

    def check(self, sample: Any) -> list[Any]:
        junk = _Cycle()
        made.append(weakref.ref(junk))
        return []


trackers: list[weakref.ref[DialogueTracker]] = []


class Replies(DialogueTracker):
    """Counts the agent's turns; holds its dialogue context (as every tracker does): a cycle."""

    def __init__(self, dialogue: Any) -> None:
        super().__init__(dialogue)
        self.count = 0
        trackers.append(weakref.ref(self))

    def feed(self, index: int, turn: Turn, view: Any) -> None:
        self.count += turn.role == "assistant"


class TrackedRule(Rule):
    name: ClassVar[str] = "t.tracked"

    def check_turn(self, turn: TurnContext) -> list[Any]:
        turn.dialogue.memo((id(self), "self"), lambda: turn.dialogue)  # a memo that refers back, too
        return [self.hit("third reply")] if turn.dialogue.tracker(Replies).count == 2 else []


class Plugin:
    @hookimpl
    def register_rules(self, register: Any) -> None:
        register(CyclicRule)
        register(TrackedRule)


@pytest.mark.parametrize("dialogue_rules", [False, True])
def test_a_scored_dialogue_frees_its_trackers_without_the_collector(dialogue_rules: bool) -> None:
    turns = [
        ("user", "Hi"),
        ("assistant", "One"),
        ("user", "?"),
        ("assistant", "Two"),
        ("user", "?"),
        ("assistant", "3"),
    ]
    dialogues = [make_dialogue(turns, id=f"d{i}") for i in range(5)]
    rules = ["t.tracked", *(["negotiation.stage_order"] if dialogue_rules else [])]
    trackers.clear()
    with register_plugin(Plugin()), RewardPipeline.from_spec({"sources": {"rules": rules}}) as pipe:
        gc.disable()
        try:
            results = pipe.score([s for d in dialogues for s in d.samples()])
            if dialogue_rules:
                [pipe.score_dialogue(d) for d in dialogues]
            assert [[h.rule for h in r.fired] for r in results][:3] == [[], [], ["t.tracked"]]
            assert len(trackers) == 5 and all(ref() is None for ref in trackers)
        finally:
            gc.enable()


def test_a_group_collects_its_cyclic_garbage_when_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    dialogues = [make_dialogue([("user", "Hi"), ("assistant", f"Hello {i}")], id=f"d{i}") for i in range(50)]
    young: list[int] = []  # the objects the collection after the group walks

    def collect(generation: int = 2) -> int:
        young.append(len(gc.get_objects(0)))
        return real_collect(generation)

    real_collect = gc.collect
    with register_plugin(Plugin()):
        with RewardPipeline.from_spec({"sources": {"rules": ["t.cyclic"]}}) as pipe:
            assert gc.isenabled()
            score_group(pipe, dialogues[:1])  # first use makes caches (abc's weak sets among them) that live on
            made.clear()
            gc.collect()  # (what the set-up and first use made is old now)
            monkeypatch.setattr("repo_sdk.gc_policy.gc.collect", collect)
            lines, turns, failed = score_group(pipe, dialogues)
    assert turns == 50 and failed is None and lines.count(b"\n") == 101  # 50 turns, 50 dialogues, 1 summary
    assert gc.isenabled()  # the collector is back on after the group
    assert all(ref() is None for ref in made)  # and the group's cycles are gone already
    # the group's samples, results and rows (several objects a turn) were freed before the collection walked
    # what is young: little more than the cycles themselves
    assert len(young) == 1 and young[0] < 3 * 50, young


def test_the_collector_comes_back_after_an_error_and_a_caller_who_turned_it_off_keeps_it_off() -> None:
    with pytest.raises(RuntimeError), collected_after():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with collected_after():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
