"""Near-misses: replies a looser copy of a rule fires on while the rule passed them, found after
scoring and shown in the report's rule sections (``repo-sdk score --report``)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from repo_sdk import RewardPipeline
from repo_sdk.cli.app import app
from repo_sdk.interfaces import Rule
from repo_sdk.near_miss import find_near_misses, near_miss_rules
from repo_sdk.report import render_report
from repo_sdk.rules.length import MaxLength, MaxLengthParams
from repo_sdk.rules.padding import Padding, PaddingParams
from repo_sdk.rules.repetition import Repetition, RepetitionParams
from repo_sdk.scoring import score_dialogues
from repo_sdk.testing import make_dialogue, make_sample

PITCH = "Could you offer the twin room at 80 euros per night for our two guests this week?"
# similarity 0.80 to PITCH: under repetition's 0.85, over the looser copy's 0.75
PARAPHRASE = "Would you give us the twin room at 80 euros per night for our two guests next week?"


def _spec(rules: list[object]) -> RewardPipeline:
    return RewardPipeline.from_spec({"sources": {"rules": rules}})


def _rows(pipe: RewardPipeline, dialogues: list) -> tuple[list[dict], list[dict]]:
    rows = list(score_dialogues(pipe, dialogues))
    return [r for r in rows if r["kind"] == "turn"], [r for r in rows if r["kind"] == "dialogue"]


def test_each_looser_copy_fires_where_the_rule_passes_and_only_near_the_limit() -> None:
    near = MaxLength(MaxLengthParams(max_chars=100, max_words=None)).near_miss_params()
    assert near.max_chars == 80 and near.max_words is None
    loose = MaxLength(near)
    assert loose.check(make_sample(response="x" * 85)) and not MaxLength(MaxLengthParams(max_chars=100)).check(
        make_sample(response="x" * 85)
    )
    assert not loose.check(make_sample(response="x" * 70))  # far from the limit: not close
    rep = Repetition(RepetitionParams(threshold=0.85))
    sample = make_sample(response=PARAPHRASE, history=[("assistant", PITCH), ("user", "No.")])
    assert rep.check(sample) == []
    assert Repetition(rep.near_miss_params()).check(sample)
    assert Repetition(RepetitionParams(threshold=0.1)).near_miss_params().threshold == 0.05  # never 0 or below
    pad = Padding(PaddingParams(max_repeats=3, min_distinct=0.95)).near_miss_params()
    assert (pad.max_repeats, pad.min_distinct) == (2, 1.0)
    twice = make_sample(response="We can do 90. Thanks again for your help! Thanks again for your help!")
    assert Padding().check(twice) == [] and Padding(Padding().near_miss_params()).check(twice)


def test_a_rule_without_a_notion_has_no_entry_and_its_default_is_none() -> None:
    class Shout(Rule):
        name = "shout"

        def check(self, sample):
            return [self.hit("caps")] if sample.response.isupper() else []

    assert Shout().near_miss_params() is None
    pipe = _spec(["cot_leak", "max_length"])
    assert [r.name for src in near_miss_rules(pipe) for r in src.turn_rules] == ["max_length"]
    assert find_near_misses(_spec(["cot_leak"]), [], []) == {}


def test_near_misses_skip_turns_the_rule_fired_on_and_turns_without_a_row() -> None:
    pipe = _spec([{"name": "max_length", "max_chars": 120}, "repetition"])
    dialogues = [
        make_dialogue(
            [
                ("user", "Hi"),
                ("assistant", PITCH),
                ("user", "No."),
                ("assistant", PARAPHRASE),
                ("assistant", "y" * 100),
            ],
            id=f"d{i}",
        )
        for i in range(5)
    ]
    dialogues.append(make_dialogue([("user", "Hi"), ("assistant", "z" * 130)], id="over"))
    rows = _rows(pipe, dialogues)[0]
    rows = [r for r in rows if r["dialogue_id"] != "d4"]  # d4 skipped: never looked at
    found = find_near_misses(pipe, dialogues, rows)
    assert found["max_length"].turns == 4  # the 100-char reply of d0-d3; "over" fired, so it is no near-miss
    assert found["repetition"].turns == 4  # the paraphrase of d0-d3
    examples = found["max_length"].examples
    assert [(m.dialogue_id, m.turn_index) for m in examples] == [("d0", 4), ("d1", 4), ("d2", 4)]
    assert "100 characters (max 96)" in examples[0].reason and examples[0].span == (96, 100)
    assert all(m.dialogue_id != "over" for entry in found.values() for m in entry.examples)


def test_one_dialogue_full_of_near_misses_still_gives_three_examples_and_a_1mb_reply_is_read() -> None:
    pipe = _spec([{"name": "max_length", "max_chars": 2_000_000}])
    turns = [("user", "Hi")] + [("assistant", "x" * 1_700_000)] + [("assistant", "y" * 1_650_000)] * 3
    d = make_dialogue(turns, id="big")
    rows = _rows(pipe, [d])[0]
    found = find_near_misses(pipe, [d], rows)
    assert found["max_length"].turns == 4 and len(found["max_length"].examples) == 3


def test_the_report_shows_near_misses_in_the_rule_section_with_the_looser_evidence_marked() -> None:
    pipe = _spec([{"name": "max_length", "max_chars": 100}, "cot_leak"])
    hostile = "<script>alert(1)</script>" + "w" * 70
    dialogues = [make_dialogue([("user", "Hi"), ("assistant", hostile)], id=f"d{i}") for i in range(2)]
    dialogues.append(make_dialogue([("user", "Hi"), ("assistant", "<think>plan</think> ok")], id="cot"))
    turns, drows = _rows(pipe, dialogues)
    html = render_report(
        turns, drows, title="t", rules=pipe.rule_names(), near_misses=find_near_misses(pipe, dialogues, turns)
    )
    rules = html[html.index('id="rules"') :]
    assert "Near-misses: looked for with max_length" in rules
    block = rules[rules.index("<h4>max_length</h4>") :]
    assert "came close on <b>2</b> more turns (66.7%)" in block
    assert block.count("came close: its looser copy says") == 2
    assert '<mark title="near-miss">' in block and "<script>alert" not in html
    cot = rules[rules.index("<h4>cot_leak</h4>") : rules.index("<h4>max_length</h4>")]
    assert "came close" not in cot


def test_score_report_finds_near_misses_from_the_logs(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "sources:\n  rules: [{name: max_length, max_chars: 60}, cot_leak]\ncombiner: {type: weighted_sum}\n"
    )
    logs = tmp_path / "logs.jsonl"
    records = [
        {
            "id": f"d{i}",
            "turns": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "x" * (50 + 5 * i)}],
        }
        for i in range(4)
    ]
    logs.write_text("\n".join(json.dumps(r) for r in records) + "\nnot json\n")
    out, report = tmp_path / "out" / "rows.jsonl", tmp_path / "out" / "report.html"
    result = CliRunner().invoke(
        app, ["score", str(logs), "-c", str(spec), "-o", str(out), "--report", str(report), "--on-error", "skip"]
    )
    assert result.exit_code == 0, result.output
    assert "looking for near-misses of max_length" in result.output
    html = report.read_text()
    # 50 and 55 chars are within 80 % of 60 (48); 60 is at the limit (passes, close); 65 fired
    assert "came close on <b>3</b> more turns" in html
    assert "reply has 50 characters (max 48)" in html and "reply has 65 characters (max 60)" in html
