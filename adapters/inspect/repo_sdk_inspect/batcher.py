"""Micro-batching: the scorer calls in flight on one event loop become one pipeline call.

inspect scores each sample as it finishes, many at once. Gathering the calls that arrive
together (within ``max_wait_ms``, at most ``max_batch``) into one
:meth:`repo_sdk.RewardPipeline.ascore` call lets the RM score a padded batch; the judge's
requests run concurrently either way. A batch that raises is scored again sample by sample, so
one bad sample takes only its own reward down. Every Sample carries a group of its own, so the
batch a sample lands in never changes its reward.

Each event loop gets its own queue: a scorer used by two ``eval()`` calls (two loops) keeps working.

Example:
    >>> import asyncio
    >>> from repo_sdk import RewardPipeline
    >>> from repo_sdk.testing import make_sample
    >>> pipe = RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}})
    >>> batcher = MicroBatcher(pipe.ascore, max_batch=8, max_wait_ms=5)
    >>> async def many():
    ...     replies = ["<think>x</think>80?", "80?", "Deal."]
    ...     return await asyncio.gather(*(batcher.submit(make_sample(response=r)) for r in replies))
    >>> [r.reward for r in asyncio.run(many())], batcher.stats["batches"]
    ([-0.1, 0.0, 0.0], 1)
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from repo_sdk.types import RewardResult, Sample

__all__ = ["MicroBatcher"]

ScoreBatch = Callable[[Sequence[Sample]], Awaitable[list[RewardResult]]]


@dataclass
class _LoopQueue:
    items: list[tuple[Sample, asyncio.Future[RewardResult]]] = field(default_factory=list)
    drain: asyncio.Task[None] | None = None


class MicroBatcher:
    """Scores submitted Samples in batches (see the module docs).

    Args:
        score_batch: the batch scorer, e.g. ``pipeline.ascore``.
        max_batch: most samples per call.
        max_wait_ms: how long the first call of a batch waits for others.
    """

    def __init__(self, score_batch: ScoreBatch, *, max_batch: int = 64, max_wait_ms: float = 5.0) -> None:
        if max_batch < 1 or max_wait_ms < 0:
            raise ValueError(f"max_batch must be >= 1 and max_wait_ms >= 0 (got {max_batch}, {max_wait_ms})")
        self.score_batch = score_batch
        self.max_batch = max_batch
        self.max_wait_s = max_wait_ms / 1000.0
        self.stats = {"calls": 0, "batches": 0, "max_batch_seen": 0, "isolated": 0}
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue] = weakref.WeakKeyDictionary()

    async def submit(self, sample: Sample) -> RewardResult:
        """The sample's result; raises what scoring it alone raised."""
        loop = asyncio.get_running_loop()
        queue = self._queues.setdefault(loop, _LoopQueue())
        future: asyncio.Future[RewardResult] = loop.create_future()
        queue.items.append((sample, future))
        self.stats["calls"] += 1
        if queue.drain is None or queue.drain.done():
            queue.drain = loop.create_task(self._drain(queue))
        return await future

    async def _drain(self, queue: _LoopQueue) -> None:
        batch: list[tuple[Sample, asyncio.Future[RewardResult]]] = []
        try:
            while queue.items:
                await asyncio.sleep(self.max_wait_s)  # let the calls arriving together queue up
                batch, queue.items = queue.items[: self.max_batch], queue.items[self.max_batch :]
                batch = [(s, f) for s, f in batch if not f.done()]  # a cancelled sample is not scored
                if not batch:
                    continue
                self.stats["batches"] += 1
                self.stats["max_batch_seen"] = max(self.stats["max_batch_seen"], len(batch))
                outcomes = await self._score([s for s, _ in batch])
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue
                    if isinstance(outcome, BaseException):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:  # cancelled (the loop is closing): no caller waits forever
            for _, future in [*batch, *queue.items]:
                if not future.done():
                    future.cancel()

    async def _score(self, samples: list[Sample]) -> list[RewardResult | BaseException]:
        try:
            return list(await self.score_batch(samples))
        except Exception as exc:
            if len(samples) == 1:
                return [exc]
        self.stats["isolated"] += len(samples)
        return list(await asyncio.gather(*(self._score_one(s) for s in samples)))

    async def _score_one(self, sample: Sample) -> RewardResult | BaseException:
        try:
            return (await self.score_batch([sample]))[0]
        except Exception as exc:
            return exc
