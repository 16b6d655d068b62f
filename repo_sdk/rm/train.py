"""Train a Bradley-Terry reward model from preference pairs with TRL's RewardTrainer.

The pairs are rendered and tokenized by the same :class:`~repo_sdk.rm.render.Renderer`
the ``rm`` source scores with (same chat template or plain rendering, same task
placement, same truncation that keeps the reply), and handed to TRL as a tokenized
dataset (``chosen_ids`` / ``rejected_ids``). So training and scoring see identical
inputs. TRL's loss is ``-log sigmoid(r_chosen - r_rejected)``.

The output directory holds the model (LoRA merged in), its tokenizer,
``repo_rm.json`` (rendering settings, held-out accuracy, provenance) and
``calibration.json`` (score statistics for ``normalize``). It is written under a
temporary name and renamed into place at the end, so a crash never leaves a
half-written model behind.

Example (a tiny random base, the scaffold's 30 pairs, one epoch):

    >>> import tempfile
    >>> from pathlib import Path
    >>> from repo_sdk.rm import RMTrainOptions, build_tiny_model, train_rm
    >>> from repo_sdk.templates_builtin import templates_dir
    >>> work = Path(tempfile.mkdtemp())
    >>> base = build_tiny_model(work / "tiny-base")
    >>> pairs = templates_dir() / "init" / "preference_pairs.jsonl"
    >>> result = train_rm(pairs, work / "rm", RMTrainOptions(base=base, epochs=1, show_progress=False))
    >>> result.train_pairs, result.heldout_pairs, sorted(p.name for p in (work / "rm").glob("*.json"))
    (24, 6, ['calibration.json', 'config.json', 'repo_rm.json', 'tokenizer.json', 'tokenizer_config.json'])
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from repo_sdk.errors import InputError
from repo_sdk.io.atomic import atomic_dir
from repo_sdk.rm.augment import AUGMENT_KINDS, augment_pairs
from repo_sdk.rm.batching import forward_scores
from repo_sdk.rm.deps import require_rm
from repo_sdk.rm.loading import META_FILE
from repo_sdk.rm.minilm import default_base
from repo_sdk.rm.normalize import CALIBRATION_FILE, calibration_stats
from repo_sdk.rm.pairs import PreferencePair, read_pairs, split_pairs
from repo_sdk.rm.render import Renderer
from repo_sdk.rm.train_options import RMTrainOptions
from repo_sdk.train_spec import last_checkpoint

__all__ = ["RMTrainOptions", "TrainResult", "train_rm"]


@dataclass
class TrainResult:
    """What a training run produced."""

    output: Path
    train_pairs: int
    heldout_pairs: int
    heldout_accuracy: float | None
    heldout_accuracy_before: float | None
    train_accuracy: float
    truncated: int
    seconds: float
    augmented_pairs: int = 0
    heldout_artifact_accuracy: float | None = None


def _accuracy(model: Any, chosen: list[list[int]], rejected: list[list[int]], pad_id: int) -> tuple[float, list[float]]:
    scores, _ = forward_scores(model, chosen + rejected, pad_id=pad_id, token_budget=8192)
    n = len(chosen)
    wins = sum(scores[i] > scores[n + i] for i in range(n))
    return wins / n, scores


class _NewHeadReport(logging.Filter):
    """Drops transformers' load report when it only says the new reward head is missing (expected)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not ("LOAD REPORT" in text and "MISSING" in text and "UNEXPECTED" not in text and "MISMATCH" not in text)


