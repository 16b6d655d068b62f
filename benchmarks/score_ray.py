"""Scoring on Ray against one process: rows/s with 1 and 2 actors, the rate of one busy actor, the overheads.

Run: ``.venv/bin/python -m benchmarks.score_ray [--dialogues 1200] [--repeat 2] [--actors 1 2] [--block-records 50]``

The logs come from :mod:`benchmarks.corpus` (shaped like real ones: 4-60 agent turns per
dialogue, replies of 20-2,000 characters and a few of 64 KB - 1 MB, whitespace-only turns
skipped with ``--on-error skip``); the spec is the ``repo-sdk init`` scaffold's generic rules
(``--only rules``, as in ``benchmarks.rules_realistic``). One local Ray cluster (every core of
this machine) serves every run; its start is timed once.

For one process (``score_file``, ``--workers 1``) and for ``score --engine ray`` with each
number of actors, it prints the wall time and turns/s, the ratio to one process and to the
physical limit (one process's rate times ``min(actors, cores)``), and for the ray runs where
the time went: connecting, scoring (actors started, blocks read, scored and written as shards),
the actors' busy seconds (scoring and writing shards, summed), and assembling the outputs.
``turns/s per busy actor`` is the rate a cluster estimate multiplies by its actors. Each
figure is the best of ``--repeat`` runs, the engines alternating; every ray run's files are
checked byte for byte against the one-process files.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import write_corpus
from benchmarks.rules_realistic import scaffold
from repo_sdk.config import LoadedSpec, load_spec
from repo_sdk.io.rows import dialogue_path
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.score_run import score_file, skipped_path
from repo_sdk.shards.ray_engine import RayOptions, builds_elsewhere, score_file_ray
from repo_sdk.workers import usable_cores


def one_process(loaded: LoadedSpec, logs: Path, out: Path) -> dict[str, Any]:
    with RewardPipeline.from_spec(loaded, only=["rules"]) as pipe:
        wall = time.perf_counter()
        summary = score_file(pipe, logs, out, on_error="skip", progress=False, workers=1)
        return {"turns": summary.turns, "wall": time.perf_counter() - wall}


def on_ray(loaded: LoadedSpec, logs: Path, out: Path, actors: int, block_records: int) -> dict[str, Any]:
    with RewardPipeline.from_spec(loaded, only=["rules"], defer=builds_elsewhere) as pipe:
        wall = time.perf_counter()
        options = RayOptions(actors=actors, block_records=block_records)
        summary = score_file_ray(pipe, logs, out, on_error="skip", progress=False, options=options)
        return {"turns": summary.turns, "wall": time.perf_counter() - wall, **summary.timings}


def same_files(a: Path, b: Path) -> bool:
    def content(p: Path) -> bytes | None:
        return p.read_bytes() if p.exists() else None

    return all(content(f(a)) == content(f(b)) for f in (Path, dialogue_path, skipped_path))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dialogues", type=int, default=1200)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--block-records", type=int, default=50)
    args = ap.parse_args(argv)
    try:
        import ray
    except ImportError:  # Ray is optional: `python -m benchmarks` goes on with the others
        print("skipped: this benchmark needs Ray: pip install 'repo-sdk[ray]'")
        return 0
    cores = usable_cores()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        logs = root / "logs.jsonl"
        counts = write_corpus(logs, args.dialogues)
        loaded = load_spec(scaffold(root, "generic"))
        print(
            f"corpus: {counts['dialogues']} dialogues, {counts['agent_turns']} agent turns, "
            f"{counts['bytes'] / 1e6:.1f} MB; {cores} cores, load average {os.getloadavg()[0]:.1f}"
        )
        start = time.perf_counter()
        ray.init(address="local", num_cpus=cores, include_dashboard=False, log_to_driver=False)
        print(f"local Ray cluster started in {time.perf_counter() - start:.1f} s (not counted below)")
        best: dict[str, dict[str, Any]] = {}
        identical = True
        try:
            for _ in range(args.repeat):
                runs = {"one process": one_process(loaded, logs, root / "one.jsonl")}
                for n in args.actors:
                    out = root / f"ray{n}.jsonl"
                    runs[f"ray, {n} actor{'s' * (n > 1)}"] = on_ray(loaded, logs, out, n, args.block_records)
                    identical &= same_files(out, root / "one.jsonl")
                for name, run in runs.items():
                    if name not in best or run["wall"] < best[name]["wall"]:
                        best[name] = run
        finally:
            ray.shutdown()
    report(best, cores, args.actors, counts["bytes"] / 1e6)
    print(f"rows identical to one process's (turn rows, dialogue rows, skipped list), every run: {identical}")
    print(f"load average after: {os.getloadavg()[0]:.1f} (the machine is shared: rates move with it)")
    return 0 if identical else 1


def report(best: dict[str, dict[str, Any]], cores: int, actors: list[int], mb: float) -> None:
    base = best["one process"]
    rate = base["turns"] / base["wall"]
    print(f"{'engine':<16} {'wall s':>7} {'turns/s':>8} {'vs one':>7} {'of limit':>9}")
    print(f"{'one process':<16} {base['wall']:>7.1f} {rate:>8.0f} {1.0:>6.2f}x")
    for n in actors:
        run = best[f"ray, {n} actor{'s' * (n > 1)}"]
        r = run["turns"] / run["wall"]
        limit = r / (rate * min(n, cores))
        print(f"{f'ray, {n} actors':<16} {run['wall']:>7.1f} {r:>8.0f} {r / rate:>6.2f}x {limit:>8.0%}")
    print("where a ray run's time went, and the rate of one actor while it scores:")
    for n in actors:
        run = best[f"ray, {n} actor{'s' * (n > 1)}"]
        turns, busy, cpu = run["turns"], run["actors busy"], run["actors cpu"]
        print(
            f"  {n} actors: connect {run.get('connect', 0):.1f} s, first block {run.get('first block', 0):.1f} s "
            f"(the actors start), score {run.get('score', 0):.1f} s\n"
            f"    plan {run['plan']:.2f} s ({mb / run['plan']:,.0f} MB/s); assemble {run['assemble']:.1f} s "
            f"({turns / run['assemble']:,.0f} rows/s, {turns / run['assemble cpu']:,.0f} per CPU-second)\n"
            f"    actors busy {busy:.1f} s, {cpu:.1f} s CPU: {turns / busy:,.0f} turns/s per busy actor, "
            f"{turns / cpu:,.0f} per actor CPU-second"
        )


if __name__ == "__main__":
    sys.exit(main())
