"""Errors a user can act on. The CLI prints them as one line and exits 1."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "ConfigError",
    "InputError",
    "Loc",
    "MissingDependencyError",
    "PluginError",
    "RepoSdkError",
    "RunError",
    "SpecError",
    "format_loc",
    "problem_line",
]

#: a key path in a spec: ``("sources", "rules", "rules", 1, "max_chars")``
Loc = tuple[Any, ...]


class RepoSdkError(Exception):
    """Base of every error that is the user's to fix (bad config, bad input, missing extra)."""


class ConfigError(RepoSdkError, ValueError):
    """A reward spec is invalid; the message names the file, key path and bad value."""


def format_loc(loc: Iterable[Any]) -> str:
    """A key path as users read it.

    Example:
        >>> format_loc(("sources", "rules", "rules", 1, "max_chars")), format_loc(())
        ('sources.rules.rules[1].max_chars', '(top level)')
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def problem_line(where: str, loc: Iterable[Any], message: str) -> str:
    """The one line a user sees for a problem in a spec: where, key path, message.

    Example:
        >>> problem_line("spec.yaml:7", ("sources", "r", "max_chars"), "Input should be > 0 (got 0)")
        'spec.yaml:7: sources.r.max_chars: Input should be > 0 (got 0)'
    """
    return f"{where}: {format_loc(loc)}: {message}"


class SpecError(ConfigError):
    """Problems of a spec, each at its key path (``problems``: ``[(loc, message), ...]``).

    Raise it from a plugin's validators, ``from_config`` or ``bind`` with the key path
    relative to the plugin's own config; whoever validates that config at its place in
    the spec prefixes the path (:meth:`within`) and names the file and line (:meth:`at`).
    Pydantic passes it through validators (it is a ``ValueError``) with every problem kept.

    Example:
        >>> err = SpecError(("max_chars",), "must be positive (got 0)").within("sources", "r")
        >>> str(err)
        'sources.r.max_chars: must be positive (got 0)'
        >>> str(err.at(lambda loc: "spec.yaml:4"))
        'spec.yaml:4: sources.r.max_chars: must be positive (got 0)'
    """

    def __init__(self, loc: Loc, message: str) -> None:
        self._set([(tuple(loc), message)])

    @classmethod
    def collect(
        cls, problems: Iterable[tuple[Loc, str]], where: Callable[[Loc], str] | None = None, hint: str = ""
    ) -> SpecError:
        """One error holding several problems (at least one); ``where``/``hint`` as in :meth:`at`."""
        err = cls.__new__(cls)
        err._set([(tuple(loc), msg) for loc, msg in problems], where, hint)
        return err

    def within(self, *prefix: Any) -> SpecError:
        """The same problems, their key paths under ``prefix``."""
        return SpecError.collect([((*prefix, *loc), msg) for loc, msg in self.problems], self.where, self.hint)

    def at(self, where: Callable[[Loc], str], hint: str = "") -> SpecError:
        """The same problems, each line led by ``where(loc)`` (``spec.yaml:12``); ``hint`` follows the count
        of the other problems in the message (``run `repo-sdk validate```)."""
        return SpecError.collect(self.problems, where, hint)

    def _set(self, problems: list[tuple[Loc, str]], where: Callable[[Loc], str] | None = None, hint: str = "") -> None:
        if not problems:
            raise ValueError("a SpecError needs at least one problem")
        self.problems = problems
        self.where = where
        self.hint = hint
        #: every problem as one line (the message shows the first and counts the others)
        self.all_errors = [
            f"{format_loc(loc)}: {msg}" if where is None else problem_line(where(loc), loc, msg)
            for loc, msg in problems
        ]
        count = len(problems) - 1
        more = f" (and {count} more error(s){'; ' + hint if hint else ''})" if count else ""
        super().__init__(self.all_errors[0] + more)

    def __reduce__(self) -> tuple[Any, ...]:  # the lines travel as text (``where`` may be a closure)
        return (_restored, (type(self), self.problems, self.all_errors, self.args))


def _restored(cls: type[SpecError], problems: list[tuple[Loc, str]], lines: list[str], args: tuple[Any, ...]) -> Any:
    err = cls.__new__(cls)
    err.problems, err.where, err.hint, err.all_errors, err.args = problems, None, "", lines, args
    return err


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
