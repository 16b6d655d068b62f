"""`repo-sdk train --trainer openrlhf`: the train_ppo_ray command, checked against the installed OpenRLHF."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openrlhf
import pytest
from openrlhf.utils.agent import SingleTurnAgentExecutor
from typer.testing import CliRunner

from repo_sdk.cli import app

SPEC = {
    "name": "negotiation",
    "sources": {"rules": ["cot_leak"]},
    "train": {"model": "tiny", "steps": 3, "batch_size": 4, "max_new_tokens": 256, "lora": {"rank": 64, "alpha": 64}},
}


def declared_flags() -> set[str]:
    """Every flag the installed train_ppo_ray declares (its parser is built under __main__)."""
    source = (Path(openrlhf.__file__).parent / "cli" / "train_ppo_ray.py").read_text()
    names = set(re.findall(r'add_argument\(\s*"--([\w.]+)"', source))
    for templ in re.findall(r'add_argument\(\s*f"--\{prefix\}\.([\w.]+)"', source):
        names |= {f"actor.{templ}", f"critic.{templ}"}
    return names


def flags_of(command: list[str]) -> dict[str, list[str]]:
    flags: dict[str, list[str]] = {}
    key = None
    for arg in command[2:]:
        if arg.startswith("--"):
            key = arg[2:]
            flags[key] = []
        else:
            flags[key].append(arg)
    return flags


def run_script(script: Path, tmp_path: Path) -> list[str]:
    """Run the script with bash, a fake `python` first on PATH recording the arguments it gets."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "python"
    fake.write_text('#!/usr/bin/env bash\nprintf \'%s\\n\' "$@" > "$ARGV_OUT"\n')
    fake.chmod(0o755)
    argv_out = tmp_path / "argv.txt"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "ARGV_OUT": str(argv_out)}
    env.pop("PYTHON", None)
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return argv_out.read_text().splitlines()


def plan(write_spec, tmp_path, *args, spec=SPEC):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["train", "--trainer", "openrlhf", "-c", str(write_spec(spec)), "-o", str(out), *args]
    )
    assert result.exit_code == 0, result.output
    command = run_script(out / "train_ppo_ray.sh", tmp_path)
    return out, flags_of(command), command


def test_ppo_with_critic_gae_lora_and_the_exported_reward(write_spec, tmp_path):
    out, flags, command = plan(write_spec, tmp_path)
    assert command[:2] == ["-m", "openrlhf.cli.train_ppo_ray"]
    assert set(flags) <= declared_flags(), set(flags) - declared_flags()
    actor = str(out / "tiny-policy")
    assert flags["actor.model_name_or_path"] == flags["critic.model_name_or_path"] == [actor]
    assert flags["algo.advantage.estimator"] == ["gae"]
    assert flags["ds.lora.rank"] == ["64"] and flags["ds.lora.alpha"] == ["64"]
    assert flags["data.max_samples"] == ["12"] and flags["rollout.batch_size"] == ["4"]
    assert flags["rollout.max_new_tokens"] == ["256"] and flags["data.apply_chat_template"] == []
    assert flags["reward.remote_url"] == [str(out / "reward.py")]
    # the reward file and the prompts it reads labels from work with OpenRLHF's executor
    row = json.loads((out / "prompts.jsonl").read_text().splitlines()[0])
    assert json.loads(row["label"])["task"]["target_price"] == 95
    executor = SingleTurnAgentExecutor(str(out / "reward.py"))
    got = executor.reward_func(
        ["<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>x</think>80?"],
        ["<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"],
        [row["label"]],
    )
    assert got["rewards"].tolist() == pytest.approx([-0.1])


