"""Errors a user can act on. The CLI prints them as one line and exits 1."""

from __future__ import annotations

__all__ = ["ConfigError", "InputError", "MissingDependencyError", "PluginError", "RepoSdkError", "RunError"]


class RepoSdkError(Exception):
    """Base of every error that is the user's to fix (bad config, bad input, missing extra)."""


class ConfigError(RepoSdkError, ValueError):
    """A reward spec is invalid; the message names the file, key path and bad value."""


class InputError(RepoSdkError, ValueError):
    """An input record is invalid; the message names the file and line."""


class RunError(RepoSdkError):
    """A run cannot start or cannot be trusted: its judge is unreachable, or a source gave too many Nones."""


class PluginError(RepoSdkError):
    """A plugin is unknown, failed to load, or clashes with another."""


class MissingDependencyError(RepoSdkError, ImportError):
    """An optional dependency is missing; the message says what to pip install."""

    def __init__(self, what: str, install: str) -> None:
        super().__init__(f"{what} needs an optional dependency: pip install {install}")
        self.install = install


def require(module: str, install: str, what: str) -> object:
    """Import ``module`` or raise a MissingDependencyError naming the package to install.

    Example:
        >>> require("json", "json", "parsing").__name__
        'json'
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(what, install) from exc
