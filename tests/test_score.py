"""`repo-sdk score` as a long job: streaming inputs, --on-error, --only, a real kill and --resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repo_sdk.cli import app
from repo_sdk.io.rows import dialogue_path, read_rows
from repo_sdk.plugins import ALLOW_ENV
from repo_sdk.score_run import journal_path, skipped_path
from repo_sdk.testing import install_plugin_module

runner = CliRunner()
SPEC = "sources:\n  rules: [cot_leak, {name: max_length, max_chars: 90}]\nbatch_size: 4\n"


def record(i: int) -> dict:
    leak = "<think>push harder</think>" if i % 3 == 0 else ""
    return {
        "id": f"d{i}",
        "task": {"target_price": 80 + i},
        "turns": [
            {"role": "user", "content": f"Hello, this is hotel number {i}."},
            {"role": "assistant", "content": f"{leak}Hi! Could we discuss the rate for room type {i}?"},
            {"role": "user", "content": "Sure, what do you propose?"},
            {"role": "assistant", "content": f"Would {80 + i} EUR per night work for you?"},
        ],
    }


def write_logs(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps(record(i)) + "\n" for i in range(n)))
    return path


def score(*args: str | Path) -> object:
    return runner.invoke(app, ["score", *[str(a) for a in args], "--no-progress"])


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    (tmp_path / "spec.yaml").write_text(SPEC)
    return tmp_path / "spec.yaml"


def test_turn_and_dialogue_rows(tmp_path: Path, spec: Path) -> None:
    logs = write_logs(tmp_path / "logs.jsonl", 7)
    res = score(logs, "-c", spec, "-o", tmp_path / "out.jsonl")
    assert res.exit_code == 0, res.output
    turns = list(read_rows(tmp_path / "out.jsonl"))
    dialogues = list(read_rows(dialogue_path(tmp_path / "out.jsonl")))
    assert len(turns) == 14 and len(dialogues) == 7
    assert [d["dialogue_id"] for d in dialogues] == [f"d{i}" for i in range(7)]
    d0 = dialogues[0]
    assert d0["turns"] == 2 and d0["worst_rule"] == "cot_leak" and d0["rule_counts"] == {"cot_leak": 1}
    assert d0["reward_min"] == pytest.approx(-0.1) and d0["reward_mean"] == pytest.approx(-0.05)
    assert dialogues[1]["worst_rule"] is None and dialogues[1]["fired_count"] == 0
    assert "score summary" in res.output and "rule cot_leak" in res.output
    assert not journal_path(tmp_path / "out.jsonl").exists()


def test_on_error_skip_lists_bad_records(tmp_path: Path, spec: Path) -> None:
    logs = tmp_path / "logs.jsonl"
    good = [json.dumps(record(i)) for i in range(3)]
    huge = json.dumps({**record(9), "id": "huge"}).replace("Sure, what", "x" * 1_000_000 + " Sure, what")
    logs.write_bytes(
        "\n".join([good[0], "{not json", good[1], '{"id": "r", "turns": [{"role": "bot", "content": "x"}]}']).encode()
        + b"\n"
        + b'{"id": "\xff"}\n'
        + huge.encode()
        + b"\n"
        + good[2].encode()
        + b"\n"
        + b'{"id": "cut", "turns": [{"role": "us'
    )
    out = tmp_path / "out.jsonl"
    res = score(logs, "-c", spec, "-o", out, "--on-error", "skip")
    assert res.exit_code == 0, res.output
    skipped = list(read_rows(skipped_path(out)))
    assert [s["position"] for s in skipped] == [2, 4, 5, 8]
    assert "malformed JSON" in skipped[0]["reason"] and "unknown role 'bot'" in skipped[1]["reason"]
    assert "invalid UTF-8" in skipped[2]["reason"] and "truncated line" in skipped[3]["reason"]
    assert all(s["reason"].startswith(f"{logs}:{s['position']}: ") for s in skipped)
    ids = [d["dialogue_id"] for d in read_rows(dialogue_path(out))]
    assert ids == ["d0", "d1", "huge", "d2"]  # the 1 MB turn is scored, not rejected


def test_only_runs_a_subset_and_others_count_missing(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(
        "sources:\n  a: [cot_leak]\n  b: [{name: max_length, max_chars: 5}]\n"
        "combiner: {type: weighted_sum, missing: none}\n"
    )
    logs = write_logs(tmp_path / "logs.jsonl", 2)
    res = score(logs, "-c", tmp_path / "spec.yaml", "-o", tmp_path / "out.jsonl", "--only", "a")
    assert res.exit_code == 0, res.output
    rows = list(read_rows(tmp_path / "out.jsonl"))
    assert all(r["sources"]["b"] is None and r["reasons"]["b"] == "not run (--only)" for r in rows)
    assert all(r["reward"] is None for r in rows)  # b is missing and the policy says none
    assert rows[0]["sources"]["a"] == -10.0


def test_parquet_in_and_out_and_field_mapping(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    renamed = [
        {
            "conv": {"key": r["id"]},
            "meta": r["task"],
            "messages": [
                {"speaker": {"user": "hotel", "assistant": "agent"}[t["role"]], "text": t["content"]}
                for t in r["turns"]
            ],
        }
        for r in (record(i) for i in range(5))
    ]
    pq.write_table(pa.Table.from_pylist(renamed), tmp_path / "logs.parquet")
    (tmp_path / "spec.yaml").write_text(
        SPEC + "input:\n  id: conv.key\n  task: meta\n  turns: messages\n  role: speaker\n  content: text\n"
        "  roles: {hotel: user, agent: assistant}\n"
    )
    out = tmp_path / "out.parquet"
    res = score(tmp_path / "logs.parquet", "-c", tmp_path / "spec.yaml", "-o", out)
    assert res.exit_code == 0, res.output
    rows = list(read_rows(out))
    assert len(rows) == 10 and rows[0]["dialogue_id"] == "d0"
    assert rows[0]["fired"][0]["rule"] == "cot_leak" and rows[0]["sources"] == {"rules": -10.0}
    assert len(list(read_rows(dialogue_path(out)))) == 5


def test_saved_hf_dataset_input(tmp_path: Path, spec: Path) -> None:
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list([record(i) for i in range(4)]).save_to_disk(str(tmp_path / "ds"))
    res = score(tmp_path / "ds", "-c", spec, "-o", tmp_path / "out.jsonl")
    assert res.exit_code == 0, res.output
    assert len(list(read_rows(tmp_path / "out.jsonl"))) == 8


SLOW_SOURCE = """
import time
from repo_sdk import RewardSource, SourceScore, hookimpl

