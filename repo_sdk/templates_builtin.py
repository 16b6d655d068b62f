"""Registers the judge templates shipped in the wheel.

The top-level ``templates/`` folder is installed as the package ``repo_sdk.templates``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from repo_sdk.hookspecs import hookimpl

__all__ = ["templates_dir"]


def templates_dir() -> Path:
    """Where the shipped templates live (judge prompts under ``judges/``, scaffolds under ``init/``)."""
    return Path(str(resources.files("repo_sdk.templates")))


@hookimpl
def register_templates(register: Any) -> None:
    for path in sorted((templates_dir() / "judges").glob("*.j2")):
        register(path.stem, path)
