"""The settings of one RM training run, in one object (``repo-sdk rm train``'s options).

:func:`~repo_sdk.rm.train.train_rm` takes an :class:`RMTrainOptions`; the CLI builds
one from its flags, ``init`` holds the starter RM's as a constant, and each field's
description is the flag's help text, so the settings are described once.

Example:
    >>> options = RMTrainOptions(epochs=1, augment=True)
    >>> options.epochs, options.augment_per_pair, options.task_placement
    (1.0, 3, 'system')
    >>> options.model_copy(update={"seed": 7}).seed
    7
    >>> RMTrainOptions(task_placement="footer")
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for RMTrainOptions
    ...
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk.rm.render import TaskPlacement

__all__ = ["RMTrainOptions"]


class RMTrainOptions(BaseModel):
    """How to train an RM: base, schedule, LoRA, rendering, checkpoints, augmentation, progress."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: Path | None = Field(None, description="base model directory (default: the packaged all-MiniLM-L6-v2)")
    eval_fraction: float = Field(0.2, description="share of pairs held out for the accuracy report")
    epochs: float = Field(3.0, gt=0, description="training epochs")
    learning_rate: float = Field(5e-5, gt=0, description="learning rate")
    batch_size: int = Field(8, ge=1, description="pairs per training step")
    max_length: int | None = Field(
        None, ge=1, description="longest input in tokens (default: the base's limit, at most 512)"
    )
    lora_r: int = Field(0, ge=0, description="LoRA rank; 0 trains every weight (the adapter is merged before saving)")
    lora_alpha: int | None = Field(None, ge=1, description="LoRA alpha (default 2 x rank)")
    task_placement: TaskPlacement = Field(
        "system", description="task info as: system | user-prefix | none (saved with the model)"
    )
    task_template: str | None = Field(
        None, description="Jinja template of the task text (default: its fields, one per line; saved with the model)"
    )
    seed: int = Field(0, description="seed of the split, the head's initialisation and the data order")
    activation_checkpointing: bool = Field(False, description="trade compute for memory (large bases on a GPU)")
    overwrite: bool = Field(False, description="replace the output if it exists")
    save_steps: int | None = Field(
        None,
        ge=1,
        description="a resumable checkpoint every N steps, in .OUT.checkpoints beside the output until the RM is saved",
    )
    resume: bool = Field(
        False, description="go on from the newest checkpoint of an earlier run (same pairs and settings)"
    )
    augment: bool = Field(
        False,
        description="add artifact-controlled pairs (other prompts' replies, padding, length-matched, injected praise, "
        "internal terms, judge-aimed text, reasoning, empty replies) so the RM learns the task, not the artifacts",
    )
    augment_per_pair: int = Field(3, ge=1, description="augmented pairs per training pair (with augment)")
    show_progress: bool = Field(True, description="show the trainer's progress bar")

    @classmethod
    def help(cls, name: str) -> str:
        """The one-line help of a field (its description), for a CLI flag.

        Example:
            >>> RMTrainOptions.help("batch_size")
            'pairs per training step'
        """
        return " ".join((cls.model_fields[name].description or "").split())
