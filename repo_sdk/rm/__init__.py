"""The reward-model source (RM)."""

from __future__ import annotations

from typing import Any

from repo_sdk.hookspecs import hookimpl

__all__: list[str] = []


@hookimpl
def register_sources(register: Any) -> None:
    """Registers the RM source (filled in with the RM)."""
