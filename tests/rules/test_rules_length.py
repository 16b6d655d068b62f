"""max_length: characters, words, sentences."""

from __future__ import annotations

from typing import Any

import pytest

from repo_sdk.rules import MaxLength, MaxLengthParams
from repo_sdk.testing import make_sample


@pytest.mark.parametrize(
    ("params", "response", "expected"),
    [
        ({"max_chars": 10}, "short", []),
        ({"max_chars": 10}, "exactly 10", []),
        ({"max_chars": 10}, "eleven char", [("reply has 11 characters (max 10)", "r")]),
        ({"max_chars": None, "max_words": 3}, "one two three", []),
        ({"max_chars": None, "max_words": 3}, "one two three four five", [("reply has 5 words (max 3)", "four five")]),
        ({"max_chars": None, "max_words": 3}, "好的谢谢您", [("reply has 5 words (max 3)", "谢您")]),
        (
            {"max_chars": None, "max_sentences": 2},
            "Hi. Price is 80.00 EUR. Bye!",
            [("reply has 3 sentences (max 2)", "Bye!")],
        ),
        ({"max_chars": None, "max_sentences": 2}, "Hi. Price is 80.00 EUR.", []),
        (
            {"max_chars": 3, "max_words": 1},
            "one two",
            [("reply has 7 characters (max 3)", " two"), ("reply has 2 words (max 1)", "two")],
        ),
        ({"max_chars": 3, "max_words": 1, "max_hits": 1}, "one two", [("reply has 7 characters (max 3)", " two")]),
    ],
)
def test_max_length(params: dict[str, Any], response: str, expected: list[tuple[str, str]]) -> None:
    hits = MaxLength(MaxLengthParams(**params)).check(make_sample(response=response))
    assert [(h.reason, h.evidence) for h in hits] == expected
    for h in hits:
        assert h.span is not None and response[h.span[0] : h.span[1]] == h.evidence


def test_default_is_600_chars_and_long_evidence_is_clipped() -> None:
    response = "x" * 1000
    [hit] = MaxLength().check(make_sample(response=response))
    assert hit.span == (600, 1000) and hit.points == -10
    assert len(hit.evidence) == 200 and hit.evidence.endswith("…")
