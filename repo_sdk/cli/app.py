"""The typer app and the error boundary every command goes through."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from repo_sdk.errors import RepoSdkError

__all__ = ["app", "cli_errors", "fail"]

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Compose RM, LLM-judge and rule rewards the REPO way: validate, score, train, serve, eval.",
)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one error line to stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def cli_errors(fn: F) -> F:
    """Turn user errors into one line and exit code 1; no traceback reaches the user.

    Set ``REPO_SDK_DEBUG=1`` to see the traceback of an unexpected error.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
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

    return wrapper  # type: ignore[return-value]


def main() -> None:
    """Console-script entry point."""
    from repo_sdk.cli import commands  # noqa: F401 - registers every command on `app`

    sys.exit(app())
