"""`repo-sdk train --trainer verl`: the data and the main_ppo command, every option checked by verl itself.

The written overrides are composed with verl's own hydra config (``ppo_trainer.yaml``, where an
unknown key fails) and passed through ``verl.utils.config.validate_config``, the check ``main_ppo``
runs before it starts Ray.
"""

from __future__ import annotations

import shlex

import pytest
from typer.testing import CliRunner

from repo_sdk.cli import app

pq = pytest.importorskip("pyarrow.parquet")


def train(*args):
    return CliRunner().invoke(app, ["train", "--trainer", "verl", *map(str, args)])


def overrides_of(script):
    argv = shlex.split(script.read_text().split("set -euo pipefail\n")[1].replace("\\\n", " "))
    assert argv[1:3] == ["-m", "verl.trainer.main_ppo"]
    return argv[3:]


@pytest.mark.parametrize("algo", ["ppo", "grpo"])
def test_every_override_passes_verls_own_config_checks(tmp_path, algo):
    pytest.importorskip("verl")
    from repo_sdk_verl.testing import compose_config
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config

    out = tmp_path / "run"
    result = train("--algo", algo, "--model", "tiny", "-o", out, "--steps", 20)
    assert result.exit_code == 0, result.output
    config = compose_config(overrides_of(out / "train_verl.sh"))
    # validate_config's last check, LoRA rank against vLLM's, imports vLLM (GPU only): run the rest with
    # the rank off, and check the rank against the ranks verl accepts without vLLM
    assert config.actor_rollout_ref.model.lora_rank in (1, 8, 16, 32, 64, 128, 256, 320, 512)
    config.actor_rollout_ref.model.lora_rank = 0
    validate_config(config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))

    assert need_critic(config) == (algo == "ppo")
    assert config.algorithm.adv_estimator == ("gae" if algo == "ppo" else "grpo")
    reward = config.reward.custom_reward_function
    assert (reward.path, reward.name) == ("pkg://repo_sdk_verl.reward", "compute_score")
    assert reward.reward_kwargs.spec.endswith("repo_sdk_verl/data/default_spec.yaml")
    assert config.trainer.total_training_steps == 20 and config.trainer.test_freq == 2
    assert config.actor_rollout_ref.rollout.n * config.data.train_batch_size == 4  # train.batch_size completions
    assert config.actor_rollout_ref.actor.optim.lr == 1e-6 and config.trainer.resume_mode == "disable"
    assert config.data.train_files == str(out / "train.parquet") and len(pq.read_table(out / "train.parquet")) == 12
    assert len(pq.read_table(config.data.val_files)) == 12


def test_the_spec_train_section_and_verl_overrides_reach_the_command(tmp_path, write_spec):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(f'{{"prompt": "offer {i}", "task": {{"target_price": {i}}}}}\n' for i in range(8)))
    spec = write_spec(
        {
            "name": "neg",
            "sources": {"g": ["cot_leak"]},
            "train": {
                "model": "tiny",
                "dataset": "prompts.jsonl",
                "steps": 5,
                "batch_size": 8,
                "save_steps": 2,
                "lora": None,
                "verl": {
                    "trainer.n_gpus_per_node": 8,
                    "reward.num_workers": None,
                    "trainer.logger": ["console", "file"],
                },
            },
        }
    )
    result = train("-c", spec, "-o", tmp_path / "run", "--resume")
    assert result.exit_code == 0, result.output
    args = overrides_of(tmp_path / "run" / "train_verl.sh")
    assert "trainer.n_gpus_per_node=8" in args and "trainer.n_gpus_per_node=1" not in args
    assert not [a for a in args if a.startswith("reward.num_workers")]  # null: verl's default
    assert {
        "trainer.save_freq=2",
        "trainer.resume_mode=auto",
        "trainer.experiment_name=neg",
        "data.train_batch_size=8",
    } <= set(args)
    assert "trainer.logger=[console,file]" in args and not [a for a in args if "lora" in a]
    assert f"+reward.custom_reward_function.reward_kwargs.spec={spec}" in args


@pytest.mark.parametrize(
    ("train_section", "message"),
    [
        ({"lora": {"dropout": 0.1}}, "train.lora.dropout: verl's FSDP LoRA has no dropout setting (got 0.1)"),
        (
            {"verl": {"trainer.n_gpu_per_node": 2}},
            "verl's config schema refuses the run: Could not override 'trainer.n_gpu_per_node'",
        ),
        ({"batch_size": 64, "num_generations": 4}, "12 prompts, fewer than one step needs (64"),
        ({"dataset": "nope.jsonl"}, "train.dataset: no such file"),
    ],
)
def test_a_bad_train_section_stops_with_one_line(tmp_path, write_spec, train_section, message):
    if "verl" in train_section:
        pytest.importorskip("verl")
    spec = write_spec({"sources": {"g": ["cot_leak"]}, "train": {"model": "some/hub-id", **train_section}})
    result = train("-c", spec, "-o", tmp_path / "run")
    assert result.exit_code == 1 and message in result.output and result.output.count("\n") == 1, result.output


def test_launch_without_a_gpu_says_what_is_missing_in_one_line(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = train("--launch", "--model", "some/hub-id", "-o", tmp_path / "run")
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error: launching verl needs a CUDA GPU and none is here")
    assert "vllm" in last and "TransferQueue" in last and str(tmp_path / "run" / "train_verl.sh") in last
    assert (tmp_path / "run" / "train_verl.sh").is_file()  # the run is written for a GPU machine


def test_the_embedded_demo_spec_validates():
    from repo_sdk_verl.launch import default_spec

    from repo_sdk.train_spec import parse_train_spec

    ts = parse_train_spec(default_spec())
    assert ts.model == "default" and ts.output_dir == "out/train-verl"
