"""Rules-only `repo-sdk score` on 10k and 100k generated dialogues: turns/s and peak memory.

Each size runs in its own process (`repo-sdk score`, the real CLI), so its peak RSS
is its own. Target (issue): peak memory at 100k within 1.2x of 10k — scoring streams.

    python -m benchmarks.score_scale                 # 10k and 100k
    python -m benchmarks.score_scale --sizes 1000 5000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = """\
sources:
  rules:
    - cot_leak
    - forbidden_terms
    - {name: numeric_consistency, fields: [current_price, target_price], history_roles: [user]}
    - repetition
    - mixed_script
    - format_breakage
    - {name: max_length, max_chars: 600}
batch_size: 256
"""

REPLIES = [
    "Good morning! I'm calling about your Deluxe Double Room, currently {cur} EUR per night. Is that right?",
    "Thank you! Would you consider {tgt} EUR per night? It would make the room much more competitive.",
    "I understand, costs went up everywhere. Could we meet at {mid} EUR per night?",
    "<think>they will cave</think>Our work order says {tgt} EUR, so please confirm.",
    "Wonderful, thank you! So the room will be {mid} EUR per night from now on. Have a great day!",
]
HOTEL = [
    "Hello, Hotel {n} reservations.",
    "Yes, {cur} euros is right.",
    "{tgt} is too low for us. The best we can do is {hi}.",
    "OK, {mid} works for us.",
]


def write_dialogues(path: Path, n: int, seed: int = 0) -> int:
    """Write n dialogues (2-4 agent turns each); returns the number of agent turns."""
    rng = random.Random(seed)
    turns_total = 0
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            cur = rng.randrange(90, 300)
            tgt = cur - rng.randrange(10, 40)
            vals = {"n": i, "cur": cur, "tgt": tgt, "hi": cur - 5, "mid": (cur + tgt) // 2}
            k = rng.randrange(2, 5)
            turns = []
            for j in range(k):
                turns.append({"role": "user", "content": HOTEL[j % len(HOTEL)].format(**vals)})
                turns.append({"role": "assistant", "content": rng.choice(REPLIES).format(**vals)})
            turns_total += k
            task = {"hotel": f"Hotel {i}", "current_price": cur, "target_price": tgt, "currency": "EUR"}
            fh.write(json.dumps({"id": f"d{i}", "task": task, "turns": turns}) + "\n")
    return turns_total


def run_size(workdir: Path, n: int) -> dict[str, float]:
    logs = workdir / f"logs-{n}.jsonl"
    turns = write_dialogues(logs, n)
    spec = workdir / "spec.yaml"
    spec.write_text(SPEC)
    cli = Path(sys.executable).with_name("repo-sdk")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(
        [
            str(cli),
            "score",
            str(logs),
            "-c",
            str(spec),
            "-o",
            str(workdir / f"out-{n}.jsonl"),
            "--no-progress",
            "--workers",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - start
    # ru_maxrss of children is the max over all waited-for children; sizes run in increasing
    # order, so a larger run's peak is only reported if it exceeds the smaller one's.
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "dialogues": n,
        "turns": turns,
        "seconds": seconds,
        "turns_per_s": turns / seconds,
        "peak_mib": max(peak_kib, before) / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = ap.parse_args(argv)
    sizes = sorted(args.sizes)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_size(Path(tmp), n) for n in sizes]
    print(f"{'dialogues':>10} {'turns':>9} {'seconds':>8} {'turns/s':>9} {'peak MiB':>9}")
    for r in rows:
        print(
            f"{r['dialogues']:>10} {r['turns']:>9} {r['seconds']:>8.1f} {r['turns_per_s']:>9.0f} {r['peak_mib']:>9.1f}"
        )
    ratio = rows[-1]["peak_mib"] / rows[0]["peak_mib"]
    verdict = "ok" if ratio <= 1.2 else "OVER TARGET"
    print(f"peak memory {sizes[-1]} / {sizes[0]}: {ratio:.3f}x (target <= 1.2x): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