class Slow(RewardSource):
    name = "slow_len"
    def score(self, samples):
        time.sleep(0.15)
        return [SourceScore(value=float(len(s.response))) for s in samples]

@hookimpl
def register_sources(register):
    register(Slow)
"""


def test_kill_and_resume_gives_exactly_the_uninterrupted_rows(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_plugin_module(site, "slow-plugin", "slow_plugin_mod", SLOW_SOURCE)
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  len: slow_len\n  rules: [cot_leak]\ncombiner: {type: weighted_sum}\nbatch_size: 4\n")
    logs = write_logs(tmp_path / "logs.jsonl", 60)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop(ALLOW_ENV, None)
    cli = [str(Path(sys.executable).with_name("repo-sdk")), "score", str(logs), "-c", str(spec), "--no-progress"]

    full = tmp_path / "full.jsonl"
    first = subprocess.run([*cli, "-o", str(full)], env=env, check=True, capture_output=True, text=True)

    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([*cli, "-o", str(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = journal_path(out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until some groups are checkpointed, then kill hard
        if journal.exists() and journal.read_text().count('"checkpoint"') >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert journal.exists() and not out.exists()

    resumed = subprocess.run([*cli, "-o", str(out), "--resume"], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed after record" in resumed.stderr
    assert out.read_text() == full.read_text()
    assert dialogue_path(out).read_text() == dialogue_path(full).read_text()
    assert not journal.exists()

    def totals(stderr: str) -> list[list[str]]:  # the summary table's counts, means and rules
        rows = [[cell.strip() for cell in line.split("\u2502")] for line in stderr.splitlines()]
        return [r for r in rows if r[0].split()[:1] in (["dialogues"], ["assistant"], ["reward"], ["source"], ["rule"])]

    assert totals(resumed.stderr) == totals(first.stderr) and len(totals(first.stderr)) >= 5


def test_resume_refuses_a_journal_of_another_spec(tmp_path: Path, spec: Path) -> None:
    logs = write_logs(tmp_path / "logs.jsonl", 3)
    out = tmp_path / "out.jsonl"
    journal_path(out).write_text(json.dumps({"kind": "header", "fingerprint": "someone-else"}) + "\n")
    res = score(logs, "-c", spec, "-o", out, "--resume")
    assert res.exit_code == 1 and "for another spec" in res.output


def test_off_a_terminal_a_long_run_prints_plain_progress_lines(
    tmp_path: Path, spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stderr is not a terminal under the runner: no bar, but a plain line per interval and the last one."""
    logs = write_logs(tmp_path / "logs.jsonl", 9)
    args = ["score", str(logs), "-c", str(spec), "-o", str(tmp_path / "out.jsonl")]
    short = runner.invoke(app, args)  # a run shorter than the interval prints no progress at all
    assert short.exit_code == 0 and "scoring:" not in short.stderr
    monkeypatch.setattr("repo_sdk.score_run.LINES_EVERY", 0.0)  # every run is "long" now
    res = runner.invoke(app, [*args[:-1], str(tmp_path / "again.jsonl")])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stderr.splitlines() if line.startswith("scoring:")]
    assert lines and lines[-1].startswith("scoring: dialogue 9/9 (100%),") and lines[-1].endswith("elapsed, done")
    assert "\r" not in res.stderr  # nothing redrawn into a log
    quiet = runner.invoke(app, [*args[:-1], str(tmp_path / "quiet.jsonl"), "--no-progress"])
    assert quiet.exit_code == 0 and "scoring:" not in quiet.stderr


