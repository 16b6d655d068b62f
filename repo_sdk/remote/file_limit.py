"""The shared limit on one machine: byte-range locks on one file per server.

The file is ``<dir>/<hash of the key>.lock``; ``dir`` is ``$REPO_SDK_LIMIT_DIR``, else
``<temp dir>/repo-sdk-limits-<uid>``. Byte ``16 + i`` is slot ``i``: a process holds
the slot while it holds a POSIX record lock (``fcntl.lockf``) on that byte. Bytes
0-7 hold the next start time (wall clock, a double) of ``requests_per_second``,
read and advanced by ``1 / rps`` under a lock on those bytes.

Why record locks: the kernel drops every lock of a process when it exits, however
it exits (``kill -9`` included), so a dead holder never keeps a slot, and there is
no daemon to start or clean up. Record locks belong to a process, not to a file
descriptor: the threads and event loops of one process share one descriptor and
the set of slots they hold; a forked child holds no locks and opens the file anew.

Waiting polls: a round tries every slot once without blocking (from a random slot,
so waiters spread), then waits 1 ms, doubling up to 10 ms. A slot given back in this
process wakes its longest waiter at once; one freed by another process is seen
within the poll delay. The event loop never blocks on a lock.

Example:
    >>> import asyncio, tempfile
    >>> limit = FileLimit("http://127.0.0.1:9|m", 2, None, directory=tempfile.mkdtemp())
    >>> async def two_then_one():
    ...     async with limit.slot(), limit.slot():
    ...         held = sorted(limit.held())
    ...     return held, sorted(limit.held())
    >>> asyncio.run(two_then_one())
    ([0, 1], [])
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import random
import struct
import tempfile
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from repo_sdk.errors import ConfigError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]  # no record locks here: FileLimit says so when used

__all__ = ["FileLimit", "default_directory"]

_SLOT0 = 16  # byte of slot 0; bytes 0-7 hold the next start time
_STALE_S = 3600.0  # a next start time this far ahead is from a stepped clock, not a queue
_POLL_FIRST_S, _POLL_MAX_S = 0.001, 0.01


def _wake(woken: asyncio.Future[None]) -> None:
    if not woken.done():
        woken.set_result(None)


def default_directory() -> Path:
    """``$REPO_SDK_LIMIT_DIR``, else ``<temp dir>/repo-sdk-limits-<uid>`` (every process of a user agrees)."""
    env = os.environ.get("REPO_SDK_LIMIT_DIR")
    if env:
        return Path(env).expanduser()
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"repo-sdk-limits-{uid}"


class FileLimit:
    """A :class:`~repo_sdk.remote.limits.SharedLimit` held by record locks on one file (see the module docs).

    Args:
        key: the server's key (URL and model).
        max_concurrency: most calls in flight over every process of the machine (None: no bound).
        requests_per_second: most calls started per second over every process (None: no bound).
        directory: where the lock files live (default: :func:`default_directory`).
    """

    def __init__(
        self,
        key: str,
        max_concurrency: int | None,
        requests_per_second: float | None,
        directory: str | Path | None = None,
    ) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise ConfigError("global_limit 'file' needs a POSIX system (fcntl); use global_limit: ray")
        self.key = key
        self.max_concurrency = max_concurrency
        self.requests_per_second = requests_per_second
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        self.path = Path(directory) if directory is not None else default_directory()
        self.path = self.path / f"{digest}.lock"
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None
        self._held: set[int] = set()
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    def held(self) -> set[int]:
        """The slots this process holds now."""
        with self._lock:
            return set(self._held) if self._pid == os.getpid() else set()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a free slot and the next start time; hold the slot inside the block."""
        taken = await self._take() if self.max_concurrency else None
        try:
            if self.requests_per_second:
                delay = await self._reserve_start(1.0 / self.requests_per_second)
                if delay > 0:
                    await asyncio.sleep(delay)
            yield
        finally:
            if taken is not None:
                self._give_back(taken)

    # -- slots ------------------------------------------------------------------------------

    def _file(self) -> int:
        """The process's descriptor (caller holds ``_lock``); a forked child drops its parent's and reopens."""
        if self._pid != os.getpid():
            if self._fd is not None:
                os.close(self._fd)  # the parent's locks are the parent's: closing here leaves them alone
            self._held = set()
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        assert self._fd is not None
        return self._fd

    def _try_take(self) -> int | None:
        assert self.max_concurrency is not None
        with self._lock:
            fd = self._file()
            n = self.max_concurrency
            first = random.randrange(n)
            for k in range(n):
                i = (first + k) % n
                if i in self._held:  # record locks are per process: another task of ours holds it
                    continue
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SLOT0 + i, os.SEEK_SET)
                except OSError:  # held by another process
                    continue
                self._held.add(i)
                return i
        return None

    async def _take(self) -> int:
        wait = _POLL_FIRST_S
        loop = asyncio.get_running_loop()
        while True:
            woken: asyncio.Future[None] = loop.create_future()
            with self._lock:  # registered before trying: a slot given back in between wakes us
                self._waiters.append((loop, woken))
            try:
                if (slot := self._try_take()) is not None:
                    return slot
                try:
                    await asyncio.wait_for(woken, wait)
                except asyncio.TimeoutError:
                    wait = min(wait * 2, _POLL_MAX_S)
            finally:
                with self._lock:
                    if (loop, woken) in self._waiters:
                        self._waiters.remove((loop, woken))

    def _give_back(self, slot: int) -> None:
        with self._lock:
            if self._pid == os.getpid() and slot in self._held:
                assert self._fd is not None
                fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, _SLOT0 + slot, os.SEEK_SET)
                self._held.discard(slot)
            while self._waiters:  # the longest waiter of this process tries at once (the others poll)
                loop, woken = self._waiters.popleft()
                if woken.done():  # it gave up waiting meanwhile
                    continue
                try:
                    loop.call_soon_threadsafe(_wake, woken)
                    break
                except RuntimeError:  # its loop is closed
                    continue

    # -- start times ------------------------------------------------------------------------

    async def _reserve_start(self, interval: float) -> float:
        """Take the next start time (advancing it by ``interval``); return the seconds to wait for it."""
        while (delay := self._try_reserve(interval)) is None:
            await asyncio.sleep(0.001)  # another process is between its read and its write
        return delay

    def _try_reserve(self, interval: float) -> float | None:
        with self._lock:
            fd = self._file()
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 8, 0, os.SEEK_SET)
            except OSError:
                return None
            try:
                raw = os.pread(fd, 8, 0)
                now = time.time()
                planned = struct.unpack("<d", raw)[0] if len(raw) == 8 else 0.0
                if not math.isfinite(planned) or planned - now > _STALE_S:
                    planned = now
                start = max(now, planned)
                os.pwrite(fd, struct.pack("<d", start + interval), 0)
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN, 8, 0, os.SEEK_SET)
            return start - now
