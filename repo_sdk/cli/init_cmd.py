"""`repo-sdk init DIR`: scaffold a working reward project from the shipped templates."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import typer

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.errors import InputError
from repo_sdk.plugins import get_registry
from repo_sdk.templates_builtin import templates_dir

JUDGE_TEMPLATES = ("pointwise", "pairwise", "negotiation")


@app.command()
@cli_errors
def init(
    directory: Path = typer.Argument(..., help="where to create the project (must not exist or be empty)"),
    force: bool = typer.Option(False, "--force", help="write into a non-empty directory, replacing scaffold files"),
) -> None:
    """Create spec.yaml, judge templates, example dialogues and pairs, and a rule-plugin skeleton."""
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory}: exists and is not a directory")
    if directory.exists() and any(directory.iterdir()) and not force:
        raise InputError(f"{directory}: not empty (use --force to write the scaffold into it)")
    scaffold = templates_dir() / "init"
    registry = get_registry()
    directory.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory.parent, prefix=f".{directory.name}.") as tmp:
        staging = Path(tmp) / "project"
        shutil.copytree(scaffold, staging, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        judges = staging / "judges"
        judges.mkdir(exist_ok=True)
        for name in JUDGE_TEMPLATES:
            if name in registry.templates:
                shutil.copy(registry.templates[name].obj, judges / f"{name}.j2")
        if directory.exists() and not any(directory.iterdir()):
            directory.rmdir()
        if not directory.exists():
            staging.rename(directory)  # atomic: the project appears whole or not at all
        else:
            shutil.copytree(staging, directory, dirs_exist_ok=True)
    files = sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())
    typer.echo(f"created {directory}: " + ", ".join(files))
    typer.echo(f"next: repo-sdk score {directory}/dialogues.jsonl -c {directory}/spec.yaml -o {directory}/out/scored.jsonl")
