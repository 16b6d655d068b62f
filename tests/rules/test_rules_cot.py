"""cot_leak: think tags, a stray closing tag, reasoning preambles, and normal replies that must not fire."""

from __future__ import annotations

import pytest

from repo_sdk.rules import CotLeak, CotLeakParams
from repo_sdk.testing import make_sample


def evidence(response: str, rule: CotLeak | None = None) -> list[str]:
    hits = (rule or CotLeak()).check(make_sample(response=response))
    for h in hits:
        assert h.span is not None and response[h.span[0] : h.span[1]] == h.evidence
    return [h.evidence for h in hits]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("<think>they want more</think>Hi!", ["<think>they want more</think>"]),
        ("<THINKING>\nhmm\n</THINKING>\nHi!", ["<THINKING>\nhmm\n</THINKING>"]),
        ("Hi! <reasoning>never closed", ["<reasoning>never closed"]),
        ("they want more</think>\n\nHi!", ["they want more</think>"]),
        ("Let me think step by step. The hotel wants 90.", ["Let me think step by step."]),
        ("Let's think this through: 80 is low.", ["Let's think this through: 80 is low."]),
        ("First, I need to figure out the stage. Hello!", ["First, I need to figure out the stage."]),
        ("Okay, so the user wants a discount. Hello!", ["Okay, so the user wants a discount."]),
        ("Alright, the user is asking for 80.", ["Alright, the user is asking for 80."]),
        ("Sure. The user wants 80, so I offer 85.", ["The user wants 80, so I offer 85."]),
        ("Reasoning: the hotel is annoyed.\nHello!", ["Reasoning: the hotel is annoyed."]),
        ("**Thought process:** stay calm\nHello!", ["**Thought process:** stay calm"]),
        ("My response should acknowledge the delay. Hello!", ["My response should acknowledge the delay."]),
        ("I should respond politely. Hello!", ["I should respond politely."]),
    ],
)
def test_leaks(response: str, expected: list[str]) -> None:
    assert evidence(response) == expected


@pytest.mark.parametrize(
    "response",
    [
        "Hi! Could we talk about the twin room?",
        "I think 80 is fair for both of us.",
        "Let me check with my manager and get back to you.",
        "Let me think about it and get back to you tomorrow.",
        "First, I need to check with my manager.",
        "First, thank you for your quick reply.",
        "The user manual is in the room.",
        "We will respond by email within the day.",
        "Step by step instructions are on the door.",
        "Thinking of you: we can do 85.",
        "Okay, so the price would be 85?",
        "Please see the attached <b>offer</b>.",
    ],
)
def test_normal_replies_do_not_fire(response: str) -> None:
    assert evidence(response) == []


def test_params_tags_preambles_and_extra_patterns() -> None:
    only_tags = CotLeak(CotLeakParams(preambles=False))
    assert evidence("Okay, so the user wants 80.", only_tags) == []
    custom = CotLeak(CotLeakParams(tags=["plan"], preambles=False, extra_patterns=[r"^note to self:"]))
    assert evidence("<plan>x</plan>\nNote to self: smile.", custom) == ["<plan>x</plan>", "Note to self: smile."]
    assert evidence("<think>x</think>", custom) == []


@pytest.mark.parametrize("bad", [{"tags": ["a b"]}, {"extra_patterns": ["("]}])
def test_bad_params(bad: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError):
        CotLeakParams(**bad)
