"""`repo-sdk validate SPEC`: check a reward spec without loading any model."""

from __future__ import annotations

from pathlib import Path

import typer

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.combiners.rm_scale import rm_scale_warnings
from repo_sdk.config import load_spec
from repo_sdk.errors import ConfigError


@app.command()
@cli_errors
def validate(spec: Path = typer.Argument(..., help="reward spec (YAML)")) -> None:
    """Validate a reward spec: every key, every plugin parameter, every name."""
    try:
        loaded = load_spec(spec)
    except ConfigError as exc:
        for line in getattr(exc, "all_errors", [str(exc)]):
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(1) from None
    s = loaded.spec
    sources = ", ".join(f"{name} ({src.type})" for name, src in s.sources.items())
    typer.echo(f"{spec}: ok — sources: {sources}; combiner: {s.combiner.type}")
    for warning in rm_scale_warnings(loaded):
        typer.echo(f"warning: {spec}: {warning}", err=True)
