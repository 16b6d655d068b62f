"""Throughput of the built-in rule pack on synthetic replies (samples per second).

Run: ``.venv/bin/python -m benchmarks.rules_throughput [--samples 2000] [--history 8] [--seed 0]``

Replies are drawn from templates (clean offers, prices in several notations,
markdown, JSON, leaked reasoning, mixed scripts, repeated pitches), each with a
history of alternating hotel / agent turns, so the repetition rule has work to do.
It prints samples/s per rule and for the whole pack scored through the rules source.
No targets: these are numbers to compare between changes on one machine.
"""

# ruff: noqa: RUF001 - the synthetic replies hold CJK punctuation on purpose

from __future__ import annotations

import argparse
import platform
import random
import time
from collections.abc import Callable, Sequence

from repo_sdk.rules import BUILTIN_RULES
from repo_sdk.sources.rules_source import RulesSource
from repo_sdk.testing import make_sample
from repo_sdk.types import Sample

PRICES = ["80", "€85", "85 EUR", "1,200.00", "USD 95", "90-95", "680元", "80.00", "¥700", "100 euros"]
OPENERS = ["Hi!", "Thank you for your reply.", "Good morning.", "I understand your concern.", "您好，"]
BODIES = [
    "Could we agree on {p} per night for the twin room?",
    "We have 3 guests arriving on 2024-05-01 at 14:00; would {p} work?",
    "Our customers love your hotel, and {p} would let us promote it on our front page.",
    "If you can do {p}, we can confirm the booking today.",
    "我们希望双床房的价格是{p}，可以吗？",
    "## Offer\n- twin: {p}\n- double: **{p}**",
    '{{"reply": "ok", "price": "{p}"}}',
    "<think>they want more, target is 80</think>Would {p} be possible?",
    "Okay, so the user wants a lower price. Let me offer {p}.",
    "We can offer {p} (breakfast included, and a late check-out",
    "Our target price in the work order is {p}, the ticket is open.",
]
CLOSERS = ["Thanks!", "Looking forward to your answer.", "Have a nice day :)", "谢谢！", ""]


def synthetic_samples(n: int, history: int, seed: int = 0) -> list[Sample]:
    """``n`` samples with ``history`` earlier turns each, reproducible from ``seed``."""
    rng = random.Random(seed)

    def reply() -> str:
        body = rng.choice(BODIES).format(p=rng.choice(PRICES))
        return " ".join(x for x in (rng.choice(OPENERS), body, rng.choice(CLOSERS)) if x)

    samples = []
    for _ in range(n):
        turns: list[tuple[str, str]] = []
        for k in range(history):
            hotel = ("user", f"We can do {rng.randint(80, 120)} at most.")
            turns.append(hotel if k % 2 == 0 else ("assistant", reply()))
        response = rng.choice([t for r, t in turns if r == "assistant"] or [reply()]) if rng.random() < 0.2 else reply()
        samples.append(
            make_sample(
                response=response,
                history=turns,
                task={"current_price": rng.choice([100, 110, 120]), "target_price": 80, "currency": "EUR"},
            )
        )
    return samples


def throughput(fn: Callable[[Sequence[Sample]], object], samples: Sequence[Sample], repeat: int = 3) -> float:
    """Best samples/s of ``fn`` over the whole batch in ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(samples)
        best = min(best, time.perf_counter() - start)
    return len(samples) / best if best > 0 else float("inf")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000, help="synthetic samples to score")
    parser.add_argument("--history", type=int, default=8, help="earlier turns per sample")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    samples = synthetic_samples(args.samples, args.history, args.seed)
    chars = sum(len(s.response) for s in samples) / len(samples)
    print(
        f"rules throughput: {len(samples)} samples, {args.history} history turns, "
        f"{chars:.0f} chars per reply on average; Python {platform.python_version()} on {platform.machine()}"
    )
    print(f"{'rule':<22}{'samples/s':>12}{'hits/sample':>13}")
    for cls in BUILTIN_RULES:
        rule = cls()
        rate = throughput(lambda batch, r=rule: [r.check(s) for s in batch], samples)
        hits = sum(len(rule.check(s)) for s in samples) / len(samples)
        print(f"{cls.name:<22}{rate:>12,.0f}{hits:>13.2f}")
    source = RulesSource.build([cls.name for cls in BUILTIN_RULES])
    rate = throughput(source.score, samples)
    fired = sum(s.value != 0 for s in source.score(samples)) / len(samples)
    print(f"{'whole pack (source)':<22}{rate:>12,.0f}{'':>13}  ({fired:.0%} of samples fire a rule)")


if __name__ == "__main__":
    main()
