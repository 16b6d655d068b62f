"""The shared limit in a Ray cluster: one named actor per server holds the slots.

Every process that calls the server (Ray actors on any node, the driver) asks the
actor ``repo-sdk-limit-<hash of the key>`` in the namespace ``repo_sdk`` for a slot
before each call and gives it back after. The first process to need it creates it
(``get_if_exists``), detached, with no CPU reserved, so it never starves a small
cluster and outlives the worker that happened to create it; a later job with other
limits reconfigures it. A slot is a lease: a holder that dies without giving it
back (a killed actor, a lost node) loses it after ``lease_s``, which must cover one
call's deadline. Start times for ``requests_per_second`` are handed out by the
actor too, as delays (no clock is shared between nodes).

:class:`LeaseTable` is the actor's bookkeeping, plain Python (tested without Ray).

Example:
    >>> table = LeaseTable(max_concurrency=1, requests_per_second=None, lease_s=10, clock=lambda: now)
    >>> now = 0.0
    >>> table.try_grant("a"), table.try_grant("b")
    (True, False)
    >>> now = 11.0  # "a" died holding its slot: its lease ran out
    >>> table.try_grant("b"), table.stats()["expired"]
    (True, 1)
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["NAMESPACE", "LeaseTable", "RayLimit", "actor_name"]

NAMESPACE = "repo_sdk"
log = logging.getLogger("repo_sdk.remote")


def actor_name(key: str) -> str:
    """The named actor of a server key."""
    return "repo-sdk-limit-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


class LeaseTable:
    """Slots as leases that expire, and evenly spaced start times (the actor's state).

    Args:
        max_concurrency: most leases at once (None: no bound).
        requests_per_second: start times are ``1 / rps`` apart (None: no spacing).
        lease_s: a lease not given back by then is taken back.
        clock: seconds, monotonic.
    """

    def __init__(
        self,
        max_concurrency: int | None,
        requests_per_second: float | None,
        lease_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.leases: dict[str, float] = {}  # lease id -> expiry
        self.waiting: set[str] = set()  # asked for, not granted yet
        self.cancelled: set[str] = set()  # given back while waiting
        self.next_start = 0.0
        self.counts = {"granted": 0, "expired": 0, "max_in_flight": 0}
        self.configure(max_concurrency, requests_per_second, lease_s)

    def configure(self, max_concurrency: int | None, requests_per_second: float | None, lease_s: float) -> None:
        self.max_concurrency, self.requests_per_second, self.lease_s = max_concurrency, requests_per_second, lease_s

    def _expire(self) -> None:
        now = self.clock()
        for lease, until in list(self.leases.items()):
            if until <= now:
                del self.leases[lease]
                self.counts["expired"] += 1

    def try_grant(self, lease: str) -> bool:
        """Grant ``lease`` a slot if one is free (expired leases are freed first)."""
        self._expire()
        if self.max_concurrency is not None and len(self.leases) >= self.max_concurrency:
            return False
        self.leases[lease] = self.clock() + self.lease_s
        self.counts["granted"] += 1
        self.counts["max_in_flight"] = max(self.counts["max_in_flight"], len(self.leases))
        return True

    def reserve(self, lease: str | None = None) -> float:
        """The delay before the next start (advancing it by ``1 / rps``); a lease's expiry moves by the delay."""
        if not self.requests_per_second:
            return 0.0
        now = self.clock()
        start = max(now, self.next_start)
        self.next_start = start + 1.0 / self.requests_per_second
        if lease in self.leases:
            self.leases[lease] += start - now
        return start - now

    def release(self, lease: str) -> None:
        """Give a lease back (one not granted yet is refused when its turn comes)."""
        if self.leases.pop(lease, None) is None and lease in self.waiting:
            self.cancelled.add(lease)

    def seconds_to_expiry(self) -> float | None:
        """Until the first lease runs out (None: no lease)."""
        return max(0.0, min(self.leases.values()) - self.clock()) if self.leases else None

    def stats(self) -> dict[str, Any]:
        return {**self.counts, "in_flight": len(self.leases), "max_concurrency": self.max_concurrency,
                "requests_per_second": self.requests_per_second}  # fmt: skip


class _LimitActor:
    """The Ray actor around a :class:`LeaseTable` (async: waiting callers cost no thread)."""

    def __init__(self, max_concurrency: int | None, requests_per_second: float | None, lease_s: float) -> None:
        self.table = LeaseTable(max_concurrency, requests_per_second, lease_s)
        self._changed: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def configure(self, max_concurrency: int | None, requests_per_second: float | None, lease_s: float) -> bool:
        """Set the limits; True when they changed."""
        table = self.table
        changed = (table.max_concurrency, table.requests_per_second, table.lease_s) != (
            max_concurrency, requests_per_second, lease_s)  # fmt: skip
        table.configure(max_concurrency, requests_per_second, lease_s)
        cond = self._condition()
        async with cond:
            cond.notify_all()
        return changed

    async def acquire(self, lease: str) -> float | None:
        """Wait for a slot; return the delay before the call may start (None: the caller gave up)."""
        table = self.table
        cond = self._condition()
        async with cond:
            table.waiting.add(lease)
            try:
                while lease not in table.cancelled and not table.try_grant(lease):
                    try:
                        await asyncio.wait_for(cond.wait(), table.seconds_to_expiry())
                    except asyncio.TimeoutError:
                        pass  # a lease ran out: try again
            finally:
                table.waiting.discard(lease)
            if lease in table.cancelled:  # given back while it waited its turn
                table.cancelled.discard(lease)
                table.release(lease)
                cond.notify()
                return None
            return table.reserve(lease)

    async def release(self, lease: str) -> None:
        cond = self._condition()
        async with cond:
            self.table.release(lease)
            cond.notify()

    async def stats(self) -> dict[str, Any]:
        return self.table.stats()


def _current_job() -> str | None:
    import ray

    return ray.get_runtime_context().get_job_id() if ray.is_initialized() else None


class RayLimit:
    """A :class:`~repo_sdk.remote.limits.SharedLimit` held by a named Ray actor (see the module docs).

    Args:
        key: the server's key (URL and model).
        max_concurrency: most calls in flight over the cluster (None: no bound).
        requests_per_second: most calls started per second over the cluster (None: no bound).
        lease_s: a slot not given back by then is taken back (a dead holder's).
    """

    def __init__(
        self, key: str, max_concurrency: int | None, requests_per_second: float | None, *, lease_s: float = 600.0
    ) -> None:
        self.key = key
        self.max_concurrency = max_concurrency
        self.requests_per_second = requests_per_second
        self.lease_s = lease_s
        self.name = actor_name(key)
        self._actor: Any = None
        self._job: str | None = None

    def actor(self) -> Any:
        """The named actor, created (detached, no CPU) if no process made it yet, with this limit's settings."""
        import ray

        if not ray.is_initialized():
            raise RuntimeError("global_limit 'ray' needs a Ray job: call ray.init() first (or use file)")
        job = ray.get_runtime_context().get_job_id()
        if self._actor is None or self._job != job:  # a handle from an earlier ray.init() is dead
            cls = ray.remote(num_cpus=0, max_restarts=-1)(_LimitActor)
            actor = cls.options(name=self.name, namespace=NAMESPACE, lifetime="detached", get_if_exists=True).remote(
                self.max_concurrency, self.requests_per_second, self.lease_s
            )
            settings = (self.max_concurrency, self.requests_per_second, self.lease_s)
            if ray.get(actor.configure.remote(*settings)):
                log.warning("shared limit of %s set to max_concurrency=%s, requests_per_second=%s (was different)",
                            self.key, *settings[:2])  # fmt: skip
            self._actor, self._job = actor, job
        return self._actor

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Ask the actor for a slot and a start time; give the slot back after the block."""
        fresh = self._actor is not None and self._job == _current_job()
        actor = self._actor if fresh else await asyncio.to_thread(self.actor)  # creating it waits on Ray
        lease = uuid.uuid4().hex
        try:
            delay = await actor.acquire.remote(lease)
        except BaseException:  # cancelled while waiting: the actor must not keep the slot for us
            actor.release.remote(lease)
            raise
        if delay is None:
            raise RuntimeError("the shared limit refused a slot it was asked for")
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            yield
        finally:
            actor.release.remote(lease)
