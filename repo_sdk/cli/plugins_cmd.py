"""`repo-sdk plugins`: what is installed, by kind, with package and version."""

from __future__ import annotations

import json

import typer

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.plugins import KINDS, get_registry


@app.command()
@cli_errors
def plugins(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """List registered sources, combiners, rules, templates and SOP models, and failed plugins."""
    reg = get_registry()
    if as_json:
        data = {
            kind: [
                {"name": r.name, "package": r.package, "version": r.version, "description": r.description}
                for r in sorted(getattr(reg, kind).values(), key=lambda r: r.name)
            ]
            for kind in KINDS
        }
        data["failed"] = [{"plugin": k, "error": v} for k, v in sorted(reg.failed.items())]
        typer.echo(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    for kind in KINDS:
        table = Table(title=kind, title_justify="left", show_edge=False)
        for col in ("name", "package", "version", "description"):
            table.add_column(col, overflow="fold")
        for r in sorted(getattr(reg, kind).values(), key=lambda r: r.name):
            table.add_row(r.name, r.package, r.version, r.description)
        console.print(table)
    for name, err in sorted(reg.failed.items()):
        console.print(f"[red]failed to load plugin {escape(name)}[/red]: {escape(err)}")
