"""`repo-sdk rm ...`: reward-model commands.

``repo-sdk rm train PAIRS.jsonl -o OUT`` trains a Bradley-Terry reward model from
preference pairs (default base: the packaged all-MiniLM-L6-v2) and reports its
pairwise accuracy on a held-out split. ``OUT`` loads straight into an ``rm``
source (``path: OUT``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from repo_sdk.cli.app import app, cli_errors

rm_app = typer.Typer(no_args_is_help=True, help="Reward-model (RM) commands.")
app.add_typer(rm_app, name="rm")


def _fmt(acc: float | None) -> str:
    return "n/a" if acc is None else f"{acc:.1%}"


@rm_app.command("train")
@cli_errors
def train(
    pairs: Annotated[Path, typer.Argument(help="preference pairs, JSONL: {task, history, chosen, rejected} per line")],
    output: Annotated[Path, typer.Option("--output", "-o", help="directory to write the trained RM to")],
    base: Annotated[
        Path | None, typer.Option(help="base model directory (default: the packaged all-MiniLM-L6-v2)")
    ] = None,
    eval_fraction: Annotated[float, typer.Option(help="share of pairs held out for the accuracy report")] = 0.2,
    epochs: Annotated[float, typer.Option(help="training epochs")] = 3.0,
    lr: Annotated[float, typer.Option("--lr", help="learning rate")] = 5e-5,
    batch_size: Annotated[int, typer.Option(help="pairs per training step")] = 8,
    max_length: Annotated[
        int | None, typer.Option(help="longest input in tokens (default: base limit, <= 512)")
    ] = None,
    lora_r: Annotated[int, typer.Option(help="LoRA rank; 0 trains every weight")] = 0,
    lora_alpha: Annotated[int | None, typer.Option(help="LoRA alpha (default 2 x rank)")] = None,
    task_placement: Annotated[str, typer.Option(help="task info as: system | user-prefix | none")] = "system",
    seed: Annotated[int, typer.Option(help="seed of the split, head init and data order")] = 0,
    overwrite: Annotated[bool, typer.Option(help="replace OUT if it exists")] = False,
    save_steps: Annotated[
        int | None, typer.Option(min=1, help="a resumable checkpoint every N steps, beside OUT until it is saved")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="go on from the newest checkpoint of an earlier run")
    ] = False,
    augment: Annotated[
        bool,
        typer.Option(
            "--augment",
            help="add artifact-controlled pairs (other prompts' replies, padding, length-matched, injected praise, "
            "internal terms, judge-aimed text, reasoning, empty replies) so the RM learns the task, not the artifacts",
        ),
    ] = False,
    augment_per_pair: Annotated[int, typer.Option(min=1, help="augmented pairs per training pair")] = 3,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress output")] = False,
) -> None:
    """Train a reward model from preference pairs with TRL's RewardTrainer."""
    import sys

    from repo_sdk.cli.progress import StepLines
    from repo_sdk.errors import InputError
    from repo_sdk.io.paths import check_output_folder
    from repo_sdk.rm.train import train_rm

    if task_placement not in ("system", "user-prefix", "none"):
        raise InputError(f"--task-placement must be system, user-prefix or none, got {task_placement!r}")
    check_output_folder("-o", output, inputs=[pairs, base])

    def say(message: str) -> None:
        if not quiet:
            typer.echo(message, err=True)

    result = train_rm(
        pairs,
        output,
        base=base,
        eval_fraction=eval_fraction,
        epochs=epochs,
        learning_rate=lr,
        batch_size=batch_size,
        max_length=max_length,
        lora_r=lora_r,
        lora_alpha=lora_alpha,
        task_placement=task_placement,  # type: ignore[arg-type]
        seed=seed,
        overwrite=overwrite,
        save_steps=save_steps,
        resume=resume,
        augment=augment,
        augment_per_pair=augment_per_pair,
        show_progress=not quiet and sys.stderr.isatty(),
        log=say,
        progress=None if quiet or sys.stderr.isatty() else StepLines("RM training", say),
    )
    typer.echo(
        f"held-out accuracy {_fmt(result.heldout_accuracy)} on {result.heldout_pairs} pairs "
        f"(before training {_fmt(result.heldout_accuracy_before)}; train {_fmt(result.train_accuracy)} "
        f"on {result.train_pairs}"
        + (f" + {result.augmented_pairs} augmented" if result.augmented_pairs else "")
        + f"); on artifact-controlled held-out pairs {_fmt(result.heldout_artifact_accuracy)}"
        + f" in {result.seconds:.1f}s"
    )
    typer.echo(f"saved {result.output} (use it as: sources: {{rm: {{type: rm, path: {result.output}}}}})")
