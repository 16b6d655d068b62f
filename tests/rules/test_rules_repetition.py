"""repetition: repeating the agent's own earlier turns, or a sentence within the reply."""

# ruff: noqa: RUF001 - CJK punctuation and look-alike letters are what these tests are about

from __future__ import annotations

from typing import Any

import pytest

from repo_sdk.rules import Repetition, RepetitionParams
from repo_sdk.rules.repetition import similarity
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
