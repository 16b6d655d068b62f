"""Limits on one model server shared by every process and Ray actor that calls it.

A source's ``concurrency`` bounds the calls of one process; N scoring workers, Ray
actors or trainer reward workers multiply it against one server. A shared limit
holds for all of them together: at most ``max_concurrency`` calls in flight and at
most ``requests_per_second`` calls started per second (spaced ``1 / rps`` apart),
keyed by the server's URL and model name. Two backends hold it:

- ``file`` (:mod:`repo_sdk.remote.file_limit`): byte-range locks on one file per
  key on this machine; the kernel frees a dead process's slots.
- ``ray`` (:mod:`repo_sdk.remote.ray_limit`): one named actor per key in the Ray
  cluster; a slot is a lease that expires if its holder dies.

``auto`` picks ``ray`` in a process where Ray is initialised (a Ray worker, actor or
driver), else ``file``.

Example:
    >>> shared_limit("http://gpu-box:8000/v1", "qwen", max_concurrency=None, requests_per_second=None) is None
    True
    >>> limit = shared_limit("http://gpu-box:8000/v1", "qwen", max_concurrency=4, requests_per_second=None,
    ...                      backend="file")
    >>> type(limit).__name__, limit.max_concurrency
    ('FileLimit', 4)
    >>> limit_key("http://gpu-box:8000/v1/", "qwen")
    'http://gpu-box:8000/v1|qwen'
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

from repo_sdk.errors import ConfigError

__all__ = ["LimitBackend", "SharedLimit", "check_backend", "limit_key", "ray_active", "resolve_backend", "shared_limit"]

LimitBackend = Literal["auto", "file", "ray"]

_limits: dict[tuple[Any, ...], SharedLimit] = {}
_lock = threading.Lock()


class SharedLimit(Protocol):
    """A limit shared across processes: ``async with limit.slot():`` around each HTTP call."""

    key: str
    max_concurrency: int | None
    requests_per_second: float | None

    def slot(self) -> AbstractAsyncContextManager[None]:
        """Wait for a free slot and the next start time, hold the slot inside the block."""
        ...


def limit_key(url: str, model: str | None) -> str:
    """The key every process computes alike for one server: its URL without a trailing slash, and the model."""
    return f"{url.rstrip('/')}|{model or ''}"


def ray_active() -> bool:
    """True in a process where Ray is imported and initialised (never imports Ray itself)."""
    ray = sys.modules.get("ray")
    return ray is not None and bool(getattr(ray, "is_initialized", lambda: False)())


def check_backend(backend: LimitBackend) -> None:
    """At build time: the ``ray`` backend needs Ray installed.

    Raises:
        ConfigError: naming what to install.
    """
    if backend == "ray" and importlib.util.find_spec("ray") is None:
        raise ConfigError("global_limit 'ray' needs Ray: pip install ray (or use global_limit: file)")


def resolve_backend(backend: LimitBackend) -> Literal["file", "ray"]:
    """``auto`` -> ``ray`` where Ray is initialised, else ``file``; the others as given."""
    if backend == "auto":
        return "ray" if ray_active() else "file"
    return backend


def shared_limit(
    url: str,
    model: str | None,
    *,
    max_concurrency: int | None,
    requests_per_second: float | None,
    backend: LimitBackend = "auto",
    lease_s: float = 600.0,
) -> SharedLimit | None:
    """The process's limit object for a server (one per key and settings), or None when nothing is limited.

    Args:
        url: the server's endpoint URL.
        model: the model name sent to it (part of the key).
        max_concurrency: most calls in flight over every process (None: no bound).
        requests_per_second: most calls started per second over every process (None: no bound).
        backend: ``auto``, ``file`` or ``ray`` (see the module docs).
        lease_s: how long a Ray slot may be held before it is taken back (a dead holder's);
            at least one call's deadline.
    """
    if max_concurrency is None and requests_per_second is None:
        return None
    chosen = resolve_backend(backend)
    key = limit_key(url, model)
    cache_key = (chosen, key, max_concurrency, requests_per_second, lease_s)
    with _lock:
        found = _limits.get(cache_key)
        if found is None:
            if chosen == "ray":
                from repo_sdk.remote.ray_limit import RayLimit

                found = RayLimit(key, max_concurrency, requests_per_second, lease_s=lease_s)
            else:
                from repo_sdk.remote.file_limit import FileLimit

                found = FileLimit(key, max_concurrency, requests_per_second)
            _limits[cache_key] = found
        return found
