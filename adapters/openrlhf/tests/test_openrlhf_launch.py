"""`repo-sdk train --trainer openrlhf`: the train_ppo_ray command, checked against the installed OpenRLHF."""

from __future__ import annotations

import json
import re
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
    for arg in command[3:]:
        if arg.startswith("--"):
            key = arg[2:]
            flags[key] = []
        else:
            flags[key].append(arg)
    return flags


def plan(write_spec, tmp_path, *args, spec=SPEC):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["train", "--trainer", "openrlhf", "-c", str(write_spec(spec)), "-o", str(out), *args]
    )
    assert result.exit_code == 0, result.output
    script = (out / "train_ppo_ray.sh").read_text()
    command = script.split("set -euo pipefail\n", 1)[1].replace("\\\n", " ").split()
    return out, flags_of(command), command


def test_ppo_with_critic_gae_lora_and_the_exported_reward(write_spec, tmp_path):
    out, flags, command = plan(write_spec, tmp_path)
    assert command[1:3] == ["-m", "openrlhf.cli.train_ppo_ray"]
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
