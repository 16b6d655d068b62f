"""`repo-sdk init DIR`: scaffold a working reward project from the shipped templates.

The project appears whole or not at all: it is built in a temporary sibling
directory (RM training included) and renamed into place. It holds logged dialogues
(``dialogues.jsonl``, the baseline policy) and the candidate policy's replies to the same
histories (``candidate.jsonl``), so ``score`` then ``eval`` run on it as they are.
"""

from __future__ import annotations

import math
import shutil
import sys
import tempfile
from pathlib import Path

import typer
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.errors import InputError, MissingDependencyError
from repo_sdk.plugins import get_registry
from repo_sdk.progress import StepLines, duration
from repo_sdk.rm.train_options import RMTrainOptions
from repo_sdk.templates_builtin import templates_dir

JUDGE_TEMPLATES = ("pointwise", "pairwise", "negotiation")
NEGOTIATION_RULE = "negotiation.price_consistency"
#: The lowest value of the starter RM's positive scale (``positive_quantile``): the RM can favour
#: one reply over another by at most 1 / RM_FLOOR, so a penalty of more than n * (1 - RM_FLOOR)
#: points always outweighs it (docs/combiners.md).
RM_FLOOR = 0.5
#: The starter RM's training: artifact-controlled pairs (2 per pair) over 2 epochs, about the cost of
#: 3 plain epochs on 3x the data; docs/benchmarks.md ("Twin fidelity") has the comparison.
RM_TRAINING = RMTrainOptions(augment=True, augment_per_pair=2, epochs=2.0)
#: Seconds per training step (8 pairs) and to load, split and save, measured on 2 CPU cores
#: (docs/rm.md); a busy machine takes longer, and the progress lines say by how much.
STEP_SECONDS, FIXED_SECONDS = 8.0, 25.0


def training_estimate(pairs: int, *, epochs: float = 3.0, eval_fraction: float = 0.2, per_pair: int = 0) -> float:
    """Seconds ``train_rm`` needs on 2 CPU cores for ``pairs`` pairs (``per_pair`` augmented ones each).

    Example:
        >>> training_estimate(30), training_estimate(30, epochs=2.0, per_pair=2)
        (97.0, 169.0)
    """
    train = pairs - math.ceil(pairs * eval_fraction) if pairs > 1 else pairs
    steps = math.ceil(train * (1 + per_pair) / 8) * epochs
    return FIXED_SECONDS + STEP_SECONDS * steps


@app.command()
@cli_errors
def init(
    directory: Path = typer.Argument(..., help="where to create the project (must not exist, or be empty)"),
    rm: bool = typer.Option(
        True, "--rm/--no-rm", help="train a small RM from the example pairs (about 3 minutes on 2 CPU cores)"
    ),
    force: bool = typer.Option(False, "--force", help="write into a non-empty directory, replacing scaffold files"),
) -> None:
    """Create spec.yaml, judge rubrics, example dialogues and pairs, a rule-plugin skeleton (and an RM)."""
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory}: exists and is not a directory")
    if directory.exists() and any(directory.iterdir()) and not force:
        raise InputError(f"{directory}: not empty (use --force to write the scaffold into it)")
    if rm:
        from repo_sdk.rm.deps import RM_EXTRA, require_rm

        try:
            require_rm("the example RM", "torch", "transformers", "trl", "datasets")
        except MissingDependencyError:
            raise MissingDependencyError(
                "training the example RM", f"{RM_EXTRA} (or scaffold without an RM: --no-rm)"
            ) from None
    registry = get_registry()
    negotiation = NEGOTIATION_RULE in registry.rules
    directory.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory.parent, prefix=f".{directory.name}.") as tmp:
        staging = Path(tmp) / "project"
        shutil.copytree(
            templates_dir() / "init", staging, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.j2")
        )
        env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True)
        spec_template = (templates_dir() / "init" / "spec.yaml.j2").read_text(encoding="utf-8")
        (staging / "spec.yaml").write_text(
            env.from_string(spec_template).render(negotiation=negotiation, rm=rm, floor=RM_FLOOR)
        )
        judges = staging / "judges"
        judges.mkdir(exist_ok=True)
        for name in JUDGE_TEMPLATES:
            shutil.copy(registry.get("templates", name), judges / f"{name}.j2")
        if rm:
            from repo_sdk.rm import train_rm

            pairs = staging / "preference_pairs.jsonl"
            count = sum(1 for line in pairs.read_text(encoding="utf-8").splitlines() if line.strip())
            estimate = training_estimate(count, epochs=RM_TRAINING.epochs, per_pair=RM_TRAINING.augment_per_pair)
            typer.echo(
                f"training the example RM on {count} preference pairs (all-MiniLM-L6-v2 base, packaged, --augment): "
                f"about {duration(estimate)} on 2 free CPU cores, longer on a busy machine "
                "(--no-rm skips it) ...",
                err=True,
            )
            tty = sys.stderr.isatty()
            result = train_rm(
                pairs,
                staging / "rm",
                RM_TRAINING.model_copy(update={"show_progress": tty}),
                log=lambda m: typer.echo(m, err=True),
                progress=None if tty else StepLines("RM training", lambda m: typer.echo(m, err=True)),
            )
            acc = "n/a" if result.heldout_accuracy is None else f"{result.heldout_accuracy:.2f}"
            art = "n/a" if result.heldout_artifact_accuracy is None else f"{result.heldout_artifact_accuracy:.2f}"
            typer.echo(
                f"RM trained in {result.seconds:.0f}s, held-out pairwise accuracy {acc} "
                f"({art} on artifact-controlled held-out pairs)",
                err=True,
            )
        if directory.exists() and not any(directory.iterdir()):
            directory.rmdir()
        if not directory.exists():
            staging.rename(directory)
        else:
            shutil.copytree(staging, directory, dirs_exist_ok=True)
    files = sorted(str(p.relative_to(directory)) for p in directory.iterdir())
    typer.echo(f"created {directory}: {', '.join(files)}")
    typer.echo(
        f"next: repo-sdk score {directory}/dialogues.jsonl -c {directory}/spec.yaml -o out/baseline.jsonl "
        "--report out/report.html"
    )
