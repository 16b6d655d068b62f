"""A run's totals come from each group's totals line, and equal the totals of the rows it wrote."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from repo_sdk.io.fastjson import dumps_bytes
from repo_sdk.io.rows import read_rows
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.run_summary import ScoreSummary, group_totals
from repo_sdk.score_run import journal_path, score_file, write_outputs

SPEC = {
    "sources": {"rules": ["cot_leak", {"name": "max_length", "max_chars": 60}, "repetition"]},
    "batch_size": 5,
}


def _dialogue(i: int) -> dict:
    leak = "<think>push</think>" if i % 4 == 0 else ""
    pitch = "Could we discuss the rate for the twin room for three nights?"
    return {
        "id": f"d{i % 17}",  # some ids come back: the totals count the dialogues that reuse one
        "turns": [
            {"role": "user", "content": f"Hello from hotel {i}."},
            {"role": "assistant", "content": f"{leak}Hi! {pitch}"},
            {"role": "user", "content": "Go on."},
            {"role": "assistant", "content": pitch if i % 3 == 0 else f"Would {80 + i} EUR per night work?"},
        ],
    }


def _totals(s: ScoreSummary) -> tuple:
    return (
        s.turns,
        s.dialogues,
        round(s.reward_sum, 9),
        s.reward_count,
        s.reward_min,
        {k: round(v, 9) for k, v in s.source_sums.items()},
        dict(s.source_counts),
        dict(s.source_none),
        dict(s.first_none),
        dict(s.rule_turns),
        dict(s.source_errors),
        dict(s.first_error),
        s.ids.reuses,
        dict(s.ids.shared),
        [d.message() for d in s.degenerate],
    )


def _from_rows(out: Path) -> ScoreSummary:
    """The totals counted the plain way: every turn row of the output, parsed."""
    expected = ScoreSummary()
    for row in read_rows(out):
        expected.add_turn(row)
    expected.dialogues = sum(1 for _ in read_rows(out.with_name(out.stem + ".dialogues.jsonl")))
    return expected


@pytest.mark.parametrize("workers", [1, 2])
def test_totals_from_summary_lines_are_those_of_the_rows(tmp_path: Path, workers: int) -> None:
    logs = tmp_path / "logs.jsonl"
    logs.write_text("".join(json.dumps(_dialogue(i)) + "\n" for i in range(40)))
    out = tmp_path / "out.jsonl"
    with RewardPipeline.from_spec(SPEC) as pipe:
        summary = score_file(pipe, logs, out, progress=False, workers=workers)
    assert summary.turns == 80 and summary.rule_turns["cot_leak"] == 10 and summary.ids.reuses == 23
    assert _totals(summary) == _totals(_from_rows(out))


_ROW = {  # a turn row of a journal
    "kind": "turn",
    "dialogue_id": "a",
    "turn_index": 1,
    "sample_id": "a#1",
    "response": "hi",
    "reward": -3.0,
    "sources": {"rules": -3.0, "judge": None},
    "fired": [{"rule": "x"}],
    "reasons": {"judge": "judge not run"},
    "details": {"rules": {}},
}


def _journal(tmp_path: Path, totals: bool, other: dict) -> Path:
    row = _ROW
    header = {"kind": "header", "fingerprint": "f", **({"totals": True} if totals else {})}
    lines = [dumps_bytes(header), dumps_bytes(row), dumps_bytes({"kind": "totals", **group_totals([other])})]
    path = tmp_path / "journal"
    path.write_bytes(b"".join(lines))
    return path


def test_a_journal_with_totals_is_counted_from_them_one_without_from_its_rows(tmp_path: Path) -> None:
    other = {
        "dialogue_id": "b",
        "turn_index": 3,
        "sample_id": "b#3",
        "reward": 5.0,
        "sources": {"rules": 5.0},
        "fired": [],
        "reasons": {},
        "details": {"rules": {"error": "ValueError: bad"}},
    }
    for totals, expected in [(True, (5.0, {"rules": 1}, {})), (False, (-3.0, {}, {"x": 1}))]:
        journal = _journal(tmp_path, totals, other)
        summary = write_outputs(lambda j=journal: j.open("rb"), tmp_path / "out.jsonl")
        assert summary.turns == 1
        assert (summary.reward_sum, dict(summary.source_errors), dict(summary.rule_turns)) == expected
        assert (tmp_path / "out.jsonl").read_text().count('"kind":"turn"') == 1  # the row is written either way
    assert summary.first_none == {"judge": "judge not run"}
    assert summary.first_error == {}
    journal = _journal(tmp_path, True, other)
    assert write_outputs(lambda: journal.open("rb"), tmp_path / "out.jsonl").first_error == {
        "rules": "b#3: ValueError: bad"
    }


def test_a_journal_of_the_version_before_is_counted_from_its_rows(tmp_path: Path) -> None:
    """A run begun before totals lines (header "summaries", a line of per-turn briefs a group) and finished
    by this version: its briefs are not read, its rows are, and a totals line of the resumed part is not
    counted twice."""
    row = {**_ROW, "sources": {"rules": -3.0}, "reasons": {}}
    later = {**row, "dialogue_id": "b", "sample_id": "b#1", "reward": 1.0, "sources": {"rules": 1.0}, "fired": []}
    lines = [
        {"kind": "header", "fingerprint": "f", "summaries": True},
        row,
        {"kind": "summary", "turns": [["a", 1, 99.0, {"rules": 99.0}, ["y"], None, None, None]]},
        {"kind": "checkpoint", "position": 1},
        later,  # (resumed by this version)
        {"kind": "totals", **group_totals([later])},
        {"kind": "checkpoint", "position": 2},
    ]
    journal = tmp_path / "journal"
    journal.write_bytes(b"".join(dumps_bytes(line) for line in lines))
    summary = write_outputs(lambda: journal.open("rb"), tmp_path / "out.jsonl")
    assert (summary.turns, summary.reward_sum, dict(summary.rule_turns)) == (2, -2.0, {"x": 1})
    assert (tmp_path / "out.jsonl").read_text().count('"kind":"turn"') == 2


def _random_rows(rng: random.Random, n: int) -> list[dict]:
    """Turn rows as hostile as the totals may meet: ids reused and repeated out of order, turn indexes
    that fall, repeat, or are no int; sources missing from some rows, None now and then, errors; more
    distinct values than the tally's counters hold."""
    rows = []
    for k in range(n):
        sources: dict = {}
        for name in rng.sample(["rules", "judge", "rm"], rng.randint(1, 3)):
            roll = rng.random()
            sources[name] = None if roll < 0.2 else float(rng.randint(-3, 3)) if roll < 0.7 else rng.random()
        details = {name: {"error": f"E{k}"} for name in sources if sources[name] is None and rng.random() < 0.5}
        rows.append(
            {
                "dialogue_id": rng.choice(["a", "b", "c", 7, None]),
                "turn_index": rng.choice([1, 2, 3, 5, 8, "3", None, True]),
                "sample_id": f"s{k}",
                "reward": None if rng.random() < 0.1 else rng.uniform(-2, 2),
                "sources": sources,
                "fired": [{"rule": rng.choice("xyz")} for _ in range(rng.choice([0, 0, 1, 3]))],
                "reasons": {name: f"why {k}" for name in sources if rng.random() < 0.8},
                "details": details,
            }
        )
    return rows


