"""Golden check: the rows of this checkout against another checkout's, on the same generated logs.

Run: ``.venv/bin/python -m benchmarks.golden_rows --baseline /path/to/other/.venv/bin/repo-sdk [--dialogues 400]``

Scores a generated corpus (:mod:`benchmarks.corpus`, without the huge replies a
quadratic baseline would not finish; ``--huge-rate 0.01 --max-kb 300`` adds some)
with the scaffold's generic and negotiation rule packs (``--only rules``) through
both ``repo-sdk`` executables, then compares the turn and dialogue rows as JSON
values and byte for byte (a baseline from before rows became compact JSON lines
differs in layout only). It prints each pack's row counts, the time each side took,
and every kind of difference (which fields, which rules, with an example), and exits
1 when a pack's rows differ.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.corpus import write_corpus
from benchmarks.rules_realistic import PACKS, scaffold


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def hits(row: dict) -> set[tuple]:
    found = row.get("fired", row.get("dialogue_fired", []))
    return {(h["rule"], tuple(h["span"]) if h["span"] else None, h["reason"]) for h in found}


def compare(a: list[dict], b: list[dict]) -> Counter:
    kinds: Counter = Counter()
    for ra, rb in zip(a, b, strict=False):
        if ra != rb:
            fields = tuple(sorted(k for k in set(ra) | set(rb) if ra.get(k) != rb.get(k)))
            rules = tuple(sorted({h[0] for h in hits(ra) ^ hits(rb)}))
            kinds[(fields, rules, ra.get("sample_id") or ra.get("dialogue_id"))] += 1
    if len(a) != len(b):
        kinds[(("row count",), (), f"{len(a)} vs {len(b)}")] += 1
    return kinds


def score(cli: str, spec: Path, logs: Path, out: Path, pack: str) -> float:
    env = dict(os.environ)
    if pack == "generic":
        env["REPO_SDK_PLUGINS"] = ""
    start = time.perf_counter()
    cmd = [cli, "score", str(logs), "-c", str(spec), "--only", "rules", "-o", str(out), "--on-error", "skip"]
    subprocess.run([*cmd, "--no-progress"], check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="the other checkout's repo-sdk executable")
    ap.add_argument("--dialogues", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--huge-rate", type=float, default=0.0, help="share of replies of 64 KB up to --max-kb")
    ap.add_argument("--max-kb", type=int, default=1024, help="largest huge reply, in KB")
    args = ap.parse_args(argv)
    ours = str(Path(sys.executable).with_name("repo-sdk"))
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        logs = root / "logs.jsonl"
        counts = write_corpus(
            logs, args.dialogues, seed=args.seed, huge_rate=args.huge_rate, max_huge=args.max_kb * 1024
        )
        print(f"corpus: {counts['dialogues']} dialogues, {counts['agent_turns']} agent turns")
        for pack in PACKS:
            spec = scaffold(root, pack)
            took = {}
            for side, cli in (("baseline", args.baseline), ("ours", ours)):
                took[side] = score(cli, spec, logs, root / f"{pack}-{side}.jsonl", pack)
            for kind in ("", ".dialogues"):
                a = rows(root / f"{pack}-baseline{kind}.jsonl")
                b = rows(root / f"{pack}-ours{kind}.jsonl")
                diff = compare(a, b)
                label = "dialogue rows" if kind else "turn rows"
                same_bytes = (root / f"{pack}-baseline{kind}.jsonl").read_bytes() == (
                    root / f"{pack}-ours{kind}.jsonl"
                ).read_bytes()
                verdict = (
                    ("identical" + ("" if same_bytes else " as JSON values (not byte for byte)"))
                    if not diff
                    else (f"{sum(diff.values())} differ")
                )
                print(f"[{pack}] {label}: {len(a)} vs {len(b)}, {verdict}")
                for (fields, rules, example), n in diff.most_common():
                    print(f"    {n} rows: fields {list(fields)}, rules {list(rules)}, e.g. {example}")
                failed |= bool(diff)
            print(f"[{pack}] wall seconds: baseline {took['baseline']:.1f}, ours {took['ours']:.1f}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