def test_reward_servers_agent_and_passthrough_flags(write_spec, tmp_path):
    _, flags, _ = plan(write_spec, tmp_path, "--reward-url", "http://a:5000/get_reward,http://b:5000/get_reward")
    assert flags["reward.remote_url"] == ["http://a:5000/get_reward,http://b:5000/get_reward"]

    out, flags, _ = plan(write_spec, tmp_path, "--agent", "--max-turns", "3")
    assert flags["train.agent_func_path"] == [str(out / "agent.py")] and "reward.remote_url" not in flags
    assert "max_turns=3" in (out / "agent.py").read_text()

    spec = {
        **SPEC,
        "train": {
            **SPEC["train"],
            "openrlhf": {
                "algo.advantage.lambd": 0.9,
                "vllm.num_engines": 2,
                "train.colocate_all": False,
                "ds.packing_samples": True,
                "ds.lora.target_modules": ["q_proj", "v_proj"],
            },
        },
    }
    _, flags, _ = plan(write_spec, tmp_path, spec=spec)
    assert flags["algo.advantage.lambd"] == ["0.9"] and flags["vllm.num_engines"] == ["2"]
    assert "train.colocate_all" not in flags and flags["ds.packing_samples"] == []
    assert flags["ds.lora.target_modules"] == ["q_proj", "v_proj"]
    assert set(flags) <= declared_flags()


def test_launch_without_the_gpu_stack_says_what_to_install(write_spec, tmp_path):
    result = CliRunner().invoke(
        app, ["train", "--trainer", "openrlhf", "-c", str(write_spec(SPEC)), "-o", str(tmp_path / "run"), "--launch"]
    )
    assert result.exit_code == 1
    assert "error: launching OpenRLHF's train_ppo_ray (GPU only) needs an optional dependency: pip install" in (
        result.output
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--algo", "grpo"], "--algo: openrlhf supports ppo, got 'grpo'"),
        (["--agent", "--reward-url", "http://x/get_reward"], "--agent scores in-process"),
    ],
)
def test_bad_options(write_spec, tmp_path, args, message):
    result = CliRunner().invoke(app, ["train", "--trainer", "openrlhf", "-c", str(write_spec(SPEC)), *args])
    assert result.exit_code == 1 and message in result.output, result.output


def test_checkpoints_and_resume_map_to_openrlhf_flags(write_spec, tmp_path):
    _, flags, _ = plan(write_spec, tmp_path)
    assert "ckpt.save_steps" not in flags and "ckpt.load_enable" not in flags
    spec = {**SPEC, "train": {**SPEC["train"], "save_steps": 5}}
    _, flags, _ = plan(write_spec, tmp_path, "--resume", spec=spec)
    assert flags["ckpt.save_steps"] == ["5"] and flags["ckpt.load_enable"] == []
    assert set(flags) <= declared_flags()


def test_the_run_folder_runs_where_it_is_copied(write_spec, tmp_path):
    """The script reads as one option per line, holds no path of this machine, finds its files
    relative to itself and runs `python` from the environment; its reward file still scores."""
    out, _, _ = plan(write_spec, tmp_path)
    text = (out / "train_ppo_ray.sh").read_text()
    assert str(tmp_path) not in text and sys.executable not in text
    body = [
        line.removesuffix(" \\")
        for line in text.split('HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"\n', 1)[1].splitlines()
    ]
    assert body[0] == '"${PYTHON:-python}" -m openrlhf.cli.train_ppo_ray'
    assert all(line.startswith("  --") for line in body[1:]), body  # one option (and its values) per line
    assert "  --ds.lora.target_modules all-linear" in body and '  --reward.remote_url "$HERE/reward.py"' in body

    moved = tmp_path.parent / (tmp_path.name + "-moved")
    shutil.copytree(tmp_path, moved, ignore=shutil.ignore_patterns("fake-bin", "argv.txt"))
    shutil.rmtree(out)
    flags = flags_of(run_script(moved / "run" / "train_ppo_ray.sh", moved))
    assert flags["actor.model_name_or_path"] == [str(moved / "run" / "tiny-policy")]
    assert flags["data.prompt_dataset"] == [str(moved / "run" / "prompts.jsonl")]
    assert flags["ckpt.path"] == [str(moved / "run" / "ckpt" / "checkpoints")]
    reward = flags["reward.remote_url"][0]
    assert reward == str(moved / "run" / "reward.py")
    row = json.loads((moved / "run" / "prompts.jsonl").read_text().splitlines()[0])
    got = SingleTurnAgentExecutor(reward).reward_func(
        ["<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>x</think>80?"],
        ["<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"],
        [row["label"]],
    )
    assert got["rewards"].tolist() == pytest.approx([-0.1])
