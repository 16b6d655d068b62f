"""`train_rm`: TRL's RewardTrainer learns the toy preference, and the output loads into the source."""

from __future__ import annotations

import json

import pytest

from repo_sdk.errors import InputError
from repo_sdk.interfaces import BuildContext
from repo_sdk.plugins import get_registry
from repo_sdk.rm.pairs import PreferencePair, split_pairs
from repo_sdk.rm.source import RMConfig, RMSource
from repo_sdk.rm.train import RMTrainOptions, train_rm
from repo_sdk.testing import make_sample

FAST = RMTrainOptions(epochs=3, learning_rate=3e-3, batch_size=8, show_progress=False)


def fast(**settings) -> RMTrainOptions:
    """The fast settings with ``settings`` on top (validated, as the CLI's are)."""
    return RMTrainOptions(**{**FAST.model_dump(), **settings})


def heldout_accuracy_via_source(output, pairs, seed=0):
    _, held = split_pairs(pairs, 0.2, seed)
    src = RMSource.from_config(RMConfig(path=str(output)), BuildContext(registry=get_registry()))
    try:

        def score(which):
            return [
                s.value
                for s in src.score(
                    [make_sample(response=getattr(p, which), task=p.task, history=p.history) for p in held]
                )
            ]

        return sum(c > r for c, r in zip(score("chosen"), score("rejected"), strict=True)) / len(held)
    finally:
        src.close()


@pytest.fixture(scope="module")
def trained(tiny_llama, pairs_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("trained") / "rm"
    lines = []
    result = train_rm(pairs_file, out, fast(base=tiny_llama), log=lines.append)
    return result, out, lines


def test_learns_the_separable_toy_set_above_chance(trained):
    result, _, lines = trained
    assert (result.train_pairs, result.heldout_pairs) == (32, 8)
    assert result.heldout_accuracy is not None and result.heldout_accuracy >= 0.75
    assert result.train_accuracy >= 0.9
    assert lines[0].startswith("40 pairs: 32 to train, 8 held out")


def test_training_direction_comes_from_the_labels(tiny_llama, pairs_file, make_pairs, tmp_path):
    # Same data with chosen/rejected swapped: the trained RM must rank the original pairs the other way.
    flipped = [
        PreferencePair.model_validate({**p, "chosen": p["rejected"], "rejected": p["chosen"]}) for p in make_pairs(40)
    ]
    result = train_rm(flipped, tmp_path / "flipped", fast(base=tiny_llama))
    assert result.heldout_accuracy is not None and result.heldout_accuracy >= 0.75
    original = [PreferencePair.model_validate(p) for p in make_pairs(40)]
    assert heldout_accuracy_via_source(tmp_path / "flipped", original) <= 0.25


def test_output_loads_into_the_source_with_the_same_accuracy(trained, make_pairs):
    result, out, _ = trained
    pairs = [PreferencePair.model_validate(p) for p in make_pairs(40)]
    assert heldout_accuracy_via_source(out, pairs) == result.heldout_accuracy
    meta = json.loads((out / "repo_rm.json").read_text())
    assert meta["render"]["task_placement"] == "system"
    assert meta["result"]["heldout_accuracy"] == result.heldout_accuracy
    cal = json.loads((out / "calibration.json").read_text())
    assert cal["count"] == 64 and cal["std"] > 0
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_lora_adapter_is_merged_into_a_plain_model(tiny_qwen, pairs_file, tmp_path):
    out = tmp_path / "lora-rm"
    result = train_rm(pairs_file, out, fast(base=tiny_qwen, lora_r=4))
    assert result.heldout_accuracy is not None
    assert not (out / "adapter_config.json").exists()
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["Qwen2ForSequenceClassification"]
    src = RMSource.from_config(RMConfig(path=str(out)), BuildContext(registry=get_registry()))
    try:
        assert src.score([make_sample()])[0].value is not None
    finally:
        src.close()


def test_a_crash_leaves_no_half_written_model(tiny_llama, pairs_file, tmp_path):
    def boom(message):
        if message.startswith("training"):
            raise RuntimeError("killed mid-training")

    with pytest.raises(RuntimeError, match="killed"):
        train_rm(pairs_file, tmp_path / "rm", fast(base=tiny_llama), log=boom)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_overwrite(tiny_llama, pairs_file, tmp_path):
    out = tmp_path / "rm"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="exists"):
        train_rm(pairs_file, out, fast(base=tiny_llama))
    assert (out / "keep.txt").exists()
    train_rm(pairs_file, out, fast(base=tiny_llama, overwrite=True, epochs=1))
    assert not (out / "keep.txt").exists() and (out / "model.safetensors").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rm"]


def test_bad_base_is_an_input_error(pairs_file, tmp_path):
    with pytest.raises(InputError, match="not a model directory"):
        train_rm(pairs_file, tmp_path / "rm", fast(base=tmp_path))


def test_causal_lm_base_gets_a_reward_head(tmp_path, pairs_file):
    from repo_sdk.rm.tiny import build_tiny_model

    base = build_tiny_model(tmp_path / "policy", head="causal-lm")
    result = train_rm(pairs_file, tmp_path / "rm", fast(base=base, epochs=1))
    config = json.loads((tmp_path / "rm" / "config.json").read_text())
    assert config["architectures"] == ["LlamaForSequenceClassification"] and result.train_pairs == 32
    assert json.loads((tmp_path / "rm" / "repo_rm.json").read_text())["render"]["max_length"] == 512


def test_an_interrupted_run_resumes_from_its_newest_checkpoint(tiny_llama, pairs_file, tmp_path, monkeypatch):
    """Ctrl-C after 5 steps keeps the checkpoints; --resume trains only the steps that were left."""
    from trl import RewardTrainer

    out = tmp_path / "rm"
    real_step = RewardTrainer.training_step
    steps: list[int] = []

    def counted(self, *args, **kwargs):
        if len(steps) == 5 and not getattr(self, "_resumed", False):
            raise KeyboardInterrupt
        steps.append(self.state.global_step)
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(RewardTrainer, "training_step", counted)
    settings = {
        "base": tiny_llama,
        "epochs": 3,
        "batch_size": 8,
        "save_steps": 2,
    }  # 32 pairs / 8: 4 steps an epoch, 12 in all
    with pytest.raises(KeyboardInterrupt):
        train_rm(pairs_file, out, fast(**settings))
    checkpoints = tmp_path / ".rm.checkpoints"
    assert not out.exists()
    assert sorted(p.name for p in checkpoints.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]

    steps.clear()
    monkeypatch.setattr(RewardTrainer, "_resumed", True, raising=False)
    lines: list[str] = []
    result = train_rm(pairs_file, out, fast(**settings, resume=True), log=lines.append)
    assert steps == list(range(4, 12))  # steps 5..12 (0-based 4..11): the 4 saved ones are not trained again
    assert any("resuming from checkpoint-4" in line for line in lines)
    assert result.heldout_accuracy is not None and (out / "model.safetensors").exists()
    assert not checkpoints.exists()  # the RM is saved: the checkpoints are gone


def test_resume_with_nothing_to_resume_is_an_input_error(tiny_llama, pairs_file, tmp_path):
    with pytest.raises(InputError, match=r"--resume: no checkpoint in .*\.rm\.checkpoints"):
        train_rm(pairs_file, tmp_path / "rm", fast(base=tiny_llama, resume=True))
    assert list(tmp_path.iterdir()) == []
