"""`repo-sdk validate SPEC [--sample LOGS]`: check a reward spec without loading any model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.combiners.rm_scale import rm_scale_warnings
from repo_sdk.config import load_spec
from repo_sdk.errors import ConfigError, InputError, SpecError
from repo_sdk.spec_check import check_spec
from repo_sdk.types import Sample


@app.command()
@cli_errors
def validate(
    spec: Path = typer.Argument(..., help="reward spec (YAML)"),
    sample: Path | None = typer.Option(
        None, "--sample", help="logged dialogues whose first records the judge templates are rendered against"
    ),
) -> None:
    """Validate a reward spec: every key and plugin parameter, the files and templates it names, the
    combiner's source names, the environment variables and the train: section (docs/config.md)."""
    try:
        loaded = load_spec(spec)
    except ConfigError as exc:
        for line in exc.all_errors if isinstance(exc, SpecError) else [str(exc)]:
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(1) from None
    findings = check_spec(loaded, samples=_samples(sample, loaded.spec.input) if sample is not None else None)
    for f in findings:
        typer.echo(f"{'warning' if f.warning else 'error'}: {f.text()}", err=True)
    if any(not f.warning for f in findings):
        raise typer.Exit(1)
    s = loaded.spec
    sources = ", ".join(f"{name} ({src.type})" for name, src in s.sources.items())
    typer.echo(f"{spec}: ok — sources: {sources}; combiner: {s.combiner.type}")
    for warning in rm_scale_warnings(loaded):
        typer.echo(f"warning: {spec}: {warning}", err=True)


def _samples(path: Path, mapping: Any, records: int = 3) -> list[Sample]:
    """The samples of the first ``records`` dialogues of ``path`` (its first bad record is the error)."""
    from repo_sdk.io.readers import iter_records

    out: list[Sample] = []
    for n, (_, item) in enumerate(iter_records(path, mapping), start=1):
        if isinstance(item, InputError):
            raise item
        out.extend(item.samples())
        if n >= records:
            break
    if not out:
        raise InputError(f"{path}: no assistant turn to render the templates against")
    return out
