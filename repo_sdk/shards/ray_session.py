"""Ray for the ray engine: connected the way the CLI promises, Ray Data quiet while the run shows its own progress.

Example:
    >>> import ray.data
    >>> with quiet_data_context(ray):
    ...     ray.data.DataContext.get_current().enable_progress_bars
    False
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from repo_sdk.errors import RunError, require

__all__ = ["INSTALL", "connected", "quiet_data_context"]

INSTALL = "'repo-sdk[ray]'"


@contextmanager
def connected(address: str | None) -> Iterator[Any]:
    """Ray, connected: as it is when already initialised, else to ``address`` (``auto``: the cluster
    started on this machine), ``RAY_ADDRESS``, or a new local Ray (shut down on exit)."""
    ray = require("ray", INSTALL, "--engine ray")
    require("ray.data", INSTALL, "--engine ray")
    if ray.is_initialized():  # type: ignore[attr-defined]
        yield ray
        return
    target = address or os.environ.get("RAY_ADDRESS") or "local"
    extra = {"include_dashboard": False} if target == "local" else {}
    try:  # the actors answer errors as results: their log lines (in Ray's session logs) stay off the terminal
        ray.init(address=target, logging_level=logging.ERROR, log_to_driver=False, **extra)  # type: ignore[attr-defined]
    except Exception as exc:  # ConnectionError, ValueError, RuntimeError by version
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RunError(f"--address {target}: cannot connect to a Ray cluster ({first})") from None
    try:
        yield ray
    finally:
        ray.shutdown()  # type: ignore[attr-defined]


@contextmanager
def quiet_data_context(ray: Any) -> Iterator[None]:
    """Ray Data without its own progress bars and start-up lines (the run shows its own), restored after."""
    ctx = ray.data.DataContext.get_current()
    quiet = {"enable_progress_bars": False, "print_on_execution_start": False, "enable_auto_log_stats": False}
    saved = {k: getattr(ctx, k) for k in quiet if hasattr(ctx, k)}
    logger = logging.getLogger("ray.data")
    level = logger.level
    for key in saved:
        setattr(ctx, key, quiet[key])
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for key, value in saved.items():
            setattr(ctx, key, value)
        logger.setLevel(level)
