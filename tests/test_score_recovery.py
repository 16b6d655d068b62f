"""Errors per record, never per batch; a failed run resumes after the fix; a broken judge stops the run early."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from repo_sdk import RewardPipeline, RewardSource, SourceScore, hookimpl
from repo_sdk.cli import app
from repo_sdk.io.rows import dialogue_path, read_rows
from repo_sdk.judge.fakes import FakeJudgeServer
from repo_sdk.run_checks import probe_url
from repo_sdk.score_run import journal_path
from repo_sdk.testing import make_sample, register_plugin

SPEC = "sources:\n  rules: [cot_leak, {name: max_length, max_chars: 400}]\nbatch_size: 2\n"


def dialogue(i: int, reply: str = "Could we talk about the twin room?", **task: Any) -> dict[str, Any]:
    turns = [{"role": "user", "content": f"Hello, hotel {i}."}, {"role": "assistant", "content": reply}]
    return {"id": f"d{i}", "task": task, "turns": turns}


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def score(*args: str | Path) -> Any:
    return CliRunner().invoke(app, ["score", *[str(a) for a in args], "--no-progress"])


class Picky(RewardSource):
    """Raises on any batch holding a reply that says "boom" (as a plugin with a bug would)."""

    name = "picky"
    kind = "rules"
    batches: ClassVar[list[int]] = []

    def score(self, samples):
        type(self).batches.append(len(samples))
        if any("boom" in s.response for s in samples):
            raise ValueError("cannot read price '120 EUR'")
        return [SourceScore(value=float(len(s.response))) for s in samples]


class _Plugin:
    @hookimpl
    def register_sources(self, register: Any) -> None:
        register(Picky)


@pytest.fixture
def picky() -> Iterator[None]:
    Picky.batches = []
    with register_plugin(_Plugin(), name="picky-plugin"):
        yield


def test_a_source_failing_on_one_sample_costs_that_sample_only(picky: None) -> None:
    replies = ["fine", "also fine", "boom", "ok"]
    with RewardPipeline.from_spec({"sources": {"p": "picky", "r": ["cot_leak"]}}) as pipe:
        results = pipe.score([make_sample(response=r) for r in replies])
    values = [r.sources["p"].value for r in results]
    assert values == [4.0, 9.0, None, 2.0]
    assert "cannot read price '120 EUR'" in results[2].sources["p"].reason
    assert results[2].sources["p"].details["error"] == "ValueError: cannot read price '120 EUR'"
    assert [r.sources["r"].value for r in results] == [0.0] * 4  # the other source is untouched
    assert Picky.batches == [4, 1, 1, 1, 1]  # the failed batch was re-scored item by item


def test_a_sync_source_called_directly_is_isolated_the_same_way(picky: None) -> None:
    from repo_sdk.pipeline import score_isolated_sync

    samples = [make_sample(response=r) for r in ["fine", "boom", "ok", "boom too"]]
    scores = score_isolated_sync("p", Picky(), samples)
    assert [s.value for s in scores] == [4.0, None, 2.0, None]
    assert all(s.details["error"] == "ValueError: cannot read price '120 EUR'" for s in scores if s.value is None)
    assert Picky.batches == [4, 1, 1, 1, 1]


def test_skip_mode_scores_the_bad_sample_none_and_the_summary_says_so(tmp_path: Path, picky: None) -> None:
    (tmp_path / "spec.yaml").write_text("sources:\n  p: picky\n  r: [cot_leak]\ncombiner: {type: weighted_sum}\n")
    logs = write_jsonl(tmp_path / "logs.jsonl", [dialogue(i, "boom" if i == 3 else "hello") for i in range(6)])
    out = tmp_path / "out.jsonl"
    res = score(logs, "-c", tmp_path / "spec.yaml", "-o", out, "--on-error", "skip", "--max-none-rate", "0.5")
    assert res.exit_code == 0, res.output
    rows = list(read_rows(out))
    assert len(rows) == 6 and [r["sources"]["p"] for r in rows] == [5.0, 5.0, 5.0, None, 5.0, 5.0]
    assert rows[3]["details"]["p"]["error"].startswith("ValueError") and rows[3]["reward"] is not None
    assert "source p errors" in res.output and "1 turns scored None" in res.output


def test_fail_mode_names_the_record_and_the_value(tmp_path: Path, picky: None) -> None:
    (tmp_path / "spec.yaml").write_text("sources:\n  p: picky\n")
    logs = write_jsonl(tmp_path / "logs.jsonl", [dialogue(i, "boom" if i == 1 else "hello") for i in range(3)])
    res = score(logs, "-c", tmp_path / "spec.yaml", "-o", tmp_path / "out.jsonl")
    assert res.exit_code == 1
    assert res.output.strip() == (
        f"error: {logs}:2: turns[1] (d1#1): source p: ValueError: cannot read price '120 EUR'"
    )
    assert not (tmp_path / "out.jsonl").exists() and not journal_path(tmp_path / "out.jsonl").exists()


def test_a_failed_run_resumes_after_the_fix_with_the_rows_of_a_clean_run(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(SPEC)
    good = [dialogue(i, "<think>x</think>Hi" if i % 4 == 0 else f"Offer {i}") for i in range(12)]
    bad = [*good[:9], {"id": "d9", "turns": [{"role": "assistant", "content": None}]}, *good[10:]]
    clean = tmp_path / "clean.jsonl"
    assert score(write_jsonl(tmp_path / "good.jsonl", good), "-c", tmp_path / "spec.yaml", "-o", clean).exit_code == 0

    logs, out = tmp_path / "logs.jsonl", tmp_path / "out.jsonl"
    write_jsonl(logs, bad)
    failed = score(logs, "-c", tmp_path / "spec.yaml", "-o", out)
    assert failed.exit_code == 1 and f"{logs}:10: turns[0].content" in failed.output
    assert "records 1-8 are scored and kept" in failed.output and "--resume" in failed.output
    assert journal_path(out).exists() and not out.exists()

    write_jsonl(logs, good)  # the fix: line 10 only, after the last checkpoint
    resumed = score(logs, "-c", tmp_path / "spec.yaml", "-o", out, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "resumed after record" in resumed.output
    assert out.read_bytes() == clean.read_bytes()
    assert dialogue_path(out).read_bytes() == dialogue_path(clean).read_bytes()
    assert not journal_path(out).exists()


def test_resume_moves_with_the_input_by_content_not_by_path(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(SPEC)
    records = [dialogue(i) for i in range(6)] + [{"id": "x", "turns": 5}]
    logs = write_jsonl(tmp_path / "logs.jsonl", records)
    out = tmp_path / "out.jsonl"
    assert score(logs, "-c", tmp_path / "spec.yaml", "-o", out).exit_code == 1
    moved = write_jsonl(tmp_path / "moved.jsonl", records[:6])  # same records, another file, the bad one gone
    res = score(moved, "-c", tmp_path / "spec.yaml", "-o", out, "--resume")
    assert res.exit_code == 0, res.output
    assert len(list(read_rows(out))) == 6


def test_a_judge_that_answers_nothing_usable_fails_the_run(tmp_path: Path) -> None:
    logs = write_jsonl(tmp_path / "logs.jsonl", [dialogue(i) for i in range(5)])
    out = tmp_path / "out.jsonl"
    with FakeJudgeServer(responder=lambda body: "I would rather not say.") as server:
        (tmp_path / "spec.yaml").write_text(
            f"sources:\n  r: [cot_leak]\n  j: {{type: judge, base_url: '{server.base_url}', model: m, "
            "cache: false, reask: 0, max_retries: 0}\n"
        )
        res = score(logs, "-c", tmp_path / "spec.yaml", "-o", out)
        lenient = score(logs, "-c", tmp_path / "spec.yaml", "-o", tmp_path / "ok.jsonl", "--max-none-rate", "1")
    last = res.output.strip().splitlines()[-1]
    assert res.exit_code == 1 and last.startswith("error: source j gave no value on 5 of 5 turns (100%")
    assert "more than --max-none-rate 20%" in last and "first reason:" in last
    assert out.exists()  # the rows are written (and named), they are just not trusted
    assert lenient.exit_code == 0, lenient.output


def test_judge_optional_scores_without_the_unreachable_judge_and_says_so(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    (tmp_path / "spec.yaml").write_text(
        f"sources:\n  r: [cot_leak]\n  j: {{type: judge, base_url: '{url}', model: m}}\n"
    )
    logs = write_jsonl(tmp_path / "logs.jsonl", [dialogue(i) for i in range(3)])
    out = tmp_path / "out.jsonl"
    res = score(logs, "-c", tmp_path / "spec.yaml", "-o", out, "--judge-optional")
    assert res.exit_code == 0, res.output
    assert "NOT RUN" in res.output and url in res.output
    rows = list(read_rows(out))
    assert all(r["sources"]["j"] is None and r["reasons"]["j"].startswith("judge not run: " + url) for r in rows)


def test_the_probe_names_what_is_wrong(tmp_path: Path) -> None:
    class Deny(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    deny = http.server.HTTPServer(("127.0.0.1", 0), Deny)
    threading.Thread(target=deny.serve_forever, daemon=True).start()
    silent = socket.socket()  # accepts connections into its backlog, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        with FakeJudgeServer() as fake:
            assert probe_url(fake.base_url) is None
        assert "HTTP 401" in (probe_url(f"http://127.0.0.1:{deny.server_address[1]}/v1") or "")
        assert "timed out" in (probe_url(f"http://127.0.0.1:{silent.getsockname()[1]}/v1", timeout_s=0.5) or "")
    finally:
        deny.shutdown()
        silent.close()
