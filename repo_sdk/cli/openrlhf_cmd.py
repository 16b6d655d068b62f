"""`repo-sdk openrlhf ...`: OpenRLHF integration commands."""

from __future__ import annotations

import typer

from repo_sdk.cli.app import app

openrlhf_app = typer.Typer(no_args_is_help=True, help="OpenRLHF integration (reward file export).")
app.add_typer(openrlhf_app, name="openrlhf")
