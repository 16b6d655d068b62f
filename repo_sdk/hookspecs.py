"""Plugin hooks (pluggy project ``repo_sdk``, entry-point group ``repo_sdk``).

Each hook receives a ``register`` callback, so one plugin can add many things.
Built-ins register through these same hooks.

Example (a plugin module named in a package's ``[project.entry-points.repo_sdk]``):

    from repo_sdk import hookimpl

    @hookimpl
    def register_rules(register):
        register(NoShouting)            # a repo_sdk.Rule subclass
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "repo_sdk"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_sources(register: Callable[..., Any]) -> None:
    """Call ``register(cls)`` for each RewardSource subclass the plugin provides."""


@hookspec
def register_combiners(register: Callable[..., Any]) -> None:
    """Call ``register(cls)`` for each Combiner subclass the plugin provides."""


@hookspec
def register_rules(register: Callable[..., Any]) -> None:
    """Call ``register(cls)`` for each Rule subclass the plugin provides."""


@hookspec
def register_templates(register: Callable[..., Any]) -> None:
    """Call ``register(name, path)`` for each judge template (a ``.j2`` file) the plugin ships."""


@hookspec
def register_sops(register: Callable[..., Any]) -> None:
    """Call ``register(cls)`` for each SOPModel subclass (stages of a procedure) the plugin provides."""
