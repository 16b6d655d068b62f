"""The HTML report: self-contained, escaped, every section present, robust to None / empty / constant data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from repo_sdk.evaluation import evaluate
from repo_sdk.report import render_report, write_report

XSS = "<script>alert(1)</script>"


def turn(
    d: str,
    t: int,
    reward: float | None,
    rm: float | None = None,
    judge: float | None = None,
    rules: float | None = 0.0,
    fired: tuple[str, ...] = (),
    response: str = "Could we discuss the price?",
    reason: str = "",
) -> dict[str, Any]:
    return {
        "kind": "turn",
        "dialogue_id": d,
        "turn_index": t,
        "sample_id": f"{d}#{t}",
        "response": response,
        "reward": reward,
        "sources": {"rm": rm, "judge": judge, "rules": rules},
        "fired": [
            {
                "rule": r,
                "points": -10.0,
                "reason": f"{r} fired",
                "span": [0, 5],
                "evidence": response[:5],
                "turn_index": None,
            }
            for r in fired
        ],
        "reasons": {"judge": reason} if reason else {},
        "details": {},
        "combiner": {},
    }


def rich_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    turns = [
        turn(
            f"d{i}",
            t,
            reward=0.1 * i - 0.05 * t,
            rm=0.2 * i,
            judge=float(1 + (i + t) % 5),
            rules=-10.0 * (i % 3),
            fired=("cot_leak",) * (i % 3 > 0),
            response="x" * (10 + 7 * i + t),
            reason="Pushes past the accepted price.",
        )
        for i in range(12)
        for t in (1, 3)
    ]
    turns.append(
        turn(
            "evil",
            1,
            reward=-9.0,
            rm=-1.0,
            judge=1.0,
            rules=-20.0,
            fired=("no_internal_terms",),
            response=f"Hello {XSS} & <b>target price</b>",
            reason=f"judge says {XSS}",
        )
    )
    dialogues = [
        {
            "kind": "dialogue",
            "dialogue_id": "evil",
            "turns": 1,
            "reward_mean": -9.0,
            "reward_min": -9.0,
            "fired_count": 2,
            "worst_rule": "no_internal_terms",
            "dialogue_fired": [{"rule": "repetition", "points": -5.0, "reason": "same script", "turn_index": 1}],
        }
    ]
    return turns, dialogues


SECTIONS = ['id="summary"', 'id="dist"', 'id="rules"', 'id="corr"', 'id="length"', 'id="worst"']


def test_report_is_self_contained_and_written(tmp_path: Path) -> None:
    turns, dialogues = rich_rows()
    out = tmp_path / "sub" / "report.html"
    write_report(turns, dialogues, out, title="nightly", telemetry={"judge": {"cache_hits": 7, "calls": 20}})
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"<script\b", html, re.IGNORECASE)
    assert "@import" not in html and "url(" not in html and "<link" not in html
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temp file left behind


def test_report_escapes_every_user_string() -> None:
    turns, dialogues = rich_rows()
    html = render_report(turns, dialogues, title=f"run {XSS}", telemetry={XSS: 1})
    assert XSS not in html and "<b>target price</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;target price&lt;/b&gt;" in html
    assert '<mark title="no_internal_terms">Hello</mark>' in html  # evidence span marked, text still escaped
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # title, h1, reply, judge reason, telemetry


def test_report_has_every_section_and_its_content() -> None:
    turns, dialogues = rich_rows()
    html = render_report(turns, dialogues, title="t", telemetry={"judge": {"cache_hits": 7}})
    for marker in [*SECTIONS, 'id="dialogues"']:
        assert marker in html
    assert html.count("<svg") >= 4 + 1 + 1 + 1  # 4 histograms, bars, heatmap, scatter
    assert "cache_hits" in html and "Reward-hacking tell" in html
    assert "cot_leak" in html and "repetition" in html  # dialogue-level hit naming a turn counts for it
    assert "Pushes past the accepted price." in html
    assert 'id="eval"' not in html


def test_report_with_eval_tables() -> None:
    turns, dialogues = rich_rows()
    base = [
        turn("d1", 1, 0.0, judge=1.0),
        turn("d2", 1, 0.0, judge=4.0, fired=("cot_leak",)),
        turn("gone", 1, 0.0, judge=2.0),
    ]
    html = render_report(turns, dialogues, title="t", eval_result=evaluate(turns, base))
    assert 'id="eval"' in html and "bad-case fix rate" in html and "clean fix rate" in html
    assert "missing pair" in html and "gone" in html


@pytest.mark.parametrize(
    ("turns", "dialogues", "expect"),
    [
        ([], [], ["No turns.", "No rule fired on any turn.", "Needs at least two series"]),
        ([turn("d", 1, reward=None, rm=None, judge=None, rules=None)], [], ["No turns with a reward."]),
        ([turn("d", 1, reward=0.3, rm=None, judge=None, rules=0.0)], [], ["undefined"]),
        (
            [turn(f"d{i}", 1, reward=1.0, rm=1.0, judge=3.0, rules=0.0, response="same") for i in range(6)],
            [],
            ["n/a", "undefined"],
        ),
        (
            [{"kind": "turn"}, {"kind": "turn", "sources": None, "fired": None, "reward": float("nan")}],
            [{"kind": "dialogue"}],
            ["No turns with a reward."],
        ),
    ],
    ids=["empty", "all-none", "single-row", "constant", "malformed-keys"],
)
def test_report_degenerate_inputs(
    turns: list[dict[str, Any]], dialogues: list[dict[str, Any]], expect: list[str]
) -> None:
    html = render_report(turns, dialogues, title="edge")
    for marker in SECTIONS:
        assert marker in html
    for text in expect:
        assert text in html
    assert not re.search(r"\bnan\b", html, re.IGNORECASE)


def test_none_counts_per_source_in_summary() -> None:
    turns = [turn("a", 1, 0.5, rm=None, judge=3.0), turn("a", 3, 0.2, rm=None, judge=None)]
    html = render_report(turns, [], title="only judge and rules")
    row = re.search(r"judge\s*</td>\s*<td class=\"num\">(\d+)</td><td class=\"num\">(\d+)</td>", html)
    assert row and row.groups() == ("1", "1")
    rm = re.search(r"rm\s*</td>\s*<td class=\"num\">(\d+)</td><td class=\"num\">(\d+)</td>", html)
    assert rm and rm.groups() == ("0", "2")


def test_worst_turns_show_the_combiners_breakdown() -> None:
    penalised = turn("d-pen", 1, reward=0.12, rm=0.4, judge=2.0, rules=-45.0, fired=("cot_leak",))
    penalised["combiner"] = {"E": -70.0, "E_judge": -25.0, "E_rules": -45.0, "multiplier": 0.3}
    vetoed = turn("d-veto", 3, reward=-1.0, rm=0.9, judge=5.0, rules=-100.0, response="...")
    vetoed["combiner"] = {"E": 0.0, "E_judge": 50.0, "E_rules": -100.0, "multiplier": None, "veto": ["empty_reply"]}
    html = render_report([penalised, vetoed], [], title="t", worst=2)
    worst = html[html.index('id="worst"') :]
    for text in ("E -70", "E_judge -25", "E_rules -45", "multiplier 0.3", "veto empty_reply"):
        assert text in worst, text
    assert "multiplier None" not in worst  # no multiplier for a vetoed turn: nothing shown
