"""padding: replies inflated by repeating themselves hit; ordinary replies, even long ones, do not."""

from __future__ import annotations

import pytest

from repo_sdk.rules import Padding, PaddingParams
from repo_sdk.testing import make_sample

ASK = "Thank you for confirming. Would €95 per night work for the twin room?"

PADDED = [
    ASK + " " + "Thanks again! " * 5,
    ASK + " We value you. We value you. We value you.",
    ASK
    + "\n"
    + "\n".join(f"- Point {i}: guests compare prices, so a lower price helps guests who compare." for i in range(8)),
    " ".join(["I completely understand your position and I respect it."] * 3) + " " + ASK,
]
NORMAL = [
    ASK,
    "Thank you! Could we meet at €100? Thank you!",  # said twice is fine
    "Good morning! This is Lena from Wayfarer Trips. I'm calling about your Deluxe Double Room, which is "
    "currently €120 per night with us. Travellers searching in Lisbon compare hotels side by side, and at the "
    "moment your deluxe double sits above most of its neighbours. Would you consider lowering it to €95 per "
    "night? That would make the room much more competitive, and we could add two weeks of homepage promotion.",
]


@pytest.mark.parametrize("reply", PADDED)
def test_repetitive_replies_hit(reply: str) -> None:
    hits = Padding().check(make_sample(response=reply))
    assert len(hits) == 1 and hits[0].points == -20.0
    assert hits[0].span is not None and reply[hits[0].span[0] : hits[0].span[1]].strip()


@pytest.mark.parametrize("reply", NORMAL)
def test_ordinary_replies_do_not_hit(reply: str) -> None:
    assert Padding().check(make_sample(response=reply)) == []


def test_thresholds_are_parameters() -> None:
    reply = ASK + " Thanks again! Thanks again!"
    assert Padding().check(make_sample(response=reply)) == []
    assert len(Padding(PaddingParams(max_repeats=2)).check(make_sample(response=reply))) == 1


def test_a_megabyte_of_padding_hits_once() -> None:
    reply = "We are delighted. " * 60000
    hits = Padding().check(make_sample(response=reply))
    assert len(hits) == 1 and "60000 times" in hits[0].reason
