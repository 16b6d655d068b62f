"""Group-aware combiners under multi-process training: a GRPO group split over two processes
(a real 2-process gloo group on CPU, each process a separate Python) is combined whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from repo_sdk_trl import repo_reward_func

SPEC = {
    "sources": {"guard": ["cot_leak"], "length": [{"name": "max_length", "max_chars": 12, "points": -5}]},
    "combiner": {"type": "normalize_then_sum"},
}
PROMPTS = ["We offer 95 EUR."] * 3 + ["Our rate is 120."]
COMPLETIONS = ["80?", "<think>x</think>80 EUR, please, for two nights", "Could you do 85?", "Deal."]
# rank 0 scores items 0-1, rank 1 items 2-3: the first prompt's group (0, 1, 2) straddles both

RANK_SCRIPT = """
import asyncio, json, sys
from datetime import timedelta
import torch.distributed as dist
from repo_sdk_trl import repo_reward_func

rank, rendezvous, out, gather = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "1"
spec, prompts, completions = json.loads(sys.argv[5])
# met through a file, not a TCP port picked beforehand (another test could take that port in between)
dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=2,
                        timeout=timedelta(seconds=60))
fn = repo_reward_func(spec, gather_groups=gather)
mine = slice(2 * rank, 2 * rank + 2)
try:
    async def trainer_step():  # as TRL calls it: awaited on its event loop
        return await fn(prompts=prompts[mine], completions=completions[mine])
    awaited = asyncio.run(trainer_step())
    direct = fn(prompts=prompts[mine], completions=completions[mine])  # and called synchronously
    result = {"awaited": awaited, "direct": direct}
except Exception as exc:
    result = {"error": f"{type(exc).__name__}: {exc}"}
with open(out, "w") as fh:
    json.dump(result, fh)
dist.destroy_process_group()
"""


def run_two_ranks(tmp_path: Path, gather: bool) -> list[dict]:
    script = tmp_path / "rank.py"
    script.write_text(textwrap.dedent(RANK_SCRIPT))
    meet, data = str(tmp_path / "rendezvous"), json.dumps([SPEC, PROMPTS, COMPLETIONS])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(r), meet, str(tmp_path / f"r{r}.json"), "1" if gather else "0", data],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for r in (0, 1)
    ]
    try:
        logs = [p.communicate(timeout=180)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in procs), logs
    return [json.loads((tmp_path / f"r{r}.json").read_text()) for r in (0, 1)]


def test_a_group_split_over_two_processes_is_combined_whole(tmp_path):
    whole = repo_reward_func(SPEC)(prompts=PROMPTS, completions=COMPLETIONS)
    halves = [repo_reward_func(SPEC)(prompts=PROMPTS[i : i + 2], completions=COMPLETIONS[i : i + 2]) for i in (0, 2)]
    assert halves[0] + halves[1] != whole  # the split changes the z-scores: the test can tell
    ranks = run_two_ranks(tmp_path, gather=True)
    for key in ("awaited", "direct"):
        assert ranks[0][key] + ranks[1][key] == pytest.approx(whole), ranks


def test_without_gathering_a_split_group_is_refused_in_one_line(tmp_path):
    ranks = run_two_ranks(tmp_path, gather=False)
    for result in ranks:
        message = result["error"]
        assert message.startswith("ConfigError: repo_reward: combiner normalize_then_sum needs whole groups")
        assert "gather_groups is False; set gather_groups=True (train.gather_groups)" in message
        assert "\n" not in message
