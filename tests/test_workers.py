"""`repo-sdk score --workers N`: the same files as one process, and the same kill -9 / --resume guarantee."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from repo_sdk.io.rows import dialogue_path
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.plugins import ALLOW_ENV
from repo_sdk.score_run import journal_path, score_file
from repo_sdk.testing import echo_rm
from repo_sdk.workers import default_workers

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
    assert workers and not any(_alive(pid) for pid in workers), "workers outlived their killed parent"

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
