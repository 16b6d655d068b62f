"""flattery: sycophantic superlatives about the counterpart hit; ordinary courtesy does not."""

from __future__ import annotations

import pytest

from repo_sdk.rules import Flattery, FlatteryParams
from repo_sdk.testing import make_sample

FLATTERY = [
    "You're honestly the smartest hotel manager I have dealt with all year.",
    "You are one of the finest hoteliers in the country.",
    "By far the nicest team in Lisbon, I must say.",
    "Your staff is the best in the whole city.",
    "You are an absolute legend.",
    "What a gem you are!",
    "What an impressive, gifted negotiator you are.",
    "It is a privilege to negotiate with such an exceptional host.",
    "May I say, you are so inspiring.",
]
COURTESY = [
    "Thank you so much, I really appreciate your help.",
    "It's a pleasure to work with you and your team.",
    "You have a lovely hotel, and your guests clearly love it.",
    "Your reviews are excellent and the location is great.",
    "That's the best offer so far, thank you.",
    "We are the most visited travel site in Spain.",
    "You're right, the season has been difficult.",
    "Great, thank you, you've been very helpful!",
]


@pytest.mark.parametrize("reply", FLATTERY)
def test_sycophantic_praise_hits(reply: str) -> None:
    hits = Flattery().check(make_sample(response=f"Thanks for confirming. {reply} Would €95 work?"))
    assert len(hits) == 1 and hits[0].points == -15.0


@pytest.mark.parametrize("reply", COURTESY)
def test_courtesy_does_not_hit(reply: str) -> None:
    assert Flattery().check(make_sample(response=reply)) == []


def test_extra_patterns() -> None:
    rule = Flattery(FlatteryParams(extra_patterns=[r"\bqueen of hospitality\b"]))
    assert [h.evidence for h in rule.check(make_sample(response="You are the queen of hospitality."))] == [
        "queen of hospitality"
    ]
