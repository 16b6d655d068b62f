"""Rules at line rate on realistic logs: turns/s per pack, cost per KB of one reply, ratio to a bare loop.

Run: ``.venv/bin/python -m benchmarks.rules_realistic [--dialogues 500] [--repeat 2] [--workers N]``

The logs come from :mod:`benchmarks.corpus` (4-60 agent turns per dialogue, mean
about 16; replies of 20-2,000 characters and a few of 64 KB - 1 MB; chit-chat and
negotiation; whitespace-only turns, skipped with ``--on-error skip``). The packs are
*five*, the five generic rules of the issue's first figures (cot_leak, max_length,
repetition, format_breakage, mixed_script), and the ``repo-sdk init`` scaffold's rules
with ``--only rules``: *generic* (rendered without the negotiation plugin:
forbidden_terms, numeric_consistency, repetition, mixed_script, format_breakage, and
the rules below) and *negotiation* (the 14 ``negotiation.*`` rules and the rules
below); both end with cot_leak, max_length, flattery, padding, empty_reply and
judge_injection.

It prints, for each pack:

(a) turns/s of ``score_file`` (read, score, journal, write the outputs: what
    ``repo-sdk score`` does) with one worker and with ``--workers`` (default: every
    core), the speed-up of the wall time, and the CPU the N-worker run used (its
    main process and its workers) against one worker's: N over that ratio is the
    speed-up on N idle cores, which a shared machine's wall time cannot show;
(b) seconds per KB of one reply of 1 KB ... 1 MB (varied text, and a model stuck in a
    loop), scored alone: the cost must be flat (linear in the reply's length);
(c) the ratio to the physical limit: a bare loop in the same process that reads the
    same JSONL, runs every regular expression of the pack's rules once over every
    reply that holds the words the expression needs, and writes rows of the same
    shape, with no SDK around it (``bare / sdk``: 1.0 = as fast as the bare loop).

Single-worker figures are process CPU time (the machine is shared: wall time swings
with the neighbours' load); multi-worker figures are wall time; each is the best of
``--repeat`` runs, the SDK and the bare loop alternating.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

from benchmarks.corpus import TOPICS, chit_chat, vocabulary, write_corpus
from repo_sdk.config import load_spec
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.rules.prefilter import Alternation, Prefilter
from repo_sdk.rules.text import fold
from repo_sdk.score_run import score_file
from repo_sdk.scoring import score_dialogue_batch
from repo_sdk.testing import make_dialogue
from repo_sdk.workers import usable_cores

PACKS = ("five", "generic", "negotiation")
#: the issue's own generic pack: the five built-in rules its first figures were measured with
FIVE = ["cot_leak", "max_length", "repetition", "format_breakage", "mixed_script"]


def scaffold(root: Path, pack: str) -> Path:
    """The spec ``repo-sdk init --no-rm`` writes (without the negotiation plugin for ``generic``);
    for ``five``, a spec of the five rules alone."""
    if pack == "five":
        spec = root / pack / "spec.yaml"
        spec.parent.mkdir(parents=True, exist_ok=True)
        rules = ", ".join(FIVE)
        spec.write_text(f"version: 1\nname: five\nsources:\n  rules:\n    type: rules\n    rules: [{rules}]\n")
        return spec
    env = dict(os.environ)
    if pack == "generic":
        env["REPO_SDK_PLUGINS"] = ""  # built-in plugins only: the scaffold falls back to the generic rules
    cli = Path(sys.executable).with_name("repo-sdk")
    subprocess.run([str(cli), "init", "--no-rm", str(root / pack)], check=True, capture_output=True, env=env)
    return root / pack / "spec.yaml"


def run_sdk(spec: Path, logs: Path, out: Path, workers: int) -> tuple[int, float, float, float]:
    """(turns, CPU seconds of this process, wall seconds, CPU seconds of its worker processes) of one run."""
    loaded = load_spec(spec)
    with RewardPipeline.from_spec(loaded, only=["rules"]) as pipe:
        children = _children_cpu()
        cpu, wall = time.process_time(), time.perf_counter()
        summary = score_file(pipe, logs, out, on_error="skip", progress=False, workers=workers)
        used, took = time.process_time() - cpu, time.perf_counter() - wall
        return summary.turns, used, took, _children_cpu() - children


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the workers, once the pool has ended)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pack_patterns(spec: Path) -> list[re.Pattern[str]]:
    """Every compiled regular expression of the pack: on its rule objects and in their modules."""
    loaded = load_spec(spec)
    found: dict[int, re.Pattern[str]] = {}
    with RewardPipeline.from_spec(loaded, only=["rules"]) as pipe:
        rules = pipe.sources["rules"].turn_rules  # type: ignore[attr-defined]
        modules = {sys.modules[type(r).__module__] for r in rules}
        modules.add(sys.modules["repo_sdk.rules.text"])
        if any(type(r).__module__.startswith("repo_sdk_negotiation") for r in rules):
            modules |= {sys.modules[m] for m in list(sys.modules) if m.startswith("repo_sdk_negotiation")}
        for holder in [*rules, *modules]:
            for value in vars(holder).values():
                items = value if isinstance(value, (list, tuple)) else [value]
                for item in items:
                    for x in item if isinstance(item, tuple) else (item,):
                        if isinstance(x, re.Pattern) and isinstance(x.pattern, str):
                            found[id(x)] = x
                        elif isinstance(x, Alternation):  # a rule's union of patterns: each one alone
                            for pattern in x.patterns:
                                compiled = re.compile(pattern, x.flags)
                                found[id(compiled)] = compiled
    return list(found.values())


def run_bare(logs: Path, out: Path, patterns: list[re.Pattern[str]]) -> tuple[int, float]:
    """The physical limit: read the JSONL, run every pattern over every reply, write rows like the SDK's.

    A pattern runs once over a reply, when the reply holds the words it needs (the same
    cheap test the rules make, :class:`repo_sdk.rules.prefilter.Prefilter`)."""
    filters = [(p, Prefilter(p)) for p in patterns]
    cpu = time.process_time()
    turns = 0
    with logs.open("rb") as src, out.open("wb") as dst:
        for line in src:
            record = orjson.loads(line)
            rewards = []
            for i, turn in enumerate(record["turns"]):
                if turn["role"] != "assistant":
                    continue
                text = turn["content"]
                folded = fold(text)
                fired = [m.span() for p, f in filters if f.may_match(folded) for m in p.finditer(text)][:0]
                row = {
                    "kind": "turn",
                    "dialogue_id": record["id"],
                    "turn_index": i,
                    "sample_id": f"{record['id']}#{i}",
                    "response": text,
                    "reward": 0.0,
                    "sources": {"rules": 0.0, "judge": None},
                    "fired": fired,
                    "reasons": {"rules": "no rule fired"},
                    "details": {},
                    "combiner": {},
                }
                dst.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
                rewards.append(0.0)
                turns += 1
            dst.write(orjson.dumps({"kind": "dialogue", "dialogue_id": record["id"], "turns": len(rewards)}) + b"\n")
    return turns, time.process_time() - cpu


def replies(kb: int, kind: str) -> str:
    rng = random.Random(kb)
    if kind == "loop":
        unit = TOPICS[kb % len(TOPICS)] + " "
        return (unit * (kb * 1024 // len(unit) + 1))[: kb * 1024]
    return chit_chat(rng, kb * 1024, [], vocabulary(random.Random(0)))[: kb * 1024]


def per_kb(spec: Path, sizes: list[int]) -> Iterator[tuple[str, int, float]]:
    """(kind, KB, seconds) of scoring one reply of each size, alone in its dialogue."""
    loaded = load_spec(spec)
    with RewardPipeline.from_spec(loaded, only=["rules"]) as pipe:
        for kind in ("varied", "loop"):
            for kb in sizes:
                text = replies(kb, kind)
                d = make_dialogue([("user", "Tell me more, please."), ("assistant", text)], id=f"{kind}{kb}")
                start = time.process_time()
                score_dialogue_batch(pipe, [d])  # the turn and the dialogue, as score_file scores a group
                yield kind, kb, time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dialogues", type=int, default=500, help="generated dialogues (mean 16 agent turns each)")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each measurement; the best is kept")
    ap.add_argument("--workers", type=int, default=usable_cores(), help="workers of the multi-process run")
    ap.add_argument("--max-kb", type=int, default=1024, help="largest single reply of (b), in KB")
    ap.add_argument("--packs", nargs="+", default=list(PACKS), choices=PACKS)
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    print(f"rules_realistic: {args.dialogues} dialogues, {os.cpu_count()} cores, load average {load:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        logs = root / "logs.jsonl"
        counts = write_corpus(logs, args.dialogues)
        print(f"corpus: {counts['agent_turns']} agent turns, {counts['bytes'] / 1e6:.1f} MB")
        for pack in args.packs:
            spec = scaffold(root, pack)
            patterns = pack_patterns(spec)
            sdk_cpu, bare_cpu, multi_wall, one_wall, multi_cpu = [], [], [], [], []
            for _ in range(args.repeat):
                turns, cpu, wall, _ = run_sdk(spec, logs, root / f"{pack}.jsonl", 1)
                sdk_cpu.append(cpu)
                one_wall.append(wall)
                _, bare = run_bare(logs, root / f"{pack}.bare.jsonl", patterns)
                bare_cpu.append(bare)
                if args.workers > 1:
                    _, parent, wall, children = run_sdk(spec, logs, root / f"{pack}.w.jsonl", args.workers)
                    multi_wall.append(wall)
                    multi_cpu.append(parent + children)
            best_sdk, best_bare = min(sdk_cpu), min(bare_cpu)
            print(f"\n[{pack}] {len(patterns)} regular expressions in the pack")
            print(f"(a) 1 worker: {turns / best_sdk:,.0f} turns/s (CPU time; wall {turns / min(one_wall):,.0f}/s)")
            if multi_wall:
                rate = turns / min(multi_wall)
                overhead = min(multi_cpu) / best_sdk  # CPU of the whole N-worker run / CPU of one worker
                print(
                    f"    {args.workers} workers: {rate:,.0f} turns/s (wall), "
                    f"{rate / (turns / min(one_wall)):.2f}x one worker's wall; they used {overhead:.2f}x the CPU "
                    f"of one worker (main process included), so on {args.workers} idle cores "
                    f"{args.workers / overhead:.2f}x one worker"
                )
            sizes = [2**k for k in range(args.max_kb.bit_length()) if 2**k <= args.max_kb]
            print("(b) one reply:   KB   seconds    s/KB")
            rates: dict[str, list[float]] = {}
            for kind, kb, seconds in per_kb(spec, sizes):
                print(f"    {kind:>7} {kb:>6} {seconds:>9.4f} {seconds / kb:>9.6f}")
                if kb >= 16:  # (smaller replies carry the fixed cost of a call)
                    rates.setdefault(kind, []).append(seconds / kb)
            for kind, per in rates.items():
                print(
                    f"    {kind}: {max(per) * 1024:.2f} s per MB at the costliest rate from 16 KB up "
                    f"(issue 12: <= 1 s on its machine); costliest / cheapest rate {max(per) / min(per):.2f}x "
                    "(1.0: flat)"
                )
            print(
                f"(c) bare loop: {turns / best_bare:,.0f} turns/s; "
                f"ratio bare / sdk = {best_bare / best_sdk:.2f}x (1.0: the SDK as fast as the bare loop)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
