"""The real TRL trainers train a tiny policy with the REPO reward; per-source metrics reach the logs."""

from __future__ import annotations

import json

import pytest
from repo_sdk_trl.train import build_run, train
from typer.testing import CliRunner

from repo_sdk.cli import app
from repo_sdk.config import load_spec

SPEC = {
    "name": "negotiation",
    "sources": {
        "rm": {"type": "echo_rm"},
        "guard": ["cot_leak"],
        "length": [{"name": "max_length", "max_chars": 20, "points": -30}],
    },
    "train": {
        "model": "tiny",
        "steps": 2,
        "num_generations": 2,
        "batch_size": 4,
        "max_new_tokens": 12,
        "learning_rate": 1.0e-3,
        "lora": {"rank": 4, "alpha": 8},
        "trl": {"gradient_checkpointing": False},
    },
}


def test_grpo_trains_with_repo_reward_and_logs_each_source(echo_rm, write_spec, tmp_path):
    run = train(load_spec(write_spec(SPEC)), algo="grpo", output_dir=tmp_path / "out")
    history = run.trainer.state.log_history
    steps = [row for row in history if "reward" in row]
    assert run.trainer.state.global_step == 2 and len(steps) == 2
    for row in steps:
        for key in ("rm", "guard", "length"):
            assert f"rewards/negotiation/{key}/mean" in row
        assert {"rewards/negotiation/fired/cot_leak", "rewards/negotiation/fired/max_length"} <= set(row)
        assert "rewards/negotiation/mean" in row  # TRL's own metric, named after the spec
        # the length source is max_length alone at -30 points: its mean is -30 x its fire rate
        fired = row["rewards/negotiation/fired/max_length"]
        assert row["rewards/negotiation/length/mean"] == pytest.approx(-30 * fired)
    assert (tmp_path / "out" / "final" / "adapter_config.json").exists()  # LoRA through peft
    logged = [json.loads(line) for line in (tmp_path / "out" / "log_history.jsonl").read_text().splitlines()]
    assert logged == history


def test_rloo_builds_and_steps(echo_rm, write_spec, tmp_path):
    spec = {**SPEC, "train": {**SPEC["train"], "steps": 1}}
    run = build_run(load_spec(write_spec(spec)), algo="rloo", output_dir=tmp_path / "out")
    run.trainer.train()
    assert any("rewards/negotiation/rm/mean" in row for row in run.trainer.state.log_history)


def test_cli_train_runs_the_spec(echo_rm, write_spec, tmp_path):
    spec = {**SPEC, "train": {**SPEC["train"], "steps": 1}}
    path = write_spec(spec)
    result = CliRunner().invoke(app, ["train", "--trainer", "trl", "--config", str(path), "-o", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "rewards/negotiation/guard/mean" in result.output
    assert (tmp_path / "cli" / "final").is_dir()


@pytest.mark.parametrize(
    ("train_section", "args", "message"),
    [
        ({"steps": 0}, [], "train.steps: Input should be greater than or equal to 1"),
        ({"batch_size": 3, "num_generations": 2}, [], "train.batch_size: must be a multiple of num_generations"),
        ({"lora": {"rnk": 4}}, [], "train.lora.rnk: unknown key"),
        ({"trl": {"no_such_field": 1}}, [], "train.trl.no_such_field: not a GRPOConfig field"),
        ({"model": "does/not-exist-here"}, [], "train.model: cannot load 'does/not-exist-here'"),
        ({}, ["--algo", "ppo"], "--algo: trl supports grpo, rloo, got 'ppo'"),
        ({}, ["--trainer", "deepspeed"], "--trainer: expected trl, openrlhf or verl, got 'deepspeed'"),
        ({}, ["--launch"], "--launch, --reward-url and --agent are for --trainer openrlhf"),
    ],
)
def test_cli_train_errors_are_one_line(write_spec, train_section, args, message):
    path = write_spec({"sources": {"rules": ["cot_leak"]}, "train": train_section})
    result = CliRunner().invoke(app, ["train", "--config", str(path), *args])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], result.output


def test_checkpoints_and_resume_go_on_where_the_run_stopped(echo_rm, write_spec, tmp_path):
    """A run that wrote checkpoints is resumed by a longer one: steps 1-2 are restored, only step 3 is trained."""
    out = tmp_path / "out"
    spec = write_spec({**SPEC, "train": {**SPEC["train"], "steps": 2, "save_steps": 1}})
    first = train(load_spec(spec), algo="grpo", output_dir=out)
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]
    first_rows = [row for row in first.trainer.state.log_history if "reward" in row]

    result = CliRunner().invoke(app, ["train", "--config", str(spec), "-o", str(out), "--steps", "3", "--resume"])
    assert result.exit_code == 0, result.output
    logged = [json.loads(line) for line in (out / "log_history.jsonl").read_text().splitlines()]
    rows = [row for row in logged if "reward" in row]
    assert [row["step"] for row in rows] == [1, 2, 3]
    assert rows[:2] == first_rows  # restored from the checkpoint (timings and all), not trained again
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-3"]
    assert (out / "final" / "adapter_config.json").exists()
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # swapped in whole, nothing left over


def test_resume_without_a_checkpoint_is_a_one_line_error(echo_rm, write_spec, tmp_path):
    spec = write_spec({**SPEC, "train": {**SPEC["train"], "steps": 1}})
    result = CliRunner().invoke(app, ["train", "--config", str(spec), "-o", str(tmp_path / "empty"), "--resume"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"error: --resume: no checkpoint in {tmp_path / 'empty'} to resume from (train.save_steps writes them)"
    )
