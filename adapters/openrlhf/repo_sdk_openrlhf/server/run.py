"""Running the reward server: in the foreground (``repo-sdk serve``) or in a thread (tests, benchmarks).

Example:
    >>> from repo_sdk_openrlhf.chat import PlainSplitter
    >>> from repo_sdk_openrlhf.service import RewardService
    >>> import httpx
    >>> svc = RewardService.from_spec({"sources": {"rules": ["cot_leak"]}}, splitter=PlainSplitter())
    >>> with ServerThread(svc, lifetime_s=30) as srv:
    ...     httpx.post(srv.url, json={"query": ["Q:ok"], "prompts": ["Q:"]}).json()["rewards"]
    [0.0]
"""

from __future__ import annotations

import errno
import socket
import sys
import threading
import time
from typing import Any

import uvicorn

from repo_sdk.errors import RunError
from repo_sdk_openrlhf.server.app import ServerSettings, create_app
from repo_sdk_openrlhf.service import RewardService

__all__ = ["ServerThread", "bind", "serve"]


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket (``port=0`` picks a free one).

    Raises:
        RunError: one line naming the host or the port: the port is in use or privileged,
            the host is unknown or not an address of this machine.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP,
    # and without it Nagle plus delayed ACKs add ~40 ms to every response
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except (OSError, OverflowError) as exc:
        sock.close()
        raise RunError(_bind_problem(host, port, exc)) from None
    return sock


def _bind_problem(host: str, port: int, exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return f"--host {host!r}: unknown host ({exc.strerror})"
    code = getattr(exc, "errno", None)
    if code == errno.EADDRINUSE:
        return f"--port {port}: port {port} on {host} is in use (another server?); pick another port"
    if code == errno.EACCES:
        return f"--port {port}: binding port {port} on {host} is not permitted (ports below 1024 need privileges)"
    if code == errno.EADDRNOTAVAIL:
        return f"--host {host!r}: not an address of this machine"
    return f"cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}"


def _config(app: Any, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on", timeout_keep_alive=30)


def serve(
    service: RewardService,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    settings: ServerSettings | None = None,
    log_level: str = "warning",
    sock: socket.socket | None = None,
) -> None:
    """Serve in the foreground until interrupted, on ``sock`` if given (see :func:`bind`), else on host:port."""
    sock = sock or bind(host, port)
    server = uvicorn.Server(_config(create_app(service, settings), log_level))
    # A batch of pure-Python rules holds the GIL in slices of the switch interval; every hand-off
    # to the event loop (or to another batch) waits up to one slice. 1 ms instead of 5 keeps small
    # requests quick while a huge one is scored (benchmarks/serve_stall.py), at ~1% of throughput.
    sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


class ServerThread:
    """The server in a background thread on a free loopback port; stops on exit or after ``lifetime_s``.

    Args:
        service: what to serve.
        settings: server knobs.
        host: interface to bind.
        lifetime_s: the server stops by itself after this long, whatever happens.
    """

    def __init__(
        self,
        service: RewardService,
        settings: ServerSettings | None = None,
        *,
        host: str = "127.0.0.1",
        lifetime_s: float = 300.0,
    ) -> None:
        self.sock = bind(host, 0)
        self.port = self.sock.getsockname()[1]
        self.base_url = f"http://{host}:{self.port}"
        self.url = f"{self.base_url}/get_reward"
        self.app = create_app(service, settings)
        self.server = uvicorn.Server(_config(self.app, "warning"))
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self._timer = threading.Timer(lifetime_s, self.stop)
        self._timer.daemon = True

    def start(self) -> ServerThread:
        self._thread.start()
        self._timer.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the reward server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._timer.cancel()
        self._thread.join(timeout=10)
        self.sock.close()