@contextmanager
def _quiet_transformers(quiet: bool) -> Iterator[None]:
    from transformers.utils import logging as hf_logging

    report_filter = _NewHeadReport()
    hf_logging.get_logger("transformers.modeling_utils").addFilter(report_filter)
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    if quiet:
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            # peft still asks for the pre-v5 name; nothing for the user to act on
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
            yield
    finally:
        hf_logging.get_logger("transformers.modeling_utils").removeFilter(report_filter)
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def train_rm(
    pairs: str | Path | Sequence[PreferencePair],
    output: str | Path,
    options: RMTrainOptions | None = None,
    *,
    log: Callable[[str], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Train an RM on preference pairs and save it where the ``rm`` source can load it.

    Args:
        pairs: a JSONL file of pairs (see :mod:`repo_sdk.rm.pairs`) or the pairs themselves.
        output: directory to create (atomically).
        options: the run's settings (:class:`~repo_sdk.rm.train_options.RMTrainOptions`; default: its
            defaults). With ``save_steps``, checkpoints go into ``.<output>.checkpoints`` beside
            ``output`` (the last two kept; removed once the RM is saved); ``augment`` adds
            ``augment_per_pair`` artifact-controlled pairs per training pair (:mod:`repo_sdk.rm.augment`).
        log: called with one line per stage (default: silent).
        progress: called with ``(step, total steps)`` after each optimizer step (plain progress
            lines off a terminal, where the bar would not show).

    Returns:
        A :class:`TrainResult`; ``heldout_accuracy`` is the share of held-out pairs the
        trained RM ranks correctly (``None`` with ``eval_fraction=0``);
        ``heldout_artifact_accuracy`` the share of artifact-controlled pairs drawn from
        the held-out pairs it ranks correctly (with or without ``augment``).

    Raises:
        InputError: bad pairs or base, ``output`` exists without ``overwrite``, or
            ``resume`` with no checkpoint to resume from.
    """
    opts = options or RMTrainOptions()
    require_rm("rm train", "torch", "transformers", "trl", "datasets")
    import torch
    from transformers import AutoConfig, AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    say = log or (lambda _msg: None)
    started = time.monotonic()
    output = Path(output)
    if output.exists() and not opts.overwrite:
        raise InputError(f"{output} exists (pass --overwrite to replace it)")
    checkpoints = output.with_name(f".{output.name}.checkpoints")
    last = last_checkpoint(checkpoints) if opts.resume else None
    if opts.resume and last is None:
        raise InputError(f"--resume: no checkpoint in {checkpoints} to resume from (--save-steps writes them)")
    base_path = Path(opts.base) if opts.base is not None else default_base()
    if not (base_path / "config.json").is_file():
        raise InputError(f"base model {base_path} is not a model directory (no config.json)")
    all_pairs = read_pairs(pairs) if isinstance(pairs, (str, Path)) else list(pairs)
    train, held = split_pairs(all_pairs, opts.eval_fraction, opts.seed)
    say(f"{len(all_pairs)} pairs: {len(train)} to train, {len(held)} held out; base {base_path}")
    extra = augment_pairs(train, per_pair=opts.augment_per_pair, seed=opts.seed) if opts.augment else []
    # every kind once per held-out pair, the same set with or without --augment: the two runs compare
    held_artifacts = augment_pairs(held, per_pair=len(AUGMENT_KINDS), seed=opts.seed + 1) if held else []
    if extra:
        say(f"augmented with {len(extra)} artifact-controlled pairs ({opts.augment_per_pair} per training pair)")

    tokenizer = AutoTokenizer.from_pretrained(base_path)
    positions = getattr(AutoConfig.from_pretrained(base_path), "max_position_embeddings", None)
    limits = [x for x in (tokenizer.model_max_length, positions) if isinstance(x, int) and 0 < x < 1_000_000]
    renderer = Renderer(
        tokenizer,
        task_placement=opts.task_placement,
        task_template=opts.task_template,
        max_length=opts.max_length or min([*limits, 512]),
    )
    truncated = 0

    def encode(ps: list[PreferencePair], which: str) -> list[list[int]]:
        nonlocal truncated
        if not ps:
            return []
        enc = renderer.encode_parts([(p.task, p.history, getattr(p, which)) for p in ps])
        for p, e in zip(ps, enc, strict=True):
            if e.error is not None:
                raise InputError(f"pair {p.id if p.id is not None else '?'} ({which}): {e.error}")
        truncated += sum(e.truncated for e in enc)
        return [e.ids for e in enc]

    parts = (("train", train), ("held", held), ("extra", extra), ("held_artifacts", held_artifacts))
    rows = {name: (encode(ps, "chosen"), encode(ps, "rejected")) for name, ps in parts}
    if truncated:
        total = 2 * (len(all_pairs) + len(extra) + len(held_artifacts))
        say(f"truncated {truncated} of {total} inputs to {renderer.max_length} tokens (replies kept)")

    from datasets import Dataset

    dataset = Dataset.from_dict(
        {"chosen_ids": rows["train"][0] + rows["extra"][0], "rejected_ids": rows["train"][1] + rows["extra"][1]}
    )
    cuda = torch.cuda.is_available()
    peft_config = None
    if opts.lora_r > 0:
        require_rm("rm train --lora-r", "peft")
        from peft import LoraConfig

        peft_config = LoraConfig(
            task_type="SEQ_CLS", r=opts.lora_r, lora_alpha=opts.lora_alpha or 2 * opts.lora_r, lora_dropout=0.0
        )

    output.parent.mkdir(parents=True, exist_ok=True)
    if not opts.resume and checkpoints.exists():
        say(f"starting over: removing the checkpoints of an earlier run in {checkpoints} (--resume goes on from them)")
        shutil.rmtree(checkpoints)
    saving = {"save_strategy": "steps", "save_steps": opts.save_steps, "save_total_limit": 2} if opts.save_steps else {}
    with (
        _trainer_dir(checkpoints if opts.save_steps or opts.resume else None) as trainer_dir,
        _quiet_transformers(not opts.show_progress),
    ):
        args = RewardConfig(
            output_dir=trainer_dir,
            num_train_epochs=opts.epochs,
            learning_rate=opts.learning_rate,
            per_device_train_batch_size=opts.batch_size,
            seed=opts.seed,
            data_seed=opts.seed,
            max_length=None,
            bf16=cuda and torch.cuda.is_bf16_supported(),
            use_cpu=not cuda,
            activation_checkpointing=opts.activation_checkpointing,
            eval_strategy="no",
            report_to="none",
            disable_tqdm=not opts.show_progress,
            logging_steps=10,
            warmup_steps=0,
            dataloader_num_workers=0,
            **({"save_strategy": "no"} | saving),
        )
        trainer = RewardTrainer(
            model=str(base_path), args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=peft_config
        )
        if not opts.show_progress:
            from transformers.trainer_callback import PrinterCallback

            trainer.remove_callback(PrinterCallback)
        if progress is not None:
            trainer.add_callback(_step_callback(progress))
        pad_id = tokenizer.pad_token_id
        before = _accuracy(trainer.model.eval(), *rows["held"], pad_id)[0] if held else None
        say(
            f"training {len(train) + len(extra)} pairs for {opts.epochs:g} epoch(s)"
            + (f", LoRA r={opts.lora_r}" if opts.lora_r else "")
            + (f", resuming from {last.name}" if last else "")
        )
        trainer.train(resume_from_checkpoint=str(last) if last else None)
        model = trainer.model
        if peft_config is not None:
            model = model.merge_and_unload()
        model.eval()
        after = _accuracy(model, *rows["held"], pad_id)[0] if held else None
        artifacts = _accuracy(model, *rows["held_artifacts"], pad_id)[0] if held_artifacts else None
        # calibrated on the real training replies: the scale describes replies, not the artifacts
        train_acc, train_scores = _accuracy(model, *rows["train"], pad_id)
    model.config.pad_token_id = pad_id
    result = TrainResult(
        output,
        len(train),
        len(held),
        after,
        before,
        train_acc,
        truncated,
        time.monotonic() - started,
        augmented_pairs=len(extra),
        heldout_artifact_accuracy=artifacts,
    )
    meta = {
        "format": 1,
        "base": str(base_path),
        "render": {
            "task_placement": opts.task_placement,
            "task_template": opts.task_template,
            "max_length": renderer.max_length,
        },
        "result": {k: v for k, v in asdict(result).items() if k != "output"},
        "params": {
            "epochs": opts.epochs,
            "learning_rate": opts.learning_rate,
            "batch_size": opts.batch_size,
            "lora_r": opts.lora_r,
            "seed": opts.seed,
            "eval_fraction": opts.eval_fraction,
            "augment": opts.augment_per_pair if opts.augment else 0,
        },
    }

    def write(folder: Path) -> None:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        (folder / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        (folder / CALIBRATION_FILE).write_text(
            json.dumps(calibration_stats(train_scores), indent=2) + "\n", encoding="utf-8"
        )

    try:
        atomic_dir(output, write, overwrite=opts.overwrite)
    except FileExistsError:
        raise InputError(f"{output} exists (pass --overwrite to replace it)") from None
    shutil.rmtree(checkpoints, ignore_errors=True)  # the RM is saved: nothing left to resume
    return result


def _step_callback(progress: Callable[[int, int], None]) -> Any:
    """A TrainerCallback reporting ``(step, total steps)`` after each optimizer step."""
    from transformers import TrainerCallback

    class _Steps(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            progress(state.global_step, state.max_steps)

    return _Steps()


@contextmanager
def _trainer_dir(checkpoints: Path | None) -> Iterator[str]:
    """Where the trainer writes: the checkpoint folder (kept on failure, for --resume), else a temporary one."""
    if checkpoints is None:
        with tempfile.TemporaryDirectory(prefix="repo-rm-trainer-") as tmp:
            yield tmp
    else:
        checkpoints.mkdir(parents=True, exist_ok=True)
        yield str(checkpoints)
