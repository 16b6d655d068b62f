"""`repo-sdk eval`: each metric on hand-built rows with known answers, and the CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from repo_sdk.cli import app
from repo_sdk.errors import InputError
from repo_sdk.evaluation import evaluate, load_run
from repo_sdk.io.rows import dialogue_path, write_rows

runner = CliRunner()


def turn(
    d: str,
    t: int,
    judge: float | None = None,
    rules: tuple[str, ...] = (),
    reward: float | None = 0.5,
    response: str = "Could we discuss the price?",
) -> dict[str, Any]:
    """A turn row of the row contract with a judge rating and the given rules fired."""
    return {
        "kind": "turn",
        "dialogue_id": d,
        "turn_index": t,
        "sample_id": f"{d}#{t}",
        "response": response,
        "reward": reward,
        "sources": {"judge": judge, "rules": -10.0 * len(rules)},
        "fired": [
            {"rule": r, "points": -10.0, "reason": r, "span": None, "evidence": "", "turn_index": None} for r in rules
        ],
        "reasons": {},
        "details": {},
        "combiner": {},
    }


# ---- per-run metrics ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "avg", "excellent_share", "fire_rate"),
    [
        ([turn("a", 1, 5), turn("a", 3, 3), turn("b", 1, 4)], 4.0, 0.5, 0.0),
        ([turn("a", 1, 5), turn("b", 1, 5, ("cot_leak",))], 5.0, 1.0, 0.5),
        ([turn("a", 1, 1, ("x", "y")), turn("a", 3, None), turn("b", 1, 2)], 1.5, 0.0, 1 / 3),
        ([turn("a", 1, 4.5), turn("b", 1, None)], 4.5, 0.0, 0.0),  # b has no rating: not in the share
    ],
)
def test_run_metrics(rows: list[dict[str, Any]], avg: float, excellent_share: float, fire_rate: float) -> None:
    m = evaluate(rows).candidate
    assert m.avg_rating == pytest.approx(avg)
    assert m.excellent_share == pytest.approx(excellent_share)
    assert m.rule_fire_rate == pytest.approx(fire_rate)
    assert m.turns == len(rows)


def test_excellent_threshold_and_rule_rates() -> None:
    rows = [turn("a", 1, 4, ("x",)), turn("a", 3, 3, ("x", "y")), turn("b", 1, 2)]
    m = evaluate(rows, excellent=4).candidate
    assert (m.excellent_dialogues, m.rated_dialogues) == (1, 2)
    assert m.rule_rates == pytest.approx({"x": 2 / 3, "y": 1 / 3})
    assert list(m.rule_rates) == ["x", "y"]


def test_absent_rating_source_is_said_and_reward_is_opt_in() -> None:
    rows = [{**turn("a", 1, reward=0.8), "sources": {"rules": 0.0}}, {**turn("a", 3, reward=0.2), "sources": {}}]
    res = evaluate(rows)
    assert res.candidate.avg_rating is None and not res.candidate.rating_available
    assert "'judge' is absent" in res.notes[0] and "--rating-source reward" in res.notes[0]
    by_reward = evaluate(rows, rating_source="reward", excellent=0.5)
    assert by_reward.candidate.avg_rating == pytest.approx(0.5)
    assert by_reward.candidate.excellent_share == 1.0
    assert "combined reward" in by_reward.notes[0]


# ---- bad cases: fix, clean fix, new problem, rating-flagged, missing pair -------------------------


@pytest.mark.parametrize(
    ("base", "cand", "status", "flagged"),
    [
        ((("cot_leak",), 4), ((), 4), "clean_fix", ["rules"]),
        ((("cot_leak",), 4), (("cot_leak",), 4), "not_fixed", ["rules"]),
        ((("cot_leak", "max_length"), 4), (("max_length",), 4), "not_fixed", ["rules"]),  # one rule still fires
        ((("cot_leak",), 4), (("max_length",), 4), "fixed_new_problem", ["rules"]),  # new rule
        ((("cot_leak",), 4), ((), 1), "fixed_new_problem", ["rules"]),  # new low rating
        ((("cot_leak",), 4), ((), 2), "fixed_new_problem", ["rules"]),  # a rating of bad_rating is a problem
        (((), 2), ((), 3), "clean_fix", ["rating"]),  # rating-flagged, now above bad_rating
        (((), 1), ((), 2), "not_fixed", ["rating"]),  # must be above bad_rating, not equal
        (((), 2), (("cot_leak",), 5), "fixed_new_problem", ["rating"]),
        (((), 2), ((), None), "not_fixed", ["rating"]),  # no candidate rating: cannot show it fixed
        ((("x",), 1), ((), 5), "clean_fix", ["rules", "rating"]),
        ((("x",), 1), ((), 2), "not_fixed", ["rules", "rating"]),
        ((("x",), 4), ((), None), "clean_fix", ["rules"]),  # a missing rating is no new problem
    ],
)
def test_bad_case_outcome(
    base: tuple[tuple[str, ...], float], cand: tuple[tuple[str, ...], float | None], status: str, flagged: list[str]
) -> None:
    res = evaluate([turn("d", 1, cand[1], cand[0])], [turn("d", 1, base[1], base[0])])
    assert res.bad_cases is not None and res.bad_cases.bad_cases == 1
    case = res.bad_cases.cases[0]
    assert (case.status, case.flagged_by) == (status, flagged)
    assert res.bad_cases.fix_rate == (0.0 if status == "not_fixed" else 1.0)
    assert res.bad_cases.clean_fix_rate == (1.0 if status == "clean_fix" else 0.0)


def test_good_baseline_turn_is_not_a_bad_case() -> None:
    res = evaluate([turn("d", 1, 1, ("x",))], [turn("d", 1, 3)])
    assert res.bad_cases is not None
    assert (res.bad_cases.bad_cases, res.bad_cases.fix_rate) == (0, None)


def test_rates_over_paired_cases_and_missing_pairs_listed() -> None:
    base = [turn("a", 1, 4, ("x",)), turn("a", 3, 1), turn("b", 1, 4, ("y",)), turn("c", 1, 2), turn("c", 3, 5)]
    cand = [turn("a", 1, 4), turn("a", 3, 5, ("z",)), turn("b", 1, 4, ("y",)), turn("c", 3, 5)]
    res = evaluate(cand, base)
    b = res.bad_cases
    assert b is not None
    assert (b.bad_cases, b.flagged_by_rules, b.flagged_by_rating) == (4, 2, 2)
    assert (b.paired, b.missing, b.missing_pairs) == (3, 1, [("c", 1)])
    assert (b.fixed, b.clean_fixed) == (2, 1)
    assert b.fix_rate == pytest.approx(2 / 3) and b.clean_fix_rate == pytest.approx(1 / 3)
    assert [c.status for c in b.cases] == ["clean_fix", "fixed_new_problem", "not_fixed", "missing"]
    assert b.cases[1].new_rules == ["z"] and b.cases[2].remaining_rules == ["y"]
    assert any("1 of 4 bad cases" in n for n in res.notes)
    assert res.baseline is not None and res.baseline.avg_rating == pytest.approx(16 / 5)


def test_dialogue_level_hit_naming_a_turn_makes_a_bad_case() -> None:
    dia = [
        {
            "kind": "dialogue",
            "dialogue_id": "d",
            "dialogue_fired": [
                {"rule": "repetition", "points": -5, "reason": "same script", "turn_index": 3},
                {"rule": "too_long_dialogue", "points": -5, "reason": "whole dialogue", "turn_index": None},
            ],
        }
    ]
    base = [turn("d", 1, 4), turn("d", 3, 4)]
    res = evaluate(base, base, candidate_dialogues=[], baseline_dialogues=dia)
    assert res.bad_cases is not None
    assert [(c.turn_index, c.baseline_rules, c.status) for c in res.bad_cases.cases] == [
        (3, ["repetition"], "clean_fix")
    ]
    cand = evaluate(base, candidate_dialogues=dia).candidate
    assert (cand.rule_fire_rate, cand.dialogue_wide_hits) == (0.5, 1)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([turn("a", 1, 4), turn("a", 1, 5)], "appears twice"),
        ([{"kind": "dialogue", "dialogue_id": "a"}], "not a turn row"),
        ([{"kind": "turn", "dialogue_id": "a", "sources": {}}], "lacks 'turn_index'"),
        ([{**turn("a", 1), "turn_index": "1"}], "must be an integer"),
    ],
)
def test_bad_rows_raise_input_error(rows: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(InputError, match=message):
        evaluate(rows)


# ---- CLI end to end ------------------------------------------------------------------------------


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    base = [turn("a", 1, 4, ("cot_leak",)), turn("a", 3, 2), turn("b", 1, 5), turn("c", 1, 3, ("max_length",))]
    cand = [
        turn("a", 1, 5),
        turn("a", 3, 4, ("max_length",)),
        turn("b", 1, 5),
        turn("d", 1, 3, response="<script>alert(1)</script>"),
    ]
    write_jsonl(
        dialogue_path(tmp_path / "cand.jsonl"),
        [
            {
                "kind": "dialogue",
                "dialogue_id": "a",
                "turns": 2,
                "reward_mean": 0.5,
                "reward_min": 0.5,
                "fired_count": 1,
                "worst_rule": "max_length",
                "sources_mean": {"judge": 4.5, "rules": -5.0},
                "rule_counts": {"max_length": 1},
                "dialogue_sources": {},
                "dialogue_fired": [],
                "dialogue_errors": {},
                "task": {},
                "context": [{"turn_index": 0, "role": "user", "content": "Hello"}],
            }
        ],
    )
    return write_jsonl(tmp_path / "base.jsonl", base), write_jsonl(tmp_path / "cand.jsonl", cand)


def test_cli_eval_with_baseline_json_and_report(runs: tuple[Path, Path], tmp_path: Path) -> None:
    base, cand = runs
    out, html = tmp_path / "ev.json", tmp_path / "ev.html"
    res = runner.invoke(app, ["eval", str(cand), "--baseline", str(base), "--json", str(out), "--report", str(html)])
    assert res.exit_code == 0, res.output
    assert "baseline" in res.stdout and "candidate" in res.stdout
    assert "50.00% (1/2)" in res.stdout  # clean fix rate: a#1 clean, a#3 fixed with a new rule
    assert "missing pairs (dialogue#turn): c#1" in res.stdout
    data = json.loads(out.read_text())
    assert data["bad_cases"]["fix_rate"] == 1.0 and data["bad_cases"]["clean_fix_rate"] == 0.5
    assert data["bad_cases"]["missing_pairs"] == [["c", 1]]
    assert data["candidate"]["avg_rating"] == pytest.approx(17 / 4)
    assert data["baseline"]["excellent_share"] == pytest.approx(1 / 3)
    page = html.read_text()
    assert 'id="eval"' in page and "clean fix rate" in page and "missing pair" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page


def test_cli_eval_without_judge_warns_and_reward_rating_works(tmp_path: Path) -> None:
    rows = [{**turn("a", 1, reward=0.9), "sources": {"rules": 0.0}}, {**turn("b", 1, reward=0.1), "sources": {}}]
    run = write_jsonl(tmp_path / "run.jsonl", rows)
    res = runner.invoke(app, ["eval", str(run)])
    assert res.exit_code == 0
    assert "warning: rating source 'judge' is absent" in res.stderr
    res = runner.invoke(app, ["eval", str(run), "--rating-source", "reward", "--excellent", "0.5"])
    assert res.exit_code == 0 and "50.00% (1/2)" in res.stdout


def test_cli_eval_reads_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    write_rows(tmp_path / "run.parquet", [turn("a", 1, 5), turn("b", 1, 3, ("x",))])
    res = runner.invoke(app, ["eval", str(tmp_path / "run.parquet")])
    assert res.exit_code == 0, res.output
    assert "50.00% (1/2)" in res.stdout and "4 " in res.stdout


def test_cli_score_then_eval_end_to_end(tmp_path: Path) -> None:
    def logs(name: str, replies: list[str]) -> Path:
        return write_jsonl(
            tmp_path / name,
            [
                {
                    "id": f"d{i}",
                    "turns": [{"role": "user", "content": "Hello, Hotel Aurora."}, {"role": "assistant", "content": r}],
                }
                for i, r in enumerate(replies)
            ],
        )

    (tmp_path / "spec.yaml").write_text("sources:\n  rules: [cot_leak]\n")
    base = logs("base_logs.jsonl", ["<think>push</think>Hi, can we talk price?", "Hi there!"])
    cand = logs("cand_logs.jsonl", ["Hi, can we talk price?", "<think>hm</think>Hi there!"])
    for src, out in ((base, "base.jsonl"), (cand, "cand.jsonl")):
        res = runner.invoke(app, ["score", str(src), "-c", str(tmp_path / "spec.yaml"), "-o", str(tmp_path / out)])
        assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        ["eval", str(tmp_path / "cand.jsonl"), "-b", str(tmp_path / "base.jsonl"), "--json", str(tmp_path / "ev.json")],
    )
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "ev.json").read_text())
    assert data["bad_cases"]["bad_cases"] == 1 and data["bad_cases"]["clean_fix_rate"] == 1.0
    assert data["candidate"]["rule_fire_rate"] == 0.5 and data["candidate"]["rule_rates"] == {"cot_leak": 0.5}


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "no such file"),
        ('{"id": "d1", "turns": []}\n', [], "not a row of `repo-sdk score`"),
        ("{not json\n", [], "malformed JSON"),
        ("", [], "no turn rows"),
        (json.dumps(turn("a", 1)) + "\n" + json.dumps(turn("a", 1)) + "\n", [], "appears twice"),
        (json.dumps({**turn("a", 1), "dialogue_id": None}) + "\n", [], "lacks 'dialogue_id'"),
        (json.dumps(turn("a", 1)) + "\n", ["--baseline", "missing_base.jsonl"], "no such file"),
        (json.dumps(turn("a", 1)) + "\n", ["--excellent", "nan"], "excellent must be a finite number"),
    ],
)
def test_cli_eval_errors_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / "run.jsonl").write_text(content)
    res = runner.invoke(app, ["eval", "run.jsonl", *args, "--json", "out.json"])
    assert res.exit_code == 1
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)
    assert res.stderr.startswith("error: ") and message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.json").exists()


def test_load_run_reads_dialogue_rows_beside_the_run(runs: tuple[Path, Path]) -> None:
    turns, dialogues = load_run(runs[1])
    assert len(turns) == 4 and [d["dialogue_id"] for d in dialogues] == ["a"]
