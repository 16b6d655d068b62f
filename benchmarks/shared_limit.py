"""What a limit shared across processes costs per call, and how close a contended one gets to its bound.

    python -m benchmarks.shared_limit            # the file limit (lock files on this machine)
    python -m benchmarks.shared_limit --ray      # the Ray actor too (starts a local cluster, ~10 s)

Two figures per backend:

- the cost of one slot (take, give back) with no one waiting, in microseconds, against
  no limit at all (the HTTP call it guards takes milliseconds);
- with ``slots`` slots and calls of ``call_ms`` each, ``workers`` processes keep more
  calls waiting than there are slots: the calls per second reached, against the
  bound ``slots / call_ms`` (1.0 would be a slot never idle; waiters poll, so a freed
  slot stays idle up to the poll delay).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import tempfile
import time

from repo_sdk.remote.file_limit import FileLimit
from repo_sdk.remote.limits import limit_key

KEY = limit_key("http://127.0.0.1:1/bench", "bench")


async def _free_slots(limit, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        async with limit.slot():
            pass
    return (time.perf_counter() - start) / n * 1e6


async def _busy(limit, calls: int, call_s: float, concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one():
        async with gate, limit.slot():
            await asyncio.sleep(call_s)

    await asyncio.gather(*(one() for _ in range(calls)))


def _worker(directory: str, slots: int, calls: int, call_s: float, go, done) -> None:
    limit = FileLimit(KEY, slots, None, directory=directory)
    go.wait()  # every process is up: start-up is not measured
    asyncio.run(_busy(limit, calls, call_s, concurrency=slots))
    done.put(time.time())


class _NoLimit:
    def slot(self):
        return _Null()


class _Null:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ray", action="store_true", help="also the Ray actor (starts a local cluster)")
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3, help="processes sharing the slots")
    parser.add_argument("--call-ms", type=float, default=20.0)
    parser.add_argument("--calls", type=int, default=200, help="calls per process")
    args = parser.parse_args(argv)
    directory = tempfile.mkdtemp(prefix="repo-sdk-limit-bench-")

    base = asyncio.run(_free_slots(_NoLimit(), 20000))
    free = asyncio.run(_free_slots(FileLimit(KEY, args.slots, None, directory=directory), 20000))
    print(f"slot with no one waiting: file {free:.1f} us (no limit: {base:.2f} us)")

    call_s = args.call_ms / 1000
    ctx = mp.get_context("spawn")
    go, done = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(directory, args.slots, args.calls, call_s, go, done))
             for _ in range(args.workers)]  # fmt: skip
    for p in procs:
        p.start()
    time.sleep(3)  # let every process import and wait at the start line
    start = time.time()
    go.set()
    elapsed = max(done.get(timeout=600) for _ in procs) - start
    for p in procs:
        p.join()
    rate, bound = args.workers * args.calls / elapsed, args.slots / call_s
    print(f"{args.workers} processes, {args.slots} file slots, {args.call_ms:g} ms calls: {rate:.0f} calls/s, "
          f"{rate / bound:.2f} of the bound {bound:.0f}/s")  # fmt: skip

    if args.ray:
        import ray

        from repo_sdk.remote.ray_limit import RayLimit

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            limit = RayLimit(KEY, args.slots, None, lease_s=60)
            limit.actor()
            per = asyncio.run(_free_slots(limit, 500))
            print(f"slot with no one waiting: ray {per:.0f} us (one actor call; the release is not awaited)")
            start = time.perf_counter()
            asyncio.run(_busy(limit, args.workers * args.calls, call_s, concurrency=4 * args.slots))
            rate = args.workers * args.calls / (time.perf_counter() - start)
            print(f"one process, {args.slots} ray slots, {args.call_ms:g} ms calls: {rate:.0f} calls/s, "
                  f"{rate / bound:.2f} of the bound {bound:.0f}/s")  # fmt: skip
        finally:
            ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
