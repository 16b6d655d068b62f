"""Issue 12's targets, measured against the code before it on this machine: turns/s of both, and what that implies.

Run: ``.venv/bin/python -m benchmarks.rules_vs_before --before CHECKOUT [--dialogues 1000] [--rounds 2]``

``CHECKOUT`` is a checkout of the code before issue 12 (``git worktree add /tmp/before
f7bb722``); it runs with this venv, its own ``repo_sdk`` and negotiation plugin first on
``PYTHONPATH``. The issue measured that code on one core of its own machine, on real
chit-chat logs: the five generic rules at 1,734 turns/s and the scaffold's negotiation
rules at 117, and asks for 20,000 and 5,000. This machine's speed moves from day to
day, so the targets are read as ratios: both codes score the same chit-chat logs (the
generated corpus's dialogues without a task, the issue's kind) in alternating rounds,
process CPU time, best round of each, and each pack's ratio times the issue's figure
estimates this code on that machine (printed from the best rounds, and from the median of
each round's ratio, which a lucky round moves less). It then adds what a run of the whole
command costs besides the turns (the interpreter, imports, plugins, spec: ``repo-sdk score`` on a
log of one dialogue, CPU time), scaled to that machine, and prints the end-to-end figure on the
issue's 66,853 turns, as a user timing the command would read it. Packs: ``five`` (cot_leak, max_length, repetition,
format_breakage, mixed_script) and ``negotiation`` (the scaffold's 14 negotiation rules
with cot_leak and max_length: the rule set the issue measured, without the core rules
added after it). The rows are not compared here (see ``benchmarks.golden_rows``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from benchmarks.corpus import write_corpus
from benchmarks.rules_realistic import scaffold

ISSUE = {"five": (1_734, 20_000), "negotiation": (117, 5_000)}  # (the code before, the target), turns/s
ISSUE_TURNS = 66_853  # the assistant turns of the issue's logs
LATER_CORE_RULES = {"flattery", "padding", "empty_reply", "judge_injection"}  # added after the issue's figures

# runs in a fresh interpreter of one side: prints turns and process CPU seconds of score_file
_RUN = """
import inspect, json, sys, tempfile, time
from pathlib import Path
from repo_sdk.config import load_spec
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.score_run import score_file
spec, logs = sys.argv[1], sys.argv[2]
pipe = RewardPipeline.from_spec(load_spec(spec), only=["rules"])
extra = {"workers": 1} if "workers" in inspect.signature(score_file).parameters else {}
out = Path(tempfile.mkdtemp()) / "rows.jsonl"
cpu = time.process_time()
summary = score_file(pipe, logs, out, on_error="skip", progress=False, **extra)
print(json.dumps({"turns": summary.turns, "cpu": time.process_time() - cpu}))
"""


def chit_chat_logs(path: Path, dialogues: int, seed: int) -> int:
    """Generated dialogues without a task (chit-chat), written to ``path``; returns how many."""
    every = path.with_suffix(".all.jsonl")
    write_corpus(every, dialogues, seed=seed, huge_rate=0)
    kept = [line for line in every.read_text(encoding="utf-8").splitlines() if not json.loads(line).get("task")]
    path.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
    every.unlink()
    return len(kept)


def pack_spec(root: Path, pack: str) -> Path:
    """The pack's spec, without the core rules added after the issue's figures (the code before lacks them)."""
    spec = scaffold(root, pack)
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    rules = data["sources"]["rules"]["rules"]
    kept = [r for r in rules if (r if isinstance(r, str) else r.get("name")) not in LATER_CORE_RULES]
    data["sources"] = {"rules": {"type": "rules", "rules": kept}}
    data.pop("combiner", None)
    out = root / f"{pack}-then.yaml"
    out.write_text(yaml.safe_dump(data), encoding="utf-8")
    return out


def run_side(before: Path | None, spec: Path, logs: Path) -> tuple[int, float]:
    """(turns, CPU seconds) of one side in a fresh interpreter."""
    env = dict(os.environ)
    if before is not None:
        plugin = before / "plugins" / "repo-sdk-negotiation" / "src"
        env["PYTHONPATH"] = os.pathsep.join([str(before), str(plugin)])
    done = subprocess.run(  # run from the logs' folder: `python -c` puts the working folder first on sys.path
        [sys.executable, "-c", _RUN, str(spec), str(logs)],
        capture_output=True,
        text=True,
        env=env,
        cwd=logs.parent,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"error: a {'before' if before else 'this'} run failed: {done.stderr.strip()[-400:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return int(result["turns"]), float(result["cpu"])


def command_seconds(spec: Path, logs: Path, runs: int = 3) -> float:
    """Median CPU seconds of this code's whole ``repo-sdk score`` command on the first dialogue of ``logs``."""
    one = logs.with_name("one-dialogue.jsonl")
    with logs.open(encoding="utf-8") as fh:
        one.write_text(fh.readline(), encoding="utf-8")
    command = Path(sys.executable).with_name("repo-sdk")
    seconds = []
    for i in range(runs):
        out = one.with_name(f"one-{i}.jsonl")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        args = ["score", str(one), "-c", str(spec), "-o", str(out), "--only", "rules", "--workers", "1"]
        done = subprocess.run(
            [str(command), *args, "--no-progress"],
            capture_output=True,
            text=True,
            check=False,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode:
            raise SystemExit(f"error: repo-sdk score failed: {done.stderr.strip()[-400:]}")
        seconds.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(seconds)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="a checkout of the code before issue 12")
    ap.add_argument("--dialogues", type=int, default=1000, help="generated dialogues (about 70%% are chit-chat)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best of each side is kept")
    ap.add_argument("--packs", nargs="+", choices=sorted(ISSUE), default=sorted(ISSUE))
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args(argv)
    if not (args.before / "repo_sdk").is_dir():
        print(f"error: --before {args.before}: no repo_sdk package there", file=sys.stderr)
        return 1
    args.before = args.before.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        logs = root / "chit-chat.jsonl"
        n = chit_chat_logs(logs, args.dialogues, args.seed)
        print(f"rules_vs_before: {n} chit-chat dialogues; before: {args.before}", flush=True)
        speed = 0.0  # this machine's speed over the issue's machine's (0: not measured yet)
        for pack in args.packs:
            spec = pack_spec(root, pack)
            best: dict[str, float] = {"before": 0.0, "now": 0.0}
            paired: list[float] = []  # each round's now / before: the machine's speed moves between rounds
            before_rates: list[float] = []
            for r in range(args.rounds):
                rates = {}
                for side, checkout in (("before", args.before), ("now", None)):
                    turns, cpu = run_side(checkout, spec, logs)
                    rate = rates[side] = turns / cpu if cpu > 0 else 0.0
                    best[side] = max(best[side], rate)
                    print(f"[{pack}] round {r + 1} {side}: {turns} turns, {rate:,.0f} turns/s (CPU time)", flush=True)
                paired.append(rates["now"] / rates["before"] if rates["before"] else 0.0)
                before_rates.append(rates["before"])
            then, target = ISSUE[pack]
            for how, ratio in (("best rounds", best["now"] / best["before"] if best["before"] else 0.0),
                               ("median of the rounds' ratios", statistics.median(paired))):  # fmt: skip
                estimate = then * ratio
                print(
                    f"[{pack}] now / before = {ratio:.1f}x ({how}); the issue's {then:,} turns/s x {ratio:.1f} "
                    f"= about {estimate:,.0f} turns/s on its machine, target {target:,} ({estimate / target:.0%})",
                    flush=True,
                )
            print(f"[{pack}] the rounds' ratios: {', '.join(f'{x:.1f}x' for x in paired)}", flush=True)
            fixed = command_seconds(spec, logs)
            # this machine's speed against the issue's: the code before's median rate here over its rate there,
            # from the five pack where it ran (its cost grows with the text alone; the negotiation pack's with
            # the square of each dialogue's length, which these logs do not share with the issue's)
            speed = speed or statistics.median(before_rates) / then
            there = fixed * speed
            rate = then * statistics.median(paired)
            whole = ISSUE_TURNS / (ISSUE_TURNS / rate + there)
            print(
                f"[{pack}] the command besides its turns: {fixed:.2f} s CPU here, about {there:.2f} s there; "
                f"end to end on the issue's {ISSUE_TURNS:,} turns: about {whole:,.0f} turns/s "
                f"(median estimate), target {target:,} ({whole / target:.0%})",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
