"""Degenerate sources (constant on >= 90% of scored turns, None on >= 50%): one rule, three places that say it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from repo_sdk.cli import app
from repo_sdk.degenerate import SourceTally, degenerate_sources
from repo_sdk.evaluation import evaluate
from repo_sdk.io.rows import write_rows
from repo_sdk.report import render_report

runner = CliRunner()


def rows(judge: list[float | None], rules: list[float] | None = None) -> list[dict[str, Any]]:
    rules = rules if rules is not None else [-10.0 * (i % 3) for i in range(len(judge))]
    return [
        {"kind": "turn", "dialogue_id": f"d{i}", "turn_index": 1, "sample_id": f"d{i}#1",
         "response": "Could we do 90 EUR?", "reward": 0.1 * i,
         "sources": {"judge": j, "rules": r}, "fired": [], "reasons": {}, "details": {}, "combiner": {}}
        for i, (j, r) in enumerate(zip(judge, rules, strict=True))
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("judge", "expected"),
    [
        ([1.0] * 98 + [2.0] * 4, ["source 'judge' is constant: 1 on 98 of 102 scored turns (96%)"]),
        ([1.0] * 9 + [2.0], ["source 'judge' is constant: 1 on 9 of 10 scored turns (90%)"]),
        ([1.0] * 8 + [2.0, 3.0], []),  # 80%: not degenerate
        ([None] * 5 + [1.0, 2.0, 3.0, 4.0, 5.0], ["source 'judge' is None on 5 of 10 turns (50%)"]),
        ([None] * 4 + [1.0, 2.0, 3.0, 4.0, 5.0, 1.5], []),
        ([3.0] * 4, []),  # too few scored turns to call a source constant
        ([None, None, 4.0], ["source 'judge' is None on 2 of 3 turns (67%)"]),
    ],
)
def test_degenerate_sources(judge, expected):
    assert [d.message() for d in degenerate_sources(rows(judge))] == expected


def test_the_tally_stays_bounded_and_never_overcounts():
    tally = SourceTally()
    for i in range(100_000):  # an RM: every value distinct
        tally.add("rm", i / 7)
    assert len(tally._by_source["rm"].counters) <= 64 and tally.degenerate() == []
    for i in range(10_000):  # 95% one value among many distinct ones: still found
        tally.add("judge", 1.0 if i % 20 else 1.0 + i)
    [bad] = tally.degenerate()
    assert bad.source == "judge" and bad.value == 1.0 and 0.9 <= bad.share <= 0.95


def test_the_report_warns_naming_the_source():
    html = render_report(rows([1.0] * 20), [], title="run")
    warnings = html[html.index('id="warnings"') : html.index('<section id="summary"')]  # at the top
    assert "<b>warning:</b>" in warnings
    assert "source &#39;judge&#39; is constant: 1 on 20 of 20 scored turns (100%)" in warnings
    assert "is constant" not in render_report(rows([1.0, 2.0, 3.0, 4.0, 5.0] * 4), [], title="run")


def test_eval_warns_and_refuses_fix_rates_from_a_degenerate_rating_source():
    base, cand = rows([1.0] * 19 + [3.0]), rows([1.0] * 18 + [4.0, 5.0])
    result = evaluate(cand, base)
    assert result.bad_cases is None and result.refused and "rating source is degenerate" in result.refused
    assert "baseline run: source 'judge' is constant: 1 on 19 of 20" in result.refused
    assert any(n.startswith("candidate run: source 'judge' is constant") for n in result.notes)
    allowed = evaluate(cand, base, allow_degenerate=True)
    assert allowed.refused is None and allowed.bad_cases is not None and allowed.bad_cases.bad_cases == 19
    # a degenerate source that is not the rating source is named, and fix rates stand
    graded = [1.0, 2.0, 3.0, 4.0, 5.0] * 4
    other = evaluate(rows(graded, [0.0] * 20), rows(graded, [0.0] * 20))
    assert other.refused is None and other.bad_cases is not None
    assert any("source 'rules' is constant: 0 on 20 of 20" in n for n in other.notes)


def test_eval_cli_refuses_unless_allow_degenerate(tmp_path: Path):
    write_rows(tmp_path / "base.jsonl", rows([1.0] * 20))
    write_rows(tmp_path / "cand.jsonl", rows([1.0] * 19 + [5.0]))
    res = runner.invoke(app, ["eval", str(tmp_path / "cand.jsonl"), "-b", str(tmp_path / "base.jsonl")])
    assert res.exit_code == 1
    assert "error: fix rates refused: the rating source is degenerate" in res.output
    assert "warning: candidate run: source 'judge' is constant" in res.output
    ok = runner.invoke(app, ["eval", str(tmp_path / "cand.jsonl"), "-b", str(tmp_path / "base.jsonl"),
                             "--allow-degenerate", "--json", str(tmp_path / "r.json")])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert json.loads((tmp_path / "r.json").read_text())["bad_cases"]["fix_rate"] == pytest.approx(1 / 20)


def test_score_summary_warns_naming_the_source(tmp_path: Path):
    logs = tmp_path / "logs.jsonl"
    turns = [{"role": "user", "content": "Hello."}, {"role": "assistant", "content": "Could we do 90 EUR?"}]
    logs.write_text("".join(json.dumps({"id": f"d{i}", "turns": turns}) + "\n" for i in range(6)))
    (tmp_path / "spec.yaml").write_text("sources:\n  rules: [cot_leak]\n")
    res = runner.invoke(app, ["score", str(logs), "-c", str(tmp_path / "spec.yaml"), "-o", str(tmp_path / "o.jsonl"),
                              "--no-progress"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "warning: source 'rules' is constant: 0 on 6 of 6 scored turns (100%): it carries no signal" in res.output
