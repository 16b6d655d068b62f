"""The ``repo-sdk`` command line: one module per command, registered on one typer app."""

from __future__ import annotations

from repo_sdk.cli import commands as _commands  # noqa: F401 - registers the commands
from repo_sdk.cli.app import app, main

__all__ = ["app", "main"]