@pytest.mark.parametrize("seed", range(20))
def test_a_groups_totals_add_up_to_its_rows_counted_one_by_one(seed: int) -> None:
    rng = random.Random(seed)
    rows = _random_rows(rng, rng.randint(1, 400))
    one_by_one, grouped = ScoreSummary(), ScoreSummary()
    for row in rows:
        one_by_one.add_turn(row)  # type: ignore[arg-type]
    start = 0
    while start < len(rows):  # groups of random sizes, each through JSON as the journal holds it
        end = start + rng.randint(1, 80)
        grouped.add_group(json.loads(dumps_bytes({"kind": "totals", **group_totals(rows[start:end])})))
        start = end
    assert _totals(grouped) == _totals(one_by_one)
    assert grouped.ids.message() == one_by_one.ids.message()
    assert grouped.tally._by_source.keys() == one_by_one.tally._by_source.keys()
    for name, tally in one_by_one.tally._by_source.items():
        other = grouped.tally._by_source[name]
        assert (other.turns, other.none, other.scored, other.counters) == (
            tally.turns,
            tally.none,
            tally.scored,
            tally.counters,
        )


def test_the_tally_of_a_group_is_that_of_its_values_one_at_a_time_past_its_counters() -> None:
    from repo_sdk.degenerate import SourceTally

    values = [float(i % 90) for i in range(500)] + [1.0] * 50  # 90 values: more than the 64 counters
    one, many = SourceTally(), SourceTally()
    for v in values:
        one.add("s", v)
    many.add_values("s", values[:300], none=2)
    many.add_values("s", values[300:])
    a, b = one._by_source["s"], many._by_source["s"]
    assert (b.turns, b.none, b.scored) == (552, 2, 550) and b.counters == a.counters and len(a.counters) <= 64


def test_the_journal_holds_one_totals_line_per_group_and_a_resumed_run_counts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import repo_sdk.score_run as score_run

    logs = tmp_path / "logs.jsonl"
    logs.write_text("".join(json.dumps(_dialogue(i)) + "\n" for i in range(12)))
    out = tmp_path / "out.jsonl"

    def killed(journal: Path, out: Path) -> None:
        raise KeyboardInterrupt  # every group is in the journal; the outputs are not written

    monkeypatch.setattr(score_run, "_finalize", killed)
    with RewardPipeline.from_spec(SPEC) as pipe, pytest.raises(KeyboardInterrupt):
        score_file(pipe, logs, out, progress=False, batch_size=4)
    lines = journal_path(out).read_bytes().splitlines()
    kinds = [json.loads(line)["kind"] for line in lines]
    assert json.loads(lines[0])["totals"] is True
    assert kinds.count("totals") == kinds.count("checkpoint") == 6  # 4 turns a group: 2 dialogues each
    assert [k for k in kinds if k in ("totals", "checkpoint")] == ["totals", "checkpoint"] * 6
    monkeypatch.undo()
    with RewardPipeline.from_spec(SPEC) as pipe:
        summary = score_file(pipe, logs, out, progress=False, batch_size=4, resume=True)
    assert summary.resumed_from == 12 and summary.turns == 24
    assert _totals(summary) == _totals(_from_rows(out))
