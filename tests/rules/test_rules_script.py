"""mixed_script: mixed writing systems, with emoji, numbers, punctuation and names left alone."""

# ruff: noqa: RUF001 - CJK punctuation and look-alike letters are what these tests are about

from __future__ import annotations

from typing import Any

import pytest

from repo_sdk.rules import MixedScript, MixedScriptParams
from repo_sdk.rules.script import script_segments
from repo_sdk.testing import make_sample


def evidence(response: str, **params: Any) -> list[str]:
    hits = MixedScript(MixedScriptParams(**params)).check(make_sample(response=response))
    for h in hits:
        assert h.span is not None and response[h.span[0] : h.span[1]] == h.evidence
    return [h.evidence for h in hits]


@pytest.mark.parametrize(
    ("response", "params", "expected"),
    [
        # mixed
        ("We can offer 80 欧元 per night.", {}, ["欧元"]),
        ("您好，the price is too high for us，我们希望80欧元。", {}, ["the price is too high for us"]),
        ("Спасибо for your offer, we accept 80 EUR.", {}, ["Спасибо"]),
        ("Great, 好的!", {}, ["Great"]),  # no clear main script: the Latin word is no name
        ("Καλημέρα, the twin room please.", {}, ["Καλημέρα"]),
        # clean
        ("Thanks, 80 EUR works for us 👍😊", {}, []),
        ("Café au lait, naïve résumé — 80,00 €!", {}, []),
        ("您好，我们希望双床房的价格是80欧元。", {}, []),
        ("您好，Hilton的价格是80欧元，Wi-Fi免费。OK吗？", {}, []),  # brand names and acronyms
        ("こんにちは、東京のホテルです。", {}, []),  # kana and kanji are one script here
        ("好的 ok", {}, []),  # a stray two-letter token is too short to count
        ("α is a letter", {}, []),
        ("", {}, []),
        ("80 - 90 !!! ???", {}, []),
        # a configured primary script
        ("好的，没问题", {"primary": "latin"}, ["好的，没问题"]),
        ("We can offer 80 欧元 per night.", {"primary": "latin", "allowed": ["cjk"]}, []),
        ("您好，Hilton的价格", {"ignore_latin_names": False}, ["Hilton"]),
        ("Hi ok 好", {"primary": "cjk", "min_letters": 1, "ignore_latin_names": False}, ["Hi ok"]),
    ],
)
def test_mixed_script(response: str, params: dict[str, Any], expected: list[str]) -> None:
    assert evidence(response, **params) == expected


def test_names_from_the_task_may_keep_their_script() -> None:
    task = {"hotel": "桜旅館", "city": "Kyoto", "tickets": [{"room_type": "和室 Twin"}]}
    text = "Hello, is the Japanese twin at 桜旅館 still ¥24,000? The 和室 is lovely, 谢谢."

    def fired(**params: Any) -> list[str]:
        rule = MixedScript(MixedScriptParams(**params))
        return [h.evidence for h in rule.check(make_sample(response=text, task=task))]

    assert fired() == ["桜旅館", "和室", "谢谢"]
    assert fired(task_names=["hotel"]) == ["和室", "谢谢"]
    assert fired(task_names=["hotel", "tickets.*.room_type", "no.such.field"]) == ["谢谢"]


def test_reason_names_both_scripts() -> None:
    [hit] = MixedScript().check(make_sample(response="We can offer 80 欧元 per night."))
    assert hit.reason == "cjk text in a latin reply" and hit.points == -10


def test_segments_join_runs_across_non_letters() -> None:
    text = "Grand Hyatt 上海 – 80€"
    segments = [(s.script, text[s.start : s.end]) for s in script_segments(text)]
    assert segments == [("latin", "Grand Hyatt"), ("cjk", "上海")]
