"""empty_reply: nothing, whitespace, content-less and placeholder replies hit; any real reply does not."""

from __future__ import annotations

import pytest

from repo_sdk.rules import EmptyReply
from repo_sdk.rules.empty import has_content
from repo_sdk.sources.rules_source import RulesSource
from repo_sdk.testing import make_sample

EMPTY = [
    "",
    " ",
    "\n\n\t",
    "\u00a0\u2003",  # no-break and em spaces
    "\u200b\u200b",  # zero-width spaces
    "...",
    "…",
    "?!",
    " - ",
    "—",
    "***",
    "🙂",
    "👍🙏",
    "(-_-)",
    ":)",
    "N/A",
    "[no response]",
    "<null>",
    "**undefined**",
    "  No comment.  ",
    "." * 5000,  # long, still nothing
]
REAL = [
    "Ok.",
    "Yes",
    "95?",
    "€98",
    "好的",
    "Deal!",
    "Thank you, we accept €98 per night.",
    "None of the other rooms need a change.",
    "No, thank you.",
]


@pytest.mark.parametrize("reply", EMPTY)
def test_contentless_replies_hit_once_spanning_the_reply(reply: str) -> None:
    hits = EmptyReply().check(make_sample(response=reply))
    assert len(hits) == 1
    assert hits[0].span == (0, len(reply)) and hits[0].points == -100.0
    assert not has_content(reply) or hits[0].reason.startswith("placeholder")


@pytest.mark.parametrize("reply", REAL)
def test_replies_with_content_do_not_hit(reply: str) -> None:
    assert EmptyReply().check(make_sample(response=reply)) == []


def test_placeholders_are_a_parameter() -> None:
    source = RulesSource.build([{"name": "empty_reply", "placeholders": ["pass"], "points": -7}])
    assert source.score([make_sample(response="PASS")])[0].value == -7.0
    assert source.score([make_sample(response="N/A")])[0].value == 0.0


def test_a_megabyte_reply_is_scanned_quickly_and_passes() -> None:
    reply = "We accept. " + "x" * 1_000_000
    assert EmptyReply().check(make_sample(response=reply)) == []
