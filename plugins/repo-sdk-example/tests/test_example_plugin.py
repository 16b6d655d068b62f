"""The example plugin's own tests: its rule and source, and discovery through its entry point."""

from __future__ import annotations

import pytest
from repo_sdk_example.plugin import NoShouting, NoShoutingParams, Politeness

from repo_sdk.plugins import get_registry
from repo_sdk.testing import make_sample


@pytest.mark.parametrize(
    ("response", "min_words", "evidence"),
    [
        ("That is TOO EXPENSIVE for us", 2, ["TOO EXPENSIVE"]),
        ("We offer a NET price of 80 EUR", 2, []),  # one acronym is not shouting
        ("NO WAY", 3, []),
        ("ABSOLUTELY NO WAY", 3, ["ABSOLUTELY NO WAY"]),
    ],
)
def test_no_shouting(response: str, min_words: int, evidence: list[str]) -> None:
    hits = NoShouting(NoShoutingParams(min_words=min_words)).check(make_sample(response=response))
    assert [h.evidence for h in hits] == evidence
    for h in hits:
        assert h.span is not None and response[h.span[0] : h.span[1]] == h.evidence
        assert h.points == -15.0


def test_politeness_scores_markers() -> None:
    values = [
        s.value for s in Politeness().score([make_sample(response=r) for r in ("ok", "thanks", "Please, thank you")])
    ]
    assert values == [0.0, 0.5, 1.0]


def test_registered_through_entry_point() -> None:
    reg = get_registry()
    assert reg.rules["example.no_shouting"].package == "repo-sdk-example"
    assert reg.sources["example.politeness"].package == "repo-sdk-example"
