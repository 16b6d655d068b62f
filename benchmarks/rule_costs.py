"""Where a pack's time goes on chit-chat logs: each rule's CPU per scored turn, and the rest.

Run: ``.venv/bin/python -m benchmarks.rule_costs [--dialogues 1000] [--packs five negotiation]``

Issue 12 asks for the rules at 20,000 turns/s (five generic rules) and 5,000 turns/s
(the scaffold's negotiation rules) on one core; ``benchmarks.rules_vs_before`` says how
far off they are. This says where the time is, so the next change aims at the right
place. One ``score_file`` run (one worker: what ``repo-sdk score`` does) over generated
chit-chat logs (the issue's kind; :func:`benchmarks.rules_vs_before.chit_chat_logs`)
with the issue's packs (:func:`benchmarks.rules_vs_before.pack_spec`), after a warm-up
run, with every rule's check timed (process CPU time). A view of a text that several
rules read (its sentences, tokens, folded form) is charged to the first rule that asks
for it; *the rest* is reading the logs, the dialogue contexts, the hits' totals, rows
and journal. Timing adds a little to each rule (two clock reads per check): compare
rows of one run, not one run with another.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.rules_vs_before import ISSUE, chit_chat_logs, pack_spec
from repo_sdk.config import load_spec
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.score_run import score_file
from repo_sdk.sources.rules_source import RulesSource


def timed(check: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    """``check``, adding the CPU seconds of each call to ``spent[0]``."""
    clock = time.process_time

    def run(*args: Any) -> Any:
        start = clock()
        try:
            return check(*args)
        finally:
            spent[0] += clock() - start

    return run


def costs(spec: Path, logs: Path, out: Path) -> tuple[int, float, dict[str, float]]:
    """(turns, CPU seconds of the run, CPU seconds in each rule's checks) of one scoring run after a warm-up."""
    with RewardPipeline.from_spec(load_spec(spec), only=["rules"]) as pipe:
        score_file(pipe, logs, out.with_name("warm-up.jsonl"), on_error="skip", progress=False, workers=1)
        spent: dict[str, list[float]] = {}
        for source in pipe.sources.values():
            if not isinstance(source, RulesSource):
                continue
            for rule in source.turn_rules:
                rule.check_turn = timed(rule.check_turn, spent.setdefault(rule.name, [0.0]))  # type: ignore[method-assign]  # timed, this run only
            for rule in source.dialogue_rules:
                check = rule.check_dialogue_context
                rule.check_dialogue_context = timed(check, spent.setdefault(rule.name, [0.0]))  # type: ignore[method-assign]  # timed, this run only
        cpu = time.process_time()
        summary = score_file(pipe, logs, out, on_error="skip", progress=False, workers=1)
        cpu = time.process_time() - cpu
    return summary.turns, cpu, {name: s[0] for name, s in spent.items()}


def report(pack: str, turns: int, cpu: float, spent: dict[str, float]) -> list[str]:
    """The table: microseconds per turn and share of the run, costliest first, then the rest."""
    per_turn = 1e6 / max(turns, 1)
    lines = [
        f"[{pack}] {turns:,} turns in {cpu:.2f} s of CPU: {cpu * per_turn:,.0f} us per turn, {turns / cpu:,.0f} turns/s"
    ]
    rows = sorted(spent.items(), key=lambda kv: -kv[1])
    rest = cpu - sum(spent.values())
    for name, seconds in [*rows, ("(the rest: logs, contexts, totals, rows, journal)", rest)]:
        lines.append(f"  {name:<52} {seconds * per_turn:8,.1f} us  {seconds / cpu:6.1%}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dialogues", type=int, default=1000, help="generated dialogues (about 70%% are chit-chat)")
    ap.add_argument("--packs", nargs="+", choices=sorted(ISSUE), default=sorted(ISSUE))
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        logs = root / "chit-chat.jsonl"
        n = chit_chat_logs(logs, args.dialogues, args.seed)
        print(f"rule_costs: {n} chit-chat dialogues", flush=True)
        for pack in args.packs:
            turns, cpu, spent = costs(pack_spec(root, pack), logs, root / f"{pack}.jsonl")
            print("\n".join(report(pack, turns, cpu, spent)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
