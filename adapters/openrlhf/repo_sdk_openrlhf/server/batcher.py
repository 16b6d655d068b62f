"""Micro-batching: concurrent requests become one source call.

Requests queue up while a batch is being scored; the worker then takes every
queued request (up to ``max_batch`` samples) as the next batch, so a lone client
waits for nothing and a busy server scores large batches. ``max_wait_ms`` lets
the worker wait a little for more before scoring. With ``max_concurrent > 1``
that many batches are scored at once, so one slow batch does not hold up the
requests that arrive after it.

Example:
    >>> import asyncio
    >>> async def double(xs):
    ...     return [2 * x for x in xs]
    >>> async def main():
    ...     b = MicroBatcher(double)
    ...     out = await asyncio.gather(b.submit([1, 2]), b.submit([3]))
    ...     await b.close()
    ...     return out, b.stats["batches"]
    >>> asyncio.run(main())
    ([[2, 4], [6]], 1)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["MicroBatcher"]

In = TypeVar("In")
Out = TypeVar("Out")


class MicroBatcher(Generic[In, Out]):
    """Gathers concurrent ``submit`` calls into batched calls of ``score``.

    Args:
        score: scores a batch, one output per input, in order.
        max_batch: most inputs per batch (a larger request is still scored whole).
        max_wait_ms: how long the worker waits for more requests before scoring.
        max_concurrent: batches scored at the same time.
    """

    def __init__(
        self,
        score: Callable[[list[In]], Awaitable[Sequence[Out]]],
        *,
        max_batch: int = 256,
        max_wait_ms: float = 0.0,
        max_concurrent: int = 1,
    ) -> None:
        if max_batch < 1 or max_concurrent < 1:
            raise ValueError(f"max_batch and max_concurrent must be >= 1, got {max_batch}, {max_concurrent}")
        self._score = score
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self._queue: asyncio.Queue[tuple[list[In], asyncio.Future[list[Out]]]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self.max_concurrent = max_concurrent
        self._slots: asyncio.Semaphore | None = None
        self._running: set[asyncio.Task[None]] = set()
        self.stats: dict[str, int] = {"requests": 0, "samples": 0, "batches": 0, "max_batch_seen": 0}

    async def submit(self, items: Sequence[In]) -> list[Out]:
        """Score ``items`` as part of the next batch; their outputs, in order."""
        if not items:
            return []
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run())
        future: asyncio.Future[list[Out]] = asyncio.get_running_loop().create_future()
        await self._queue.put((list(items), future))
        return await future

    async def _take(self) -> list[tuple[list[In], asyncio.Future[list[Out]]]]:
        assert self._queue is not None
        batch = [await self._queue.get()]
        size = len(batch[0][0])
        await asyncio.sleep(0)  # let requests that arrived together enqueue
        deadline = asyncio.get_running_loop().time() + self.max_wait
        while size < self.max_batch:
            try:
                if self._queue.empty() and self.max_wait > 0:
                    remaining = deadline - asyncio.get_running_loop().time()
                    item = await asyncio.wait_for(self._queue.get(), timeout=max(remaining, 0))
                else:
                    item = self._queue.get_nowait()
            except (asyncio.QueueEmpty, asyncio.TimeoutError):
                break
            batch.append(item)
            size += len(item[0])
        return batch

    async def _run(self) -> None:
        self._slots = asyncio.Semaphore(self.max_concurrent)
        while True:
            await self._slots.acquire()  # while every slot is busy, requests pile up into the next batch
            batch = await self._take()
            task = asyncio.create_task(self._score_batch(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _score_batch(self, batch: list[tuple[list[In], asyncio.Future[list[Out]]]]) -> None:
        inputs = [x for items, _ in batch for x in items]
        self.stats["requests"] += len(batch)
        self.stats["samples"] += len(inputs)
        self.stats["batches"] += 1
        self.stats["max_batch_seen"] = max(self.stats["max_batch_seen"], len(inputs))
        try:
            outputs = list(await self._score(inputs))
            if len(outputs) != len(inputs):
                raise RuntimeError(f"scored {len(inputs)} inputs but got {len(outputs)} outputs")
        except Exception as exc:
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        finally:
            assert self._slots is not None
            self._slots.release()
        start = 0
        for items, fut in batch:
            if not fut.done():  # a request that ran out of time is done (cancelled) already
                fut.set_result(outputs[start : start + len(items)])
            start += len(items)

    async def close(self) -> None:
        """Stop the worker (pending requests are cancelled)."""
        for task in [self._worker, *self._running]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._worker = None

    def __repr__(self) -> str:
        return f"MicroBatcher(max_batch={self.max_batch}, stats={self.stats})"