def test_progress_lines_keep_coming_while_a_group_takes_long(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A group waiting on a slow judge still shows the run is alive: the elapsed time moves on."""
    from repo_sdk.score_run import progress_bar

    monkeypatch.setattr("repo_sdk.score_run.LINES_EVERY", 0.3)
    with progress_bar("lines", 4) as advance:
        time.sleep(2.5)  # no group done yet: only the heartbeat (once a second) speaks
        before = capsys.readouterr().err.splitlines()
        advance(4, 10)
    *beats, last = capsys.readouterr().err.splitlines()
    assert before and all(line.startswith("scoring: dialogue 0/4 (0%), ") for line in before + beats)
    assert last.startswith("scoring: dialogue 4/4 (100%), ") and last.endswith("elapsed, done")


@pytest.mark.parametrize("every", [0.0, 3600.0])
def test_the_bar_counts_every_group_and_reads_its_rate_back_at_most_every_rate_every(
    monkeypatch: pytest.MonkeyPatch, every: float
) -> None:
    """Reading the rate back walks every step of the last 30 s: the bar does it at most every RATE_EVERY seconds."""
    from repo_sdk.score_run import progress_bar

    monkeypatch.setattr("repo_sdk.score_run.RATE_EVERY", every)
    bar = progress_bar(True, 20)
    advance = bar.__enter__()
    try:
        for _ in range(5):
            time.sleep(0.002)
            advance(2, 3)
        task = bar.bar.tasks[0]
        assert (task.completed, task.fields["turns"]) == (10, 15)
        # read back at each group, the rate follows; read back once (at the first group, before any rate), it stays 0
        assert (task.fields["rate"] > 0) == (every == 0.0)
    finally:
        bar.__exit__(None, None, None)
