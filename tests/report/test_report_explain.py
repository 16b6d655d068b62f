"""Why each turn's reward is what it is: the one-line explanation against real combiners' output."""

from __future__ import annotations

from typing import Any

import pytest

from repo_sdk import RewardPipeline
from repo_sdk.report.explain import terms, why
from repo_sdk.scoring import score_dialogues
from repo_sdk.testing import make_dialogue


def row(reward: float | None, sources: dict[str, Any], combiner: dict[str, Any], fired: list[Any] = ()) -> dict:  # type: ignore[assignment]
    return {"reward": reward, "sources": sources, "combiner": combiner, "fired": list(fired)}


def scored(spec: dict[str, Any], reply: str) -> dict[str, Any]:
    d = make_dialogue([("user", "Our rate is 120."), ("assistant", reply)], id="d")
    with RewardPipeline.from_spec(spec) as pipe:
        return next(r for r in score_dialogues(pipe, [d]) if r["kind"] == "turn")


REPLY_WITH_TWO_HITS = "<think>push harder</think>" + "Could we meet at 100? " * 40


@pytest.mark.parametrize(
    ("spec", "expect"),
    [
        (
            {"sources": {"rules": ["cot_leak", {"name": "max_length", "max_chars": 50}]}, "combiner": {"type": "repo"}},
            ["no RM, reward = E / n = -0.2", "E -20 = judge 0 + rules -20", "cot_leak -10", "max_length -10"],
        ),
        (
            {
                "sources": {"rules": [{"name": "cot_leak", "points": -150}]},
                "combiner": {"type": "repo", "n": 100},
            },
            ["reward = E / n = -1", "E -100", "clipped from -150"],
        ),
        (
            {"sources": {"rules": ["cot_leak"]}, "combiner": {"type": "weighted_sum", "weights": {"rules": 1.0}}},
            ["sum of the sources: rules -10 = -10", "(cot_leak -10)"],
        ),
        (
            {"sources": {"rules": ["cot_leak"]}, "combiner": {"type": "weighted_sum", "weights": {"rules": 0.5}}},
            ["weighted mix of the sources (rules -10) = -5", "not in the row"],
        ),
        (
            {"sources": {"a": ["cot_leak"], "b": ["max_length"]}, "combiner": {"type": "min"}},
            ["min of the sources: a -10 is the lowest"],
        ),
        (
            {
                "sources": {"rules": ["cot_leak"]},
                "combiner": {
                    "type": "gate",
                    "rules": ["cot_leak"],
                    "mode": "set",
                    "value": -3,
                    "inner": {"type": "repo"},
                },
            },
            ["gated by cot_leak: -3 (was -0.1: no RM, reward = E / n = -0.1"],
        ),
    ],
    ids=["repo-no-rm", "repo-clipped", "sum", "weighted", "min", "gate"],
)
def test_why_reads_each_real_combiners_details(spec: dict[str, Any], expect: list[str]) -> None:
    line = why(scored(spec, REPLY_WITH_TWO_HITS))
    for text in expect:
        assert text in line, line
    assert "\n" not in line


def test_why_with_an_rm_names_the_multiplier_and_the_clip() -> None:
    r = row(
        0.0,
        {"rm": 0.03, "judge": 1.0, "rules": -160.0},
        {"E": -100.0, "E_judge": -50.0, "E_rules": -160.0, "multiplier": 0.0},
        [{"rule": "cot_leak", "points": -100.0}, {"rule": "padding", "points": -60.0}],
    )
    assert why(r) == (
        "RM +0.03 x 0 = 0: E -100 = judge -50 + rules -160 (cot_leak -100, padding -60), clipped from -210"
    )


def test_why_finds_an_rm_named_otherwise_from_the_formula() -> None:
    r = row(0.6, {"pref": 0.4, "judge": 4.0}, {"E": 50.0, "E_judge": 50.0, "E_rules": 0.0, "multiplier": 1.5})
    assert why(r).startswith("RM +0.4 x 1.5 = 0.6")


EDGE_ROWS = {
    "rm-none": (
        row(None, {"rm": None, "rules": 0.0}, {"E": 0.0, "E_judge": 0.0, "E_rules": 0.0, "missing": ["rm"]}),
        "no reward: missing rm",
    ),
    "rm-missing-enhancement": (
        row(-0.3, {"rm": None, "rules": -30.0}, {"E": -30.0, "E_rules": -30.0, "multiplier": None, "missing": ["rm"]}),
        "RM missing, reward = E / n = -0.3",
    ),
    "rm-zero": (
        row(-0.3, {"rm": 0.0, "rules": -30.0}, {"E": -30.0, "E_rules": -30.0, "multiplier": None}),
        "RM 0, reward from E alone",
    ),
    "enhancer-none": (
        row(None, {"judge": None}, {"E": 0.0, "missing": ["judge"], "why": "missing enhancer(s) ['judge']"}),
        "no reward: missing enhancer(s)",
    ),
    "veto": (
        row(-1.0, {"rm": 0.9}, {"E": 0.0, "multiplier": 1.0, "veto": ["empty_reply"], "unvetoed": 0.9}),
        "vetoed by empty_reply: -1 (the formula gave 0.9)",
    ),
    "sum-none": (row(None, {"a": None}, {"missing": ["a"]}), "no reward: a missing"),
    "no-sources": (row(1.0, {}, {}), "reward 1; the row has no source values"),
    "garbage": (row(float("nan"), "not a dict", "nor this"), "no reward"),  # type: ignore[arg-type]
}


@pytest.mark.parametrize(("r", "expect"), EDGE_ROWS.values(), ids=EDGE_ROWS.keys())
def test_why_on_edge_rows(r: dict[str, Any], expect: str) -> None:
    assert expect in why(r)


def test_terms_are_the_combiners_numbers_and_what_overrode_them() -> None:
    r = row(-1.0, {}, {"E": -70.0, "E_judge": -25.0, "E_rules": -45.0, "multiplier": None, "veto": ["empty_reply"]})
    assert terms(r) == [("E", "-70"), ("E_judge", "-25"), ("E_rules", "-45"), ("veto", "empty_reply")]
    assert terms(row(0.1, {}, {"argmin": "rules", "missing": ["judge"]})) == [("argmin", "rules"), ("missing", "judge")]
    assert terms({"combiner": None}) == []


def test_hostile_rule_names_stay_text() -> None:
    r = row(
        -0.1, {"rules": -10.0}, {"E": -10.0, "E_rules": -10.0, "E_judge": 0.0}, [{"rule": "<b>x</b>", "points": -10}]
    )
    assert "(<b>x</b> -10)" in why(r)  # plain text here; the page escapes it
