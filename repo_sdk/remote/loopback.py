"""A minimal HTTP/1.1 server on 127.0.0.1 in a background thread, the base of the fake model servers.

It parses requests (keep-alive, ``Content-Length`` bodies) and hands each to
:meth:`LoopbackServer.answer`; the fake judge (:mod:`repo_sdk.judge.fakes`) and the
fake RM server (:mod:`repo_sdk.rm.fakes`) say what to answer. It counts what a
limit test needs, on the server's side: POST requests in flight now and at most
(``in_flight``, ``max_in_flight``) and when each POST arrived (``arrivals``,
``time.monotonic()``). It stops on ``stop()``, on leaving its ``with`` block, or
with the process (a daemon thread).

Example:
    >>> import httpx
    >>> class Hello(LoopbackServer):
    ...     async def answer(self, writer, method, path, raw, headers):
    ...         return await write_response(writer, 200, b'{"hello": "world"}')
    >>> with Hello() as server:
    ...     httpx.post(server.url + "/anything", json={}).json(), server.max_in_flight
    ({'hello': 'world'}, 1)
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from typing import TypeVar

__all__ = ["LoopbackServer", "write_response"]

_S = TypeVar("_S", bound="LoopbackServer")

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}


class LoopbackServer:
    """The server loop; subclasses implement :meth:`answer`."""

    def __init__(self) -> None:
        self.port = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.arrivals: deque[float] = deque(maxlen=100_000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    async def answer(
        self, writer: asyncio.StreamWriter, method: str, path: str, raw: bytes, headers: dict[str, str]
    ) -> bool:
        """Write one response (see :func:`write_response`); return False when the connection must close."""
        raise NotImplementedError

    def start(self: _S) -> _S:
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._shutdown)
            self._thread.join(10)

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024))
        self.port = server.sockets[0].getsockname()[1]
        self._server = server
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            loop.run_until_complete(server.wait_closed())
            loop.close()

    def _shutdown(self) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        assert self._loop is not None
        self._loop.call_later(0.05, self._loop.stop)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[:2]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                size = int(headers.get("content-length", "0"))
                body = await reader.readexactly(size) if size else b""
                if method == "POST":
                    self.arrivals.append(time.monotonic())
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    keep = await self.answer(writer, method, path, body, headers)
                finally:
                    if method == "POST":
                        self.in_flight -= 1
                if not keep or headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            writer.close()


async def write_response(writer: asyncio.StreamWriter, status: int, payload: bytes, extra: str = "") -> bool:
    """Write a JSON response (``extra``: more header lines); True (the connection stays open)."""
    head = f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {len(payload)}\r\n" + (extra + "\r\n" if extra else "") + "\r\n"
    writer.write(head.encode("latin-1") + payload)
    await writer.drain()
    return True
