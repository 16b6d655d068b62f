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


def _help(name: str) -> str:
    from repo_sdk.rm.train_options import RMTrainOptions

    return RMTrainOptions.help(name)


@rm_app.command("train")
@cli_errors
def train(
    pairs: Annotated[Path, typer.Argument(help="preference pairs, JSONL: {task, history, chosen, rejected} per line")],
    output: Annotated[Path, typer.Option("--output", "-o", help="directory to write the trained RM to")],
    base: Annotated[Path | None, typer.Option(help=_help("base"))] = None,
    eval_fraction: Annotated[float, typer.Option(help=_help("eval_fraction"))] = 0.2,
    epochs: Annotated[float, typer.Option(help=_help("epochs"))] = 3.0,
    learning_rate: Annotated[float, typer.Option("--lr", help=_help("learning_rate"))] = 5e-5,
    batch_size: Annotated[int, typer.Option(help=_help("batch_size"))] = 8,
    max_length: Annotated[int | None, typer.Option(help=_help("max_length"))] = None,
    lora_r: Annotated[int, typer.Option(help=_help("lora_r"))] = 0,
    lora_alpha: Annotated[int | None, typer.Option(help=_help("lora_alpha"))] = None,
    task_placement: Annotated[str, typer.Option(help=_help("task_placement"))] = "system",
    seed: Annotated[int, typer.Option(help=_help("seed"))] = 0,
    overwrite: Annotated[bool, typer.Option(help=_help("overwrite"))] = False,
    save_steps: Annotated[int | None, typer.Option(min=1, help=_help("save_steps"))] = None,
    resume: Annotated[bool, typer.Option("--resume", help=_help("resume"))] = False,
    augment: Annotated[bool, typer.Option("--augment", help=_help("augment"))] = False,
    augment_per_pair: Annotated[int, typer.Option(min=1, help=_help("augment_per_pair"))] = 3,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress output")] = False,
) -> None:
    """Train a reward model from preference pairs with TRL's RewardTrainer."""
    import sys

    from pydantic import ValidationError

    from repo_sdk.errors import InputError
    from repo_sdk.io.paths import check_output_folder
    from repo_sdk.progress import StepLines
    from repo_sdk.rm.train import RMTrainOptions, train_rm

    # each training flag is named after its field: the options are the flags given, taken as they are
    settings = {k: v for k, v in locals().items() if k in RMTrainOptions.model_fields}
    try:
        options = RMTrainOptions(**settings, show_progress=not quiet and sys.stderr.isatty())
    except ValidationError as exc:
        first = exc.errors()[0]
        flag = "--lr" if first["loc"][0] == "learning_rate" else f"--{str(first['loc'][0]).replace('_', '-')}"
        raise InputError(f"{flag}: {first['msg']} (got {first['input']!r})") from None
    check_output_folder("-o", output, inputs=[pairs, base])

    def say(message: str) -> None:
        if not quiet:
            typer.echo(message, err=True)

    result = train_rm(
        pairs,
        output,
        options,
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
