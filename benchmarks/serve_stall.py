"""Does one huge reply stall the reward server? Small-request latency alone and with a 128 KB reply in flight.

Run: ``.venv/bin/python -m benchmarks.serve_stall`` (``--help`` for the knobs).

The real ``repo-sdk serve`` runs in its own process with the scaffold's rules (the
negotiation pack where it is installed, else the generic one), plain tokenizer. 8
clients post small replies in a closed loop for ``--seconds``: first alone (the
baseline: what the server does with nothing in its way), then while one request
holding a ``--reply-kb`` reply is being scored (until it is answered). The ratio of the two p50s is the
stall; 1.0 means the huge reply costs the others nothing (it shares the CPU, so
expect some). The huge request's own time and status (200, or 504 past the budget)
are printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.serve_throughput import _free_port, _load

RULES = """sources:
  rules:
    - {name: forbidden_terms, allow: [train ticket]}
    - repetition
    - format_breakage
    - cot_leak
    - {name: max_length, max_chars: 600}
"""
NEGOTIATION = (
    "    - negotiation.price_consistency\n    - negotiation.invented_discount\n    - negotiation.repeated_script\n"
)
TASK = '{"task": {"tickets": [{"id": "T1", "room_type": "Twin Room", "current_price": 120, "target_price": 95}]}}'
SMALL = "Q:Thank you! Could we agree on 95 EUR per night for the twin room?"
FILLER = "We could do 99 EUR per night for the twin room, or 97 EUR if you promote us. "


def _start(spec: Path, budget: float) -> tuple[subprocess.Popen, str]:
    import httpx

    port = _free_port()
    cli = str(Path(sys.executable).with_name("repo-sdk"))
    cmd = [cli, "serve", str(spec), "--port", str(port), "--tokenizer", "plain", "--max-request-seconds", str(budget)]
    proc = subprocess.Popen(cmd, env={**os.environ, "HF_HUB_OFFLINE": "1"}, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/health", timeout=1)
            return proc, f"{base}/get_reward"
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark server did not start") from None
            time.sleep(0.1)


async def _with_huge(url: str, small: dict, huge: dict, clients: int, seconds: float) -> tuple[dict, float, int]:
    """Small requests in a closed loop while the huge one is in flight (until it is answered, or ``seconds``)."""
    import aiohttp

    latencies: list[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=900)) as session:

        async def post(body: dict) -> int:
            async with session.post(url, json=body) as r:
                await r.read()
                return r.status

        await post(small)  # warm-up, before the huge one
        t0 = time.perf_counter()
        big = asyncio.create_task(post(huge))
        await asyncio.sleep(0.3)  # the huge reply is being scored now
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < stop and not big.done():
                t = time.perf_counter()
                await post(small)
                latencies.append(time.perf_counter() - t)

        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t0 - 0.3
        status = await big
        huge_s = time.perf_counter() - t0
    latencies.sort()
    stats = {
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000,
        "max": latencies[-1] * 1000,
    }
    return stats, huge_s, status


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="load duration per measurement")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--reply-kb", type=int, default=128, help="size of the huge reply")
    parser.add_argument("--budget", type=float, default=60.0, help="the server's --max-request-seconds")
    args = parser.parse_args(argv)

    from repo_sdk.plugins import get_registry

    work = Path(tempfile.mkdtemp(prefix="repo-sdk-bench-"))
    spec = work / "spec.yaml"
    negotiation = "negotiation.price_consistency" in get_registry().rules
    spec.write_text(RULES + (NEGOTIATION if negotiation else ""))
    small = {"query": [SMALL], "labels": [TASK]}
    filler = FILLER * (args.reply_kb * 1024 // len(FILLER) + 1)
    huge = {"query": ["Q:" + filler[: args.reply_kb * 1024]], "labels": [TASK]}
    proc, url = _start(spec, args.budget)
    try:
        alone = asyncio.run(_load(url, small, args.clients, args.seconds))
        during, huge_s, status = asyncio.run(_with_huge(url, small, huge, args.clients, args.seconds))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    pack = "generic + negotiation" if negotiation else "generic"
    print(f"server: repo-sdk serve ({pack} rules) in its own process; {args.clients} clients; cpus={os.cpu_count()}")
    print(f"{'small requests':<30} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    print(f"{'alone (baseline)':<30} {alone['rps']:>7.0f} {alone['p50']:>8.1f} {alone['p99']:>8.1f} {'':>8}")
    label = f"with a {args.reply_kb} KB reply in flight"
    print(f"{label:<30} {during['rps']:>7.0f} {during['p50']:>8.1f} {during['p99']:>8.1f} {during['max']:>8.1f}")
    print(f"p50 ratio (in flight / alone): {during['p50'] / alone['p50']:.2f}")
    print(f"the {args.reply_kb} KB request: HTTP {status} after {huge_s:.1f} s (budget {args.budget:g} s)")


if __name__ == "__main__":
    main()
