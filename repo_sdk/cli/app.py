"""The typer app and the error boundary every command goes through."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import typer
from typer.core import TyperGroup

from repo_sdk.errors import RepoSdkError

__all__ = ["app", "cli_errors", "fail"]


class OneLineUsageErrors(TyperGroup):
    """Usage errors (a bad option value, an unknown option, a missing argument) as one ``error:`` line
    naming the option and the value given, instead of a usage box; the exit code stays click's 2."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except Exception as exc:
            if not hasattr(exc, "format_message"):  # typer's click errors (typer may bundle its own click)
                raise
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help is printed as it is made
                sys.exit(getattr(exc, "exit_code", 2))
            typer.echo(f"error: {usage_message(exc)}", err=True)
            sys.exit(getattr(exc, "exit_code", 2))
        sys.exit(code if isinstance(code, int) else 0)


def usage_message(exc: Any) -> str:
    """A click usage error in one line, with the rejected value when typer's message leaves it out."""
    message = " ".join(exc.format_message().split())
    read_errors = getattr(exc.__cause__, "errors", None)  # a pydantic ValidationError behind typer's message
    errors = read_errors() if callable(read_errors) else None
    if errors and "input" in errors[0] and "(got " not in message:
        message += f" (got {errors[0]['input']!r})"
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    return message


app = typer.Typer(
    cls=OneLineUsageErrors,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Compose RM, LLM-judge and rule rewards the REPO way: validate, score, train, serve, eval.",
)

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one error line to stderr and return the Exit to raise (a message with line breaks is joined)."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    return typer.Exit(code)


def cli_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn user errors into one line and exit code 1; no traceback reaches the user.

    Set ``REPO_SDK_DEBUG=1`` to see the traceback of an unexpected error.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except RepoSdkError as exc:
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except Exception as exc:
            if os.environ.get("REPO_SDK_DEBUG"):
                raise
            raise fail(f"{type(exc).__name__}: {exc} (set REPO_SDK_DEBUG=1 for the traceback)") from None

    return wrapper


def main() -> None:
    """Console-script entry point."""
    from repo_sdk.cli import commands  # noqa: F401 - registers every command on `app`

    sys.exit(app())
