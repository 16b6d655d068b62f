"""`repo-sdk score --workers N`: the same files as one process, and the same kill -9 / --resume guarantee."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from repo_sdk import RewardSource, SourceScore, hookimpl
from repo_sdk.errors import InputError
from repo_sdk.io.rows import dialogue_path
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.plugins import ALLOW_ENV
from repo_sdk.run_summary import group_totals
from repo_sdk.score_run import journal_path, score_file
from repo_sdk.testing import echo_rm, register_plugin
from repo_sdk.workers import IN_FLIGHT_PER_WORKER, WorkerPool, default_workers

SPEC = {
    "sources": {"rules": ["cot_leak", "repetition", "format_breakage", {"name": "max_length", "max_chars": 120}]},
    "batch_size": 4,
}
REPLIES = [
    "<think>push</think>Could we agree on {p} EUR per night?",
    "Sure! Here is the plan:\n- visit the old town\n- try the market",
    "Thanks for your patience, we can confirm {p} EUR for the twin room, breakfast included.",
    "Thanks for your patience, we can confirm {p} EUR for the twin room, breakfast included.",
]


def write_logs(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            turns = []
            for k in range(2 + i % 7):
                turns.append({"role": "user", "content": f"Message {k} of dialogue {i}."})
                turns.append({"role": "assistant", "content": REPLIES[(i + k) % 4].format(p=80 + k)})
            fh.write(json.dumps({"id": f"d{i}", "turns": turns}) + "\n")
    return path


def test_workers_write_the_same_files_as_one_process(tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs.jsonl", 40)
    outs = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        with RewardPipeline.from_spec(SPEC) as pipe:
            summary = score_file(pipe, logs, out, progress=False, workers=workers)
        outs[workers] = (out.read_bytes(), dialogue_path(out).read_bytes(), summary.turns)
    assert outs[1] == outs[2] and outs[1][2] > 100


def test_default_workers_are_the_cores_for_rules_and_one_with_a_model() -> None:
    with RewardPipeline.from_spec(SPEC) as pipe:
        assert default_workers(pipe) == len(os.sched_getaffinity(0))
    spec = {"sources": {"rules": ["cot_leak"], "rm": {"type": "echo_rm"}}}
    with echo_rm() as registry:
        with RewardPipeline.from_spec(spec, registry=registry) as pipe:
            assert default_workers(pipe) == 1
        with RewardPipeline.from_spec(spec, only=["rules"], registry=registry) as pipe:  # the RM left out
            assert default_workers(pipe) == len(os.sched_getaffinity(0))


def test_kill_and_resume_with_workers_gives_the_one_process_files(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps(SPEC))
    logs = write_logs(tmp_path / "logs.jsonl", 3000)
    env = {**os.environ}
    env.pop(ALLOW_ENV, None)
    cli = [str(Path(sys.executable).with_name("repo-sdk")), "score", str(logs), "-c", str(spec), "--no-progress"]
    full = tmp_path / "full.jsonl"
    subprocess.run([*cli, "-o", str(full), "--workers", "1"], env=env, check=True, capture_output=True)

    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([*cli, "-o", str(out), "--workers", "2"], env=env, stderr=subprocess.DEVNULL)
    journal = journal_path(out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:  # some groups checkpointed, then kill hard
        if journal.exists() and journal.read_text().count('"checkpoint"') >= 20:
            break
        time.sleep(0.05)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert journal.exists() and not out.exists(), "the run ended before it could be killed"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    left = [Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:200] for pid in workers if _alive(pid)]
    assert workers and not left, f"workers outlived their killed parent: {left}"

    resumed = subprocess.run(
        [*cli, "-o", str(out), "--resume", "--workers", "2"], env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed after record" in resumed.stderr
    assert out.read_bytes() == full.read_bytes()
    assert dialogue_path(out).read_bytes() == dialogue_path(full).read_bytes()


def _children(pid: int) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in found.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_rules_alone_fork_their_workers_and_a_model_spawns(monkeypatch: Any) -> None:
    import threading

    from repo_sdk.workers import forkable

    with RewardPipeline.from_spec(SPEC) as pipe:
        monkeypatch.setattr(threading, "active_count", lambda: 1)
        assert forkable(pipe)
        monkeypatch.setattr(threading, "active_count", lambda: 2)
        assert not forkable(pipe)  # another thread might hold a lock a forked child would inherit held
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    spec = {"sources": {"rules": ["cot_leak"], "rm": {"type": "echo_rm"}}}
    with echo_rm() as registry, RewardPipeline.from_spec(spec, registry=registry) as pipe:
        assert not forkable(pipe)


def test_parquet_input_with_workers_gives_the_one_process_files(tmp_path: Path) -> None:
    pq = __import__("pyarrow.parquet", fromlist=["write_table"])
    pa = __import__("pyarrow")
    logs = write_logs(tmp_path / "logs.jsonl", 30)
    records = [json.loads(line) for line in logs.read_text().splitlines()]
    table = pa.table({"id": [r["id"] for r in records], "turns": [r["turns"] for r in records]})
    pq.write_table(table, tmp_path / "logs.parquet")
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        with RewardPipeline.from_spec(SPEC) as pipe:
            score_file(pipe, tmp_path / "logs.parquet", out, progress=False, workers=workers)
        outs.append((out.read_bytes(), dialogue_path(out).read_bytes()))
    assert outs[0] == outs[1] and outs[0][0].count(b"\n") > 100


def test_a_row_the_standard_library_wrote_reaches_the_output_as_before(tmp_path: Path) -> None:
    from repo_sdk.io.fastjson import dumps_line, loads
    from repo_sdk.score_run import _finalize

    row = {
        "kind": "turn",
        "dialogue_id": "d",
        "reward": 0.5,
        "sources": {"rules": 0.5},
        "fired": [],
        "details": {"rules": {"big": 2**70}},
    }  # beyond 64 bits: orjson refuses it, the standard library writes it
    dia = {"kind": "dialogue", "dialogue_id": "d", "turns": 1}
    journal = tmp_path / ".out.jsonl.partial"
    journal.write_text(
        "\n".join(
            [
                json.dumps({"kind": "header", "fingerprint": "x"}),
                json.dumps(row, ensure_ascii=False),
                dumps_line(dia).rstrip("\n"),
                json.dumps({"kind": "skipped", "position": 3, "reason": "bad"}),
                json.dumps({"kind": "checkpoint", "position": 3}),
            ]
        )
        + "\n"
    )
    summary = _finalize(journal, tmp_path / "out.jsonl")
    # parsed and written again, as every row was before rows were copied as written
    assert (tmp_path / "out.jsonl").read_text() == dumps_line(loads(json.dumps(row)))
    assert dialogue_path(tmp_path / "out.jsonl").read_text() == dumps_line(dia)
    assert (summary.turns, summary.dialogues, summary.skipped) == (1, 1, 1) and not journal.exists()
    # a journal with the groups' totals lines, one the standard library wrote too: counted from it
    counted = {**row, "reward": 0.25, "sources": {"rules": 0.25}, "fired": [{"rule": "cot_leak"}]}
    journal.write_text(
        "\n".join(
            [
                json.dumps({"kind": "header", "fingerprint": "x", "totals": True}),
                json.dumps(row, ensure_ascii=False),
                json.dumps({"kind": "totals", **group_totals([counted])}),
                json.dumps({"kind": "checkpoint", "position": 1}),
            ]
        )
        + "\n"
    )
    summary = _finalize(journal, tmp_path / "out.jsonl")
    assert (summary.turns, summary.reward_sum, dict(summary.rule_turns)) == (1, 0.25, {"cot_leak": 1})
    assert (tmp_path / "out.jsonl").read_text() == dumps_line(loads(json.dumps(row)))


@pytest.mark.parametrize("pure", [False, True], ids=["c-part", "pure-python"])
def test_workers_are_forked_after_a_warm_up_and_score_as_one_process(tmp_path: Path, pure: bool) -> None:
    """What the rules build on first use is built before the fork (the words' search; numpy, where the rules
    compare many sentences with it, without the C part): the workers inherit it."""
    code = (
        "import sys\n"
        "from repo_sdk.pipeline import RewardPipeline\n"
        "from repo_sdk.rules.words import WORDS\n"
        "from repo_sdk.workers import warm_up\n"
        "pipe = RewardPipeline.from_spec({'sources': {'rules': ['repetition', 'cot_leak']}})\n"
        "before = ('numpy' in sys.modules, WORDS.built)\n"
        "warm_up(pipe)\n"
        "print(*before, 'numpy' in sys.modules, WORDS.built)\n"
    )
    env = {**os.environ, "REPO_SDK_PURE_PYTHON": "1" if pure else ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert done.stdout.split() == ["False", "False", str(pure), "True"]


def test_a_source_error_in_a_worker_costs_its_turn_only_and_names_its_record(tmp_path: Path) -> None:
    """Per-record isolation holds in worker processes: skip gives the bad turn None, fail names line and value."""
    spec = {"sources": {"rules": ["negotiation.price_consistency", "cot_leak"]}, "batch_size": 2}
    logs = tmp_path / "logs.jsonl"
    with logs.open("w", encoding="utf-8") as fh:
        for i in range(8):
            price = "120 EUR" if i == 5 else 120
            turns = [{"role": "user", "content": "Hello."}, {"role": "assistant", "content": "Could we do 99 EUR?"}]
            fh.write(json.dumps({"id": f"d{i}", "task": {"current_price": price, "target_price": 95}, "turns": turns}))
            fh.write("\n")
    rows = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        with RewardPipeline.from_spec(spec) as pipe:
            score_file(pipe, logs, out, progress=False, workers=workers, on_error="skip")
        rows[workers] = out.read_bytes()
        with RewardPipeline.from_spec(spec) as pipe:
            try:
                score_file(pipe, logs, tmp_path / f"fail{workers}.jsonl", progress=False, workers=workers)
            except InputError as exc:
                rows[f"error{workers}"] = str(exc)
    assert rows[1] == rows[2]
    values = [json.loads(line)["sources"]["rules"] for line in rows[1].splitlines()]
    assert values[5] is None and all(v is not None for i, v in enumerate(values) if i != 5)
    assert rows["error1"] == rows["error2"]
    assert f"{logs}:6: turns[1]" in rows["error2"] and "'120 EUR'" in rows["error2"]


class _Length(RewardSource):
    name = "length_here"
    kind = "rules"

    def score(self, samples):
        return [SourceScore(value=float(len(s.response))) for s in samples]


class _LengthPlugin:
    @hookimpl
    def register_sources(self, register: Any) -> None:
        register(_Length)


def test_a_source_only_this_process_knows_is_scored_here_with_a_note(tmp_path: Path, capsys: Any) -> None:
    logs = write_logs(tmp_path / "logs.jsonl", 6)
    with register_plugin(_LengthPlugin(), name="length-here"):
        with RewardPipeline.from_spec({"sources": {"n": "length_here"}}) as pipe:
            assert default_workers(pipe) == 1  # not the built-in rules: one process unless asked
            summary = score_file(pipe, logs, tmp_path / "out.jsonl", progress=False, workers=2)
    assert summary.turns == sum(2 + i % 7 for i in range(6))
    note = capsys.readouterr().err
    assert "--workers 2: a worker could not build the spec" in note and "length_here" in note


def test_a_slow_chunk_at_the_head_leaves_the_other_workers_chunks_to_score() -> None:
    """Results are written in input order, so a slow chunk at the head (one huge reply) holds back the results
    behind it; the pool goes on handing out chunks meanwhile, up to IN_FLIGHT_PER_WORKER a worker, and then
    waits (memory stays bounded)."""
    pool = WorkerPool.__new__(WorkerPool)  # the scheduling alone: chunks go to futures this test completes
    pool.workers, pool.chunk = 2, 1
    handed: list[Future[list[Any]]] = []

    def submit(dialogues_of: Any, chunk: list[int], name: str, mapping: Any) -> Future[list[Any]]:
        future: Future[list[Any]] = Future()
        if handed:  # every chunk but the first is scored at once
            future.set_result([(b"", job, None) for job in chunk])
        handed.append(future)
        return future

    pool._submit = submit
    written: list[int] = []
    consumer = threading.Thread(
        target=lambda: written.extend(job for job, _ in pool.map(lambda j: [j], range(100))), daemon=True
    )  # (a daemon: were the head never scored, it would not keep the test run from ending)
    consumer.start()
    deadline = time.monotonic() + 30
    while len(handed) < IN_FLIGHT_PER_WORKER * 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # (a pool that went on past its bound would hand out more meanwhile)
    assert (len(handed), written) == (IN_FLIGHT_PER_WORKER * 2, [])
    handed[0].set_result([(b"", 0, None)])
    consumer.join(timeout=30)
    assert written == list(range(100)) and len(handed) == 100
