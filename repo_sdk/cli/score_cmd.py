"""`repo-sdk score LOGS --config SPEC -o OUT`: score logged dialogues offline."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.config import load_spec
from repo_sdk.errors import InputError
from repo_sdk.io.atomic import atomic_write
from repo_sdk.io.dialogues import read_dialogues
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.scoring import score_dialogues


@app.command()
@cli_errors
def score(
    logs: Path = typer.Argument(..., help="logged dialogues, JSONL (one dialogue per line)"),
    config: Path = typer.Option(..., "--config", "-c", help="reward spec (YAML)"),
    output: Path = typer.Option(..., "--output", "-o", help="output rows, JSONL (written atomically)"),
    only: str | None = typer.Option(None, help="comma-separated sources to run; the rest count as missing"),
) -> None:
    """Score every assistant turn of logged dialogues; one JSONL row per turn."""
    loaded = load_spec(config)
    if not logs.exists():
        raise InputError(f"{logs}: no such file")
    dialogues = read_dialogues(logs, loaded.spec.input)
    only_set = [s.strip() for s in only.split(",") if s.strip()] if only else None
    n = 0
    with RewardPipeline.from_spec(loaded, only=only_set) as pipe, atomic_write(output) as fh:
        for row in score_dialogues(pipe, dialogues):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    typer.echo(f"scored {n} assistant turns of {len(dialogues)} dialogues -> {output}", err=True)
