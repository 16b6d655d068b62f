"""format_breakage: markdown, HTML and JSON in a chat reply; unbalanced brackets and quotes."""

# ruff: noqa: RUF001 - CJK punctuation and look-alike letters are what these tests are about

from __future__ import annotations

from typing import Any

import pytest

from repo_sdk.rules import FormatBreakage, FormatBreakageParams
from repo_sdk.rules.format import find_json_objects, unbalanced_brackets
from repo_sdk.testing import make_sample


def found(response: str, **params: Any) -> list[tuple[str, str]]:
    hits = FormatBreakage(FormatBreakageParams(**params)).check(make_sample(response=response))
    for h in hits:
        assert h.span is not None and response[h.span[0] : h.span[1]] == h.evidence
    return [(h.reason.split(" in a chat reply")[0], h.evidence) for h in hits]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("## Our offer\nWe pay 80.", [("markdown heading", "## Our offer")]),
        ("Options:\n- twin\n- double", [("bullet list", "- twin")]),
        ("Options:\n* twin\n* double", [("bullet list", "* twin")]),
        ("We can pay **80 EUR** tonight.", [("markdown emphasis", "**80 EUR**")]),
        ("We *really* need it.", [("markdown emphasis", "*really*")]),
        ("Here:\n```\nprice = 80\n```", [("code", "```\nprice = 80\n```")]),
        ("Run `book()` now", [("code", "`book()`")]),
        ("| room | price |\n|---|---|\n| twin | 80 |", [("markdown table", "| room | price |\n|---|---|")]),
        ("See [our site](https://example.com).", [("markdown link", "[our site](https://example.com)")]),
        ("Thanks!<br>See you", [("HTML tag", "<br>")]),
        ('{"reply": "Hi", "price": 80}', [("JSON", '{"reply": "Hi", "price": 80}')]),
        ("Sure [{'room': 'twin'}] ok", [("JSON", "[{'room': 'twin'}]")]),
        ("The price is (80 EUR per night.", [("unbalanced bracket", "(")]),
        ("The price is 80 EUR per night].", [("unbalanced bracket", "]")]),
        ("【特价房 80元", [("unbalanced bracket", "【")]),
        ('He said "fine, 80 EUR.', [("unbalanced quote", '"')]),
        # one hit per kind, pointing at the first occurrence
        ("# A\n# B\n**x** and **y**", [("markdown heading", "# A"), ("markdown emphasis", "**x**")]),
    ],
)
def test_breakage(response: str, expected: list[tuple[str, str]]) -> None:
    assert found(response) == expected


@pytest.mark.parametrize(
    "response",
    [
        "Hi! Could we talk about the twin room?",
        "The price is 80-90 EUR - breakfast included.",
        "It is a 5* hotel, 4* would be fine too.",
        "Rates: 2*80 EUR for two nights.",
        "Hi * there",
        "- Sure, we can do that.",  # one dash line is no list
        "Options: 1) twin 2) double, or a) suite :)",
        "Thanks :( that is a pity (but fine).",
        "The room (twin) has [two] beds {and a sofa}.",
        'He said "fine" and left.',
        "#1 choice for families, # of rooms: 3",
        "「特价」80元（含早）",
        "Rooms: 1. twin 2. double",
    ],
)
def test_normal_replies_do_not_fire(response: str) -> None:
    assert found(response) == []


def test_switches() -> None:
    text = "1. twin\n2. double"
    assert found(text) == []
    assert found(text, numbered=True) == [("numbered list", "1. twin")]
    assert found("Options:\n- twin", min_list_items=1) == [("bullet list", "- twin")]
    assert found("**x** (y", emphasis=False, brackets=False) == []
    assert found('{"a": 1}', json_objects=False) == []


def test_markdown_inside_code_is_one_breakage() -> None:
    assert found("```\n# heading\n- a\n- b\n```") == [("code", "```\n# heading\n- a\n- b\n```")]


def test_helpers() -> None:
    assert unbalanced_brackets("(a [b] c") == [0]
    assert unbalanced_brackets("(a [b) c]") == [3, 8]
    text = 'x {"a": {"b": "}"}} y {"open": 1'
    assert [text[s:e] for s, e in find_json_objects(text)] == ['{"a": {"b": "}"}}', '{"open": 1']
