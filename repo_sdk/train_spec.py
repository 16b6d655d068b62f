"""The spec's ``train:`` section, read by ``repo-sdk train`` for every trainer.

Keys (the TRL adapter reads them all; the OpenRLHF adapter maps them to flags):

    train:
      model: default        # default | tiny | HF model dir | .gguf file | hub id
      dataset: default      # default | JSONL of prompts (relative to the spec)
      prompt_column: prompt # string or list of {role, content} messages
      task_column: task     # a dict (or its JSON) with the task info; null for none
      task_columns: []      # flat columns merged into the task
      steps: 3              # optimizer steps
      batch_size: 4         # completions per step (a multiple of num_generations)
      num_generations: 4    # completions per prompt (the group)
      max_new_tokens: 64
      learning_rate: 1.0e-6 # the paper's
      lora: {rank: 64, alpha: 64, dropout: 0.0, target_modules: all-linear}  # null: full fine-tuning
      seed: 42
      output_dir: out/train
      save_steps: null      # a resumable checkpoint every N steps (last two kept); --resume goes on from it
      log: summary          # trainer logs: summary (source means, rule fire rates, E, multiplier) | full
      gather_groups: true   # multi-process TRL: gather each group's scores for group-aware combiners
      trl: {}               # extra GRPOConfig / RLOOConfig fields, passed as they are
      openrlhf: {}          # read by the OpenRLHF adapter
      verl: {}              # read by the verl adapter (hydra overrides of verl's main_ppo)

For OpenRLHF's PPO (actor, critic, GAE) they map to ``train_ppo_ray`` flags:

    model           --actor.model_name_or_path, --critic.model_name_or_path
                    (default: HuggingFaceTB/SmolLM2-135M-Instruct; tiny: built into output_dir)
    dataset         written to <output_dir>/prompts.jsonl with the task as the label
    steps           --data.max_samples = steps * batch_size, one episode: one PPO step per rollout batch
    batch_size      --rollout.batch_size and --train.batch_size (one reply per prompt, as in the paper)
    max_new_tokens  --rollout.max_new_tokens
    learning_rate   --actor.adam.lr
    lora            --ds.lora.rank / alpha / dropout / target_modules
    seed            --train.seed
    output_dir      --ckpt.output_dir, --ckpt.path
    save_steps      --ckpt.save_steps (--resume adds --ckpt.load_enable)
    log             the reward file's and agent's extra_logs (summary: no telemetry)
    openrlhf        any further flags, e.g. {"algo.advantage.lambd": 0.95, "vllm.num_engines": 2};
                    true adds a bare flag, false or null drops one

For verl (``repo-sdk train --trainer verl``) they map to ``verl.trainer.main_ppo``
overrides; ``repo_sdk_verl.launch`` lists them, and ``verl`` adds or overrides any.

``num_generations``, ``trl`` and the column names of the TRL run are accepted and,
where PPO has no use for them, ignored.

Example:
    >>> TrainSpec.model_validate({"lora": {"rank": 8}}).lora.alpha
    64.0
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from repo_sdk.config import LoadedSpec
from repo_sdk.errors import SpecError
from repo_sdk.plugin_config import validate_config
from repo_sdk.plugins import get_registry

__all__ = ["LoraSpec", "TrainSpec", "last_checkpoint", "parse_train_spec"]


class LoraSpec(BaseModel):
    """LoRA through peft; the paper uses rank 64, alpha 64."""

    model_config = ConfigDict(extra="forbid")

    rank: int = Field(64, ge=1)
    alpha: float = Field(64.0, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: str | list[str] = "all-linear"


class TrainSpec(BaseModel):
    """The ``train:`` section (see the module docs for every key)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field("default", description="default | tiny | HF model dir | .gguf file | hub id")
    dataset: str = Field("default", description="default | JSONL of prompts, relative to the spec")
    prompt_column: str = "prompt"
    task_column: str | None = "task"
    task_columns: list[str] = Field(default_factory=list)
    steps: int = Field(3, ge=1, description="optimizer steps")
    num_generations: int = Field(4, ge=2, description="completions per prompt")
    batch_size: int = Field(4, ge=1, description="completions per step, a multiple of num_generations")
    max_new_tokens: int = Field(64, ge=1)
    learning_rate: float = Field(1e-6, gt=0)
    lora: LoraSpec | None = Field(default_factory=LoraSpec)
    seed: int = 42
    output_dir: str = "out/train"
    save_steps: int | None = Field(
        None, ge=1, description="write a resumable checkpoint every N steps (the last two are kept); null: none"
    )
    log: Literal["summary", "full"] = Field(
        "summary",
        description="trainer logs: summary (each source's mean, rule fire rates, E, multiplier) or full "
        "(also every combiner detail and the sources' telemetry per reward call)",
    )
    gather_groups: bool = Field(
        True,
        description="multi-process TRL: gather every process's scores so a group-aware combiner sees whole "
        "groups; false refuses such a combiner there",
    )
    trl: dict[str, Any] = Field(default_factory=dict, description="extra GRPOConfig / RLOOConfig fields")
    openrlhf: dict[str, Any] = Field(default_factory=dict, description="read by the OpenRLHF adapter")
    verl: dict[str, Any] = Field(default_factory=dict, description="hydra overrides of verl's main_ppo")

    @field_validator("batch_size")
    @classmethod
    def _whole_groups(cls, value: int, info: ValidationInfo) -> int:
        groups = info.data.get("num_generations")
        if groups and value % groups:
            raise ValueError(f"must be a multiple of num_generations ({groups})")
        return value


def parse_train_spec(loaded: LoadedSpec, overrides: dict[str, Any] | None = None) -> TrainSpec:
    """Validate ``loaded.spec.train`` (plus CLI overrides); SpecError (a ConfigError) names the key path.

    Example:
        >>> from repo_sdk.config import load
        >>> parse_train_spec(load({"sources": {"r": ["cot_leak"]}, "train": {"steps": 0}}))
        Traceback (most recent call last):
        ...
        repo_sdk.errors.SpecError: <spec>: train.steps: Input should be greater than or equal to 1 (got 0)
    """
    data = {**(loaded.spec.train or {}), **{k: v for k, v in (overrides or {}).items() if v is not None}}
    try:
        return validate_config(TrainSpec, data, get_registry(), ("train",))
    except SpecError as exc:
        raise exc.at(loaded.where) from None


def last_checkpoint(folder: str | Path) -> Path | None:
    """The newest ``checkpoint-N`` a transformers trainer wrote in ``folder`` (one holding its
    ``trainer_state.json``), or None; what ``--resume`` goes on from, for the policy and the RM.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> for n in (2, 10):
        ...     (d / f"checkpoint-{n}").mkdir(); _ = (d / f"checkpoint-{n}" / "trainer_state.json").write_text("{}")
        >>> (d / "checkpoint-12").mkdir()  # no trainer state: a save that did not finish
        >>> last_checkpoint(d).name
        'checkpoint-10'
    """
    found = [
        (int(p.name.removeprefix("checkpoint-")), p)
        for p in Path(folder).glob("checkpoint-*")
        if p.name.removeprefix("checkpoint-").isdigit() and (p / "trainer_state.json").is_file()
    ]
    return max(found)[1] if found else None
