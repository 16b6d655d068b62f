"""Build a TRL GRPO / RLOO run from a reward spec and train it.

The spec gives the reward (its sources and combiner, as one REPO callable) and
the run (its ``train:`` section: policy, dataset, steps, LoRA). Everything is
checked before the policy loads.

Example:
    >>> import tempfile
    >>> from repo_sdk.config import load
    >>> loaded = load({"sources": {"rules": ["cot_leak"]},
    ...                "train": {"model": "tiny", "steps": 1, "lora": {"rank": 4, "alpha": 8}}})
    >>> run = build_run(loaded, algo="grpo", output_dir=tempfile.mkdtemp())
    >>> run.policy.startswith("tiny random Llama"), type(run.trainer).__name__
    (True, 'GRPOTrainer')
    >>> import contextlib, io
    >>> with contextlib.redirect_stdout(io.StringIO()):  # the trainer prints its logs
    ...     steps = run.trainer.train().global_step
    >>> steps, "rewards/repo_reward/fired/cot_leak" in run.trainer.state.log_history[0]
    (1, True)
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from repo_sdk.config import LoadedSpec, load_spec
from repo_sdk.errors import ConfigError
from repo_sdk.io.atomic import atomic_dir, atomic_write
from repo_sdk.train_spec import TrainSpec, last_checkpoint, parse_train_spec
from repo_sdk_trl.data import DEFAULT_SPEC, load_prompts, packaged_file
from repo_sdk_trl.policy import load_policy
from repo_sdk_trl.reward_func import RepoRewardFunction

__all__ = ["TrainRun", "build_run", "default_spec", "train"]

Algo = Literal["grpo", "rloo"]


def default_spec() -> LoadedSpec:
    """The packaged default spec (rules-only reward, negotiation prompts, small CPU policy)."""
    return load_spec(packaged_file(DEFAULT_SPEC))


@dataclass
class TrainRun:
    """A ready-to-train run: the TRL trainer and what it was built from."""

    trainer: Any
    reward: RepoRewardFunction
    spec: TrainSpec
    output_dir: Path
    policy: str


def _trl_config(algo: Algo, ts: TrainSpec, output_dir: Path) -> Any:
    import torch
    from trl import GRPOConfig, RLOOConfig

    cls = GRPOConfig if algo == "grpo" else RLOOConfig
    known = {f.name for f in dataclasses.fields(cls)}
    for key in ts.trl:
        if key not in known:
            raise ConfigError(f"train.trl.{key}: not a {cls.__name__} field")
    base: dict[str, Any] = {
        "output_dir": str(output_dir),
        "max_steps": ts.steps,
        "per_device_train_batch_size": ts.batch_size,
        "num_generations": ts.num_generations,
        "max_completion_length": ts.max_new_tokens,
        "learning_rate": ts.learning_rate,
        "seed": ts.seed,
        "logging_steps": 1,
        "report_to": "none",
        "save_strategy": "no",
    }
    if ts.save_steps is not None:
        base |= {"save_strategy": "steps", "save_steps": ts.save_steps, "save_total_limit": 2}
    if not torch.cuda.is_available():
        base |= {"use_cpu": True, "bf16": False}
    try:
        return cls(**(base | ts.trl))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"train: {cls.__name__} rejects the settings: {exc}") from None


def _peft_config(ts: TrainSpec) -> Any:
    if ts.lora is None:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=ts.lora.rank,
        lora_alpha=ts.lora.alpha,
        lora_dropout=ts.lora.dropout,
        target_modules=ts.lora.target_modules,
        task_type="CAUSAL_LM",
    )


def build_run(
    loaded: LoadedSpec,
    *,
    algo: Algo = "grpo",
    output_dir: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    callbacks: list[Any] | None = None,
) -> TrainRun:
    """Validate the spec's ``train:`` section, load policy and data, and build the TRL trainer.

    Args:
        loaded: the validated reward spec.
        algo: ``grpo`` (GRPOTrainer) or ``rloo`` (RLOOTrainer).
        output_dir: overrides ``train.output_dir``.
        overrides: ``train:`` keys set from the command line (``steps``, ``model``, ...).
        callbacks: extra ``transformers.TrainerCallback`` objects.
    """
    if algo not in ("grpo", "rloo"):
        raise ConfigError(f"--algo: expected grpo or rloo, got {algo!r}")
    ts = parse_train_spec(loaded, overrides)
    out = Path(output_dir or ts.output_dir)
    config = _trl_config(algo, ts, out)  # before anything heavy loads
    reward = RepoRewardFunction(
        loaded, task_column=ts.task_column, task_columns=ts.task_columns, log=ts.log, gather_groups=ts.gather_groups
    )
    reward.build()  # the sources now: a broken RM or judge fails before the policy loads
    dataset = load_prompts(
        ts.dataset, base_dir=loaded.base_dir, prompt_column=ts.prompt_column, task_column=ts.task_column
    )
    model, tokenizer, policy = load_policy(ts.model, out, base_dir=loaded.base_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    from trl import GRPOTrainer, RLOOTrainer

    trainer_cls = GRPOTrainer if algo == "grpo" else RLOOTrainer
    trainer = trainer_cls(
        model=model,
        reward_funcs=[reward],
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=_peft_config(ts),
        callbacks=callbacks,
    )
    return TrainRun(trainer, reward, ts, out, policy)


def train(
    loaded: LoadedSpec,
    *,
    algo: Algo = "grpo",
    output_dir: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    resume: bool = False,
) -> TrainRun:
    """Build the run, train it, save the final weights (the LoRA adapter) and the log history.

    Writes ``<output_dir>/final/`` and ``<output_dir>/log_history.jsonl``, each replaced
    whole (a crash never leaves half of either); with ``train.save_steps``, checkpoints
    ``<output_dir>/checkpoint-N/`` on the way. ``resume`` goes on from the newest
    checkpoint: the policy, optimizer, scheduler, RNG states and step count.

    Raises:
        ConfigError: ``resume`` with no checkpoint in the output directory.
    """
    checkpoint = None
    if resume:  # before anything loads
        out = Path(output_dir or parse_train_spec(loaded, overrides).output_dir)
        checkpoint = last_checkpoint(out)
        if checkpoint is None:
            raise ConfigError(f"--resume: no checkpoint in {out} to resume from (train.save_steps writes them)")
    run = build_run(loaded, algo=algo, output_dir=output_dir, overrides=overrides)
    try:
        run.trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        atomic_dir(run.output_dir / "final", lambda folder: run.trainer.save_model(str(folder)))
        with atomic_write(run.output_dir / "log_history.jsonl") as fh:
            for row in run.trainer.state.log_history:
                fh.write(json.dumps(row) + "\n")
    finally:
        run.reward.close()
    return run
