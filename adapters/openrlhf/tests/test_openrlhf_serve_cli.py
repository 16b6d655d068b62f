"""`repo-sdk serve` end to end: the real command in a subprocess, on a loopback port the system picks."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from repo_sdk.cli import app


def served_port(proc: subprocess.Popen[str], timeout: float = 60) -> int:
    """The port ``repo-sdk serve --port 0`` bound, read off the line it prints when it is ready to serve (a
    port picked here and passed in could be taken by another test in between)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    deadline, said = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            assert proc.poll() is None, "".join(said)
            continue
        said.append(line)
        if found := re.search(r"on http://127\.0\.0\.1:(\d+)/get_reward", line):
            return int(found.group(1))
    raise AssertionError(f"the server did not say where it serves: {''.join(said)}")


def test_serve_answers_openrlhf_requests_and_stops(write_spec, tiny_tokenizer_dir, tiny_tokenizer):
    spec = write_spec({"name": "negotiation", "sources": {"guard": ["cot_leak"]}})
    env = {**os.environ, "REPO_SDK_SERVE_TOKEN": "s3cret", "HF_HUB_OFFLINE": "1"}
    cli = Path(sys.executable).with_name("repo-sdk")
    proc = subprocess.Popen(
        [str(cli), "serve", str(spec), "--port", "0", "--tokenizer", tiny_tokenizer_dir],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{served_port(proc)}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "the server stopped"
            try:
                health = httpx.get(f"{base}/health", timeout=1).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.2)
        prompt = tiny_tokenizer.apply_chat_template(
            [{"role": "user", "content": "95 EUR."}], tokenize=False, add_generation_prompt=True
        )
        body = {"query": [prompt + "<think>x</think>80?<|endoftext|>"], "prompts": [prompt], "labels": ["{}"]}
        denied = httpx.post(f"{base}/get_reward", json=body)
        answer = httpx.post(f"{base}/get_reward", json=body, headers={"Authorization": "Bearer s3cret"}).json()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert health["status"] == "ok" and health["reward"] == "negotiation" and health["sources"] == ["guard"]
    assert denied.status_code == 401
    assert answer == {
        "rewards": [-0.1],
        "scores": [-0.1],
        "extra_logs": {
            "negotiation/guard": [-10.0],
            "negotiation/fired/cot_leak": [1.0],
            "negotiation/E": [-10.0],
            "negotiation/multiplier": [0.0],  # no RM: no multiplier (None logs 0.0)
            "negotiation/missing": [0.0],
            "negotiation/error": [0.0],
        },
    }
    json.dumps(answer)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tokenizer", "/no/such/tokenizer"], "--tokenizer: cannot load '/no/such/tokenizer'"),
        (["--tokenizer", "no-such-org/no-such-model"], "--tokenizer: cannot load 'no-such-org/no-such-model'"),
    ],
)
def test_serve_bad_options_fail_before_binding(write_spec, args, message):
    spec = write_spec({"sources": {"guard": ["cot_leak"]}})
    result = CliRunner().invoke(app, ["serve", str(spec), *args])
    assert result.exit_code == 1 and message in result.output, result.output
