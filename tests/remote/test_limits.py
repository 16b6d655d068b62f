"""Shared limits on one machine: slots over threads, loops and processes, start times, dead holders."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from repo_sdk.remote.file_limit import FileLimit
from repo_sdk.remote.limits import limit_key, resolve_backend, shared_limit
from repo_sdk.remote.ray_limit import LeaseTable

KEY = limit_key("http://127.0.0.1:1/v1/chat/completions", "fake")


def test_slots_hold_over_threads_and_event_loops(tmp_path):
    limit = FileLimit(KEY, 3, None, directory=tmp_path)
    in_flight, peak, lock = 0, 0, threading.Lock()

    async def call():
        nonlocal in_flight, peak
        async with limit.slot():
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            with lock:
                in_flight -= 1

    async def many():
        await asyncio.gather(*(call() for _ in range(20)))

    threads = [threading.Thread(target=asyncio.run, args=(many(),)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert peak == 3
    assert limit.held() == set()


def test_a_cancelled_waiter_and_a_failing_call_give_their_slots_back(tmp_path):
    limit = FileLimit(KEY, 1, None, directory=tmp_path)

    async def go():
        async with limit.slot():
            waiter = asyncio.ensure_future(_enter(limit))
            await asyncio.sleep(0.05)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
        with pytest.raises(ZeroDivisionError):
            async with limit.slot():
                1 / 0  # noqa: B018
        await asyncio.wait_for(_enter(limit), 2)

    asyncio.run(go())
    assert limit.held() == set()


async def _enter(limit) -> None:
    async with limit.slot():
        pass


def test_start_times_are_spaced_over_event_loops(tmp_path):
    limit = FileLimit(KEY, None, 50.0, directory=tmp_path)
    starts: list[float] = []

    async def many():
        async def call():
            async with limit.slot():
                starts.append(time.monotonic())

        await asyncio.gather(*(call() for _ in range(10)))

    threads = [threading.Thread(target=asyncio.run, args=(many(),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    starts.sort()
    # a start is never earlier than its reserved time, reserved 20 ms apart (late starts may bunch: allow 0.1 s)
    for k, t in enumerate(starts):
        assert t - starts[0] >= k * 0.02 - 0.1


def test_a_stale_start_time_from_a_stepped_clock_is_ignored(tmp_path):
    limit = FileLimit(KEY, None, 1.0, directory=tmp_path)
    asyncio.run(_enter(limit))
    import struct

    with open(limit.path, "r+b") as f:  # a next start a day ahead: a clock stepped back, not a queue
        f.write(struct.pack("<d", time.time() + 86400))
    asyncio.run(asyncio.wait_for(_enter(limit), 5))


_HOLDER = textwrap.dedent(
    """
    import asyncio, sys, time
    from repo_sdk.remote.file_limit import FileLimit

    async def main():
        limit = FileLimit(sys.argv[1], 1, None, directory=sys.argv[2])
        async with limit.slot():
            print("held", flush=True)
            await asyncio.sleep(600)

    asyncio.run(main())
    """
)


def test_a_holder_killed_with_sigkill_frees_its_slot(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, KEY, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        limit = FileLimit(KEY, 1, None, directory=tmp_path)
        with pytest.raises(asyncio.TimeoutError):
            asyncio.run(asyncio.wait_for(_enter(limit), 0.5))  # the holder has it
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        start = time.monotonic()
        asyncio.run(asyncio.wait_for(_enter(limit), 10))
        assert time.monotonic() - start < 10
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)


def test_a_forked_child_does_not_inherit_its_parents_slots(tmp_path):
    import multiprocessing as mp

    limit = FileLimit(KEY, 1, None, directory=tmp_path)
    ctx = mp.get_context("fork")
    queue = ctx.Queue()

    def child():
        async def attempt():
            try:
                await asyncio.wait_for(_enter(limit), 0.3)
                return "entered"
            except asyncio.TimeoutError:
                return "waited"

        queue.put((sorted(limit.held()), asyncio.run(attempt())))

    async def parent():
        async with limit.slot():
            proc = ctx.Process(target=child)
            proc.start()
            got = await asyncio.to_thread(queue.get, True, 30)
            await asyncio.to_thread(proc.join, 30)
            return got

    assert asyncio.run(parent()) == ([], "waited")


def test_nothing_to_limit_is_no_limit_and_auto_is_file_without_ray():
    assert shared_limit("http://h/v1", "m", max_concurrency=None, requests_per_second=None) is None
    if "ray" not in sys.modules:
        assert resolve_backend("auto") == "file"
    a = shared_limit("http://h/v1", "m", max_concurrency=2, requests_per_second=None, backend="file")
    b = shared_limit("http://h/v1", "m", max_concurrency=2, requests_per_second=None, backend="file")
    assert a is b  # one object per process and settings: every client of the process shares its slots


# -- the Ray actor's bookkeeping, without Ray ------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_leases_bound_the_slots_and_expire():
    clock = Clock()
    table = LeaseTable(2, None, lease_s=5, clock=clock)
    assert [table.try_grant(x) for x in "abc"] == [True, True, False]
    table.release("a")
    assert table.try_grant("c")
    clock.now += 4.9
    assert not table.try_grant("d")
    assert table.seconds_to_expiry() == pytest.approx(0.1)
    clock.now += 0.2  # b and c were never given back (their holders died)
    assert table.try_grant("d") and table.stats()["expired"] == 2
    assert table.stats()["max_in_flight"] == 2


def test_start_delays_are_spaced_and_extend_the_lease():
    clock = Clock()
    table = LeaseTable(None, 4.0, lease_s=1, clock=clock)
    table.try_grant("a")
    delays = [table.reserve("a") for _ in range(4)]
    assert delays == pytest.approx([0.0, 0.25, 0.5, 0.75])
    clock.now += 1.5  # "a" waited 0.75 s for its start: its lease runs to 1.75 s
    assert table.try_grant("b") and "a" in table.leases


def test_a_waiter_that_gives_up_is_not_granted_later():
    table = LeaseTable(1, None, lease_s=60, clock=Clock())
    table.try_grant("a")
    table.waiting.add("b")
    table.release("b")  # b's caller was cancelled while it waited
    assert "b" in table.cancelled
    table.release("x")  # a lease nobody waits for: nothing to remember
    assert "x" not in table.cancelled
