"""`repo-sdk rm ...`: reward-model commands."""

from __future__ import annotations

import typer

from repo_sdk.cli.app import app

rm_app = typer.Typer(no_args_is_help=True, help="Reward-model (RM) commands.")
app.add_typer(rm_app, name="rm")
