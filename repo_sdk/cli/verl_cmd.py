"""`repo-sdk verl prepare`: data for verl's trainer (in the repo-sdk-verl adapter)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.config import load_spec
from repo_sdk.errors import ConfigError, require

verl_app = typer.Typer(no_args_is_help=True, help="verl integration (its RL Parquet data).")
app.add_typer(verl_app, name="verl")


@verl_app.command("prepare")
@cli_errors
def prepare(
    source: Path = typer.Argument(
        ..., help="logged dialogues (JSONL, Parquet, dataset dir) or, with --prompts, a JSONL"
    ),
    output: Path = typer.Option(..., "--output", "-o", help="verl data file to write (.parquet)"),
    config: Path | None = typer.Option(None, "--config", "-c", help="spec: its input: mapping and train: columns"),
    prompts: bool = typer.Option(False, "--prompts", help="SOURCE is a prompts JSONL (prompt + task columns)"),
    data_source: str = typer.Option("repo_sdk", help="the rows' data_source (verl groups metrics by it)"),
    task_in_prompt: bool = typer.Option(False, help="add the task as JSON to the prompt's system message"),
    on_error: str = typer.Option("fail", "--on-error", help="fail: stop at the first bad record; skip: list it aside"),
) -> None:
    """Turn logged dialogues (one row per assistant turn) or prompts into verl's RL Parquet layout."""
    mod: Any = require("repo_sdk_verl.data", "repo-sdk-verl", "`repo-sdk verl prepare`")
    if on_error not in ("fail", "skip"):
        raise ConfigError(f"--on-error must be 'fail' or 'skip', got {on_error!r}")
    loaded = load_spec(config) if config is not None else None
    options = {"data_source": data_source, "task_in_prompt": task_in_prompt, "on_error": on_error}
    if prompts:
        from repo_sdk.train_spec import parse_train_spec

        ts = parse_train_spec(loaded) if loaded is not None else None
        columns = (
            {"prompt_column": ts.prompt_column, "task_column": ts.task_column, "task_columns": ts.task_columns}
            if ts is not None
            else {}
        )
        summary = mod.prepare_prompts(source, output, **columns, **options)
    else:
        summary = mod.prepare_dialogues(source, output, mapping=loaded.spec.input if loaded else None, **options)
    notes = [f"{summary.no_prompt} replies with nothing before them left out"] if summary.no_prompt else []
    if summary.skipped:
        notes.append(f"{len(summary.skipped)} bad records listed in {summary.path}.skipped.jsonl")
    typer.echo(f"wrote {summary.rows} rows to {summary.path}" + (f" ({'; '.join(notes)})" if notes else ""), err=True)
