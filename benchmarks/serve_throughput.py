"""Reward-server throughput and latency at 1, 16 and 64 concurrent clients.

Run: ``.venv/bin/python -m benchmarks.serve_throughput`` (``--help`` for the knobs).

The server (``repo-sdk-openrlhf``: FastAPI + uvicorn, the real ``/get_reward``) runs
in its own process, as in production; the clients (aiohttp, like OpenRLHF's, one request per
rollout sample, as ``SingleTurnAgentExecutor`` sends them) run here, on a keep-alive pool. Two
reward specs:

- ``rules``: the packaged negotiation rules (microseconds per sample), so the
  numbers are the server's own overhead: HTTP, JSON, chat-template split, pipeline.
- ``rules+rm``: plus a simulated RM source costing 5 ms per call + 0.1 ms per
  sample (a GPU forward pass's shape), where micro-batching pays.

Each spec is served twice: micro-batched (the default) and with ``--max-batch 1``
(the baseline: one source call per request). The ratio is batched / unbatched
throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SPECS = {
    "rules": {"name": "bench", "sources": {"rules": ["cot_leak", {"name": "max_length", "max_chars": 300}]}},
    "rules+rm": {
        "name": "bench",
        "sources": {"rm": {"type": "bench_sim_rm"}, "rules": ["cot_leak", {"name": "max_length", "max_chars": 300}]},
    },
}
HISTORY = [
    {"role": "system", "content": "You negotiate room prices for an online travel agency. Target: 95 EUR."},
    {"role": "user", "content": "Hello, this is Hotel Aurora. The twin room is 120 euros per night."},
]
REPLY = "Thank you! Could we agree on 95 euros per night if we promote your hotel on our homepage?"


def _sim_rm_plugin() -> Any:
    from repo_sdk import RewardSource, SourceScore, hookimpl

    class SimRM(RewardSource):
        """Simulated RM: 5 ms per call plus 0.1 ms per sample, like a batched forward pass."""

        name = "bench_sim_rm"
        kind = "rm"

        async def ascore(self, samples):
            await asyncio.sleep(0.005 + 0.0001 * len(samples))
            return [SourceScore(value=1.0 + len(s.response) / 1000) for s in samples]

    class Plugin:
        @hookimpl
        def register_sources(self, register: Any) -> None:
            register(SimRM)

    return Plugin()


def serve_main(args: argparse.Namespace) -> None:
    """The server process: builds the service (with the simulated RM registered) and serves."""
    import yaml
    from repo_sdk_openrlhf import ChatSplitter, RewardService
    from repo_sdk_openrlhf.server import ServerSettings, serve
    from transformers import AutoTokenizer

    from repo_sdk.testing import register_plugin

    with register_plugin(_sim_rm_plugin(), name="bench-sim-rm"):
        spec = yaml.safe_load(Path(args.spec_file).read_text())
        service = RewardService.from_spec(spec, splitter=ChatSplitter(AutoTokenizer.from_pretrained(args.tokenizer)))
        serve(service, port=args.serve, settings=ServerSettings(max_batch=args.max_batch))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(spec_file: Path, tokenizer: str, max_batch: int) -> tuple[subprocess.Popen, str]:
    import httpx

    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.serve_throughput",
        "--serve",
        str(port),
        "--spec-file",
        str(spec_file),
        "--tokenizer",
        tokenizer,
        "--max-batch",
        str(max_batch),
    ]
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


async def _load(url: str, body: dict[str, Any], clients: int, seconds: float) -> dict[str, float]:
    import aiohttp  # OpenRLHF's own client library (it comes with OpenRLHF's agent requirements)

    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=180)) as session:
        async with session.post(url, json=body) as r:  # warm-up
            await r.json()
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                async with session.post(url, json=body) as r:
                    r.raise_for_status()
                    await r.json()
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="load duration per measurement")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--specs", nargs="+", default=list(SPECS), choices=list(SPECS))
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--spec-file", help=argparse.SUPPRESS)
    parser.add_argument("--tokenizer", help=argparse.SUPPRESS)
    parser.add_argument("--max-batch", type=int, default=256, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve_main(args)
        return

    import httpx
    import yaml
    from transformers import AutoTokenizer

    from repo_sdk.rm.tiny import build_tiny_tokenizer

    work = Path(tempfile.mkdtemp(prefix="repo-sdk-bench-"))
    build_tiny_tokenizer().save_pretrained(work / "tok")
    tok = AutoTokenizer.from_pretrained(work / "tok")
    prompt = tok.apply_chat_template(HISTORY, tokenize=False, add_generation_prompt=True)
    body = {"query": [prompt + REPLY + tok.eos_token], "prompts": [prompt], "labels": ['{"target_price": 95}']}
    print(
        f"server: repo-sdk-openrlhf /get_reward in its own process; {args.seconds:.0f} s per point; "
        f"cpus={os.cpu_count()}"
    )
    print(
        f"{'spec':<9} {'clients':>7} | {'batched req/s':>13} {'p50 ms':>7} {'p99 ms':>7} {'batch':>5} | "
        f"{'max-batch 1 req/s':>17} {'p50 ms':>7} {'p99 ms':>7} | {'ratio':>5}"
    )
    for name in args.specs:
        spec_file = work / f"{name}.yaml"
        spec_file.write_text(yaml.safe_dump(SPECS[name]))
        results: dict[int, dict[int, dict[str, float]]] = {}
        for max_batch in (256, 1):
            proc, url = _start(spec_file, str(work / "tok"), max_batch)
            try:
                results[max_batch] = {}
                for c in args.clients:
                    before = httpx.get(url.replace("/get_reward", "/health")).json()
                    results[max_batch][c] = asyncio.run(_load(url, body, c, args.seconds))
                    after = httpx.get(url.replace("/get_reward", "/health")).json()
                    batches = max(after["batches"] - before["batches"], 1)
                    results[max_batch][c]["batch"] = (after["samples"] - before["samples"]) / batches
            finally:
                proc.terminate()
                proc.wait(timeout=20)
        for c in args.clients:
            b, u = results[256][c], results[1][c]
            print(
                f"{name:<9} {c:>7} | {b['rps']:>13.0f} {b['p50']:>7.1f} {b['p99']:>7.1f} {b['batch']:>5.1f} | "
                f"{u['rps']:>17.0f} {u['p50']:>7.1f} {u['p99']:>7.1f} | {b['rps'] / u['rps']:>5.2f}"
            )


if __name__ == "__main__":
    main()
