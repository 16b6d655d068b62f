"""One hostile reply of 256 KB and of 1 MB through each rule pack: seconds, and how they grow.

Run: ``.venv/bin/python -m benchmarks.hostile_replies [--kb 256 1024] [--packs generic negotiation]``

A policy being trained writes what scores, so the rules meet replies no person writes:
emoji, combining accents, arrows between words, a tiny vocabulary of CJK characters with
full stops (every sentence shares words with every other: the case that once made
``repetition`` quadratic), Cyrillic, apostrophes, capital sigmas glued to digits, every
kind of space, and replies dense with numbers (every other character a digit; prices;
small numbers in words). Each is scored alone in a hotel dialogue with a task (so the
price checks run), through the scaffold's packs (``--only rules``), process CPU time.
It prints the seconds at each size and the ratio of the largest to the smallest over
their size ratio (1.0: linear); issue 12 asks for one 1 MB reply in 1 s or less.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.rules_realistic import scaffold
from repo_sdk.config import load_spec
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.scoring import score_dialogue_batch
from repo_sdk.testing import make_dialogue


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _drawn(chars: str, seed: int) -> Callable[[int], str]:
    def make(n: int) -> str:
        rng = random.Random(seed)
        return "".join(rng.choices(chars, k=n))

    return make


def _arrows(n: int) -> str:
    rng = random.Random(2)
    return "".join(chr(0x2190 + rng.randint(0, 100)) + "ab " for _ in range(n // 4 + 1))[:n]


KINDS: dict[str, Callable[[int], str]] = {
    "emoji": _drawn("\U0001f600\U0001f389\U0001f44d\U0001f525\u2728 ", 1),
    "combining accents": _repeat("e\u0301"),
    "arrows between words": _arrows,
    "CJK, 7 characters": _drawn("\u8c22\u8c22\u4f60\u597d\u4e16\u754c\u3002", 3),
    "Cyrillic": _repeat(
        "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440, \u043a\u0430\u043a \u0434\u0435\u043b\u0430? "
    ),
    "apostrophes": _repeat("l'h\u00f4tel don't ''' rock'n'roll "),
    "sigmas and digits": _repeat("\u0391\u03a3 \u03a3\u0391 \u03a31 "),
    "spaces of every kind": _repeat(" \u00a0\u2028\u3000\t"),
    "digits": _repeat("1 "),
    "prices": _repeat("room at 120 EUR or \u20ac95.50, "),
    "small numbers": _repeat("we pay 1 and 2 or 3 "),
}


def seconds(pipe: RewardPipeline, text: str) -> float:
    """Process CPU seconds of scoring ``text`` as the one reply of a hotel dialogue with a task."""
    d = make_dialogue(
        [("user", "Hi, the twin room at 120 EUR?"), ("assistant", text)],
        id="hostile",
        task={"room_type": "Twin Room", "current_price": 120, "target_price": 95},
    )
    start = time.process_time()
    score_dialogue_batch(pipe, [d])
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=int, nargs="+", default=[256, 1024], help="reply sizes, in KB")
    ap.add_argument(
        "--packs", nargs="+", default=["generic", "negotiation"], choices=["five", "generic", "negotiation"]
    )
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS), metavar="KIND")
    args = ap.parse_args(argv)
    sizes = sorted(args.kb)
    with tempfile.TemporaryDirectory() as tmp:
        for pack in args.packs:
            spec = scaffold(Path(tmp), pack)
            print(
                f"\n[{pack}] seconds per reply: " + "  ".join(f"{kb:>6} KB" for kb in sizes) + "   growth (1.0: linear)"
            )
            with RewardPipeline.from_spec(load_spec(spec), only=["rules"]) as pipe:
                seconds(pipe, "warm up: Hello, the room is 120 EUR.")
                for kind in args.kinds:
                    found = [seconds(pipe, KINDS[kind](kb * 1024)) for kb in sizes]
                    growth = (found[-1] / max(found[0], 1e-9)) / (sizes[-1] / sizes[0]) if len(sizes) > 1 else 1.0
                    cells = "  ".join(f"{s:>9.2f}" for s in found)
                    print(f"    {kind:<22} {cells}   {growth:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
