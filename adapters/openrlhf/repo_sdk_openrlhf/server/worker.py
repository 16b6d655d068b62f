"""An event loop in a thread of its own, where the server's scoring runs.

The server's own loop only reads requests and writes answers; every batch is scored
on a worker loop, whose sync sources run in that loop's thread pool. A rule that
takes long (or a sync source called inline) then holds up its worker loop, never
the server's. Each lane of the server has its own worker loop.

Example:
    >>> import asyncio
    >>> async def where():
    ...     return threading.current_thread().name
    >>> worker = LoopThread("scoring")
    >>> asyncio.run(worker.run(where()))
    'scoring'
    >>> worker.close()
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """A daemon thread running an event loop until :meth:`close`.

    Args:
        name: the thread's name (shown in tracebacks and profilers).
    """

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the worker loop from another loop (cancelling this cancels it there)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def close(self) -> None:
        """Stop the loop and wait (briefly) for its thread; work still running there is dropped."""
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
