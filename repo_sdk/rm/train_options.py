"""The settings of one RM training run, in one object (``repo-sdk rm train``'s options).

:func:`~repo_sdk.rm.train.train_rm` takes an :class:`RMTrainOptions`; the CLI builds
one from its flags, ``init`` holds the starter RM's as a constant, and each field's
docstring is the flag's help text, so the settings are described once.

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

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    base: Path | None = None
    """base model directory (default: the packaged all-MiniLM-L6-v2)"""
    eval_fraction: float = 0.2
    """share of pairs held out for the accuracy report"""
    epochs: float = Field(3.0, gt=0)
    """training epochs"""
    learning_rate: float = Field(5e-5, gt=0)
    """learning rate"""
    batch_size: int = Field(8, ge=1)
    """pairs per training step"""
    max_length: int | None = Field(None, ge=1)
    """longest input in tokens (default: the base's limit, at most 512)"""
    lora_r: int = Field(0, ge=0)
    """LoRA rank; 0 trains every weight (the adapter is merged before saving)"""
    lora_alpha: int | None = Field(None, ge=1)
    """LoRA alpha (default 2 x rank)"""
    task_placement: TaskPlacement = "system"
    """task info as: system | user-prefix | none (saved with the model)"""
    task_template: str | None = None
    """Jinja template of the task text (default: its fields, one per line; saved with the model)"""
    seed: int = 0
    """seed of the split, the head's initialisation and the data order"""
    activation_checkpointing: bool = False
    """trade compute for memory (large bases on a GPU)"""
    overwrite: bool = False
    """replace the output if it exists"""
    save_steps: int | None = Field(None, ge=1)
    """a resumable checkpoint every N steps, in .OUT.checkpoints beside the output until the RM is saved"""
    resume: bool = False
    """go on from the newest checkpoint of an earlier run (same pairs and settings)"""
    augment: bool = False
    """add artifact-controlled pairs (other prompts' replies, padding, length-matched, injected praise,
    internal terms, judge-aimed text, reasoning, empty replies) so the RM learns the task, not the artifacts"""
    augment_per_pair: int = Field(3, ge=1)
    """augmented pairs per training pair (with augment)"""
    show_progress: bool = True
    """show the trainer's progress bar"""

    @classmethod
    def help(cls, name: str) -> str:
        """The one-line help of a field (its docstring), for a CLI flag.

        Example:
            >>> RMTrainOptions.help("batch_size")
            'pairs per training step'
        """
        return " ".join((cls.model_fields[name].description or "").split())
