"""The inspect_ai scorer under concurrent calls: micro-batched, one call per sample, and the pipeline alone.

Run: ``.venv/bin/python -m benchmarks.inspect_scorer`` (``--help`` for the knobs; needs repo-sdk-inspect).

``inspect score`` awaits the scorer once per sample, all samples at once. A spec with a small
random Llama-style RM (:func:`repo_sdk.rm.tiny.build_tiny_model`) and the rules scores
``--samples`` TaskStates shaped like negotiation logs (a few turns of history, replies of 20 to
``--max-words`` words). Three paths score the same states; each is timed ``--repeats`` times
after a warm-up, interleaved, and the median is reported:

- ``scorer, batched``: ``repo_reward_scorer`` awaited concurrently for every state (the default
  ``max_batch=64``): TaskState -> Sample, micro-batches, Score.
- ``scorer, one by one``: the same with ``max_batch=1``: one pipeline call per sample.
- ``pipeline``: ``RewardPipeline.ascore`` on all Samples in one call (mapped beforehand): the floor.

Targets: batched >= 0.8x the pipeline alone, and above the one-by-one path. The batched path is
also timed on half the samples: the cost per sample should stay flat (linear growth).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WORDS = (
    "thank you could we agree on euros for the twin room please hotel price night breakfast "
    "suite double manager season busy confirm rate weekend parking cancellation"
).split()


def make_states(n: int, max_words: int, seed: int = 0) -> list[Any]:
    from inspect_ai.model import ChatMessageAssistant, ChatMessageUser, ModelOutput
    from inspect_ai.solver import TaskState

    rng = random.Random(seed)
    states = []
    for i in range(n):
        messages: list[Any] = []
        for _ in range(rng.randint(1, 3)):
            messages.append(ChatMessageUser(content=" ".join(rng.choices(WORDS, k=rng.randint(5, 30)))))
            messages.append(ChatMessageAssistant(content=" ".join(rng.choices(WORDS, k=rng.randint(5, 40)))))
        reply = " ".join(rng.choices(WORDS, k=rng.randint(20, max_words)))
        messages[-1] = ChatMessageAssistant(content=reply)
        states.append(
            TaskState(
                model="mockllm/model",
                sample_id=i,
                epoch=1,
                input=messages[0].text,
                messages=messages,
                output=ModelOutput.from_content("mockllm/model", reply),
                metadata={"task": {"hotel": f"H{i}", "target_price": rng.randint(60, 140)}},
            )
        )
    return states


def threads() -> int:
    import torch

    return torch.get_num_threads()


def timed(fn: Callable[[], Any], wall: list[float]) -> Any:
    start = time.perf_counter()
    result = fn()
    wall.append(time.perf_counter() - start)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=128)
    parser.add_argument("--max-words", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--torch-threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)

    from inspect_ai.scorer import Target
    from repo_sdk_inspect import repo_reward_scorer
    from repo_sdk_inspect.samples import state_to_sample

    from repo_sdk.pipeline import RewardPipeline
    from repo_sdk.rm.tiny import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        build_tiny_model(Path(tmp) / "rm", hidden_size=args.hidden, num_layers=args.layers)
        spec = {
            "name": "bench",
            "sources": {
                "rm": {"type": "rm", "path": str(Path(tmp) / "rm"), "device": "cpu"},
                "rules": ["cot_leak", "max_length", "repetition"],
            },
            "combiner": {"type": "repo", "n": 100},
        }
        states = make_states(args.samples, args.max_words)
        half = states[: len(states) // 2]
        samples = [state_to_sample(s) for s in states]
        batched, single = repo_reward_scorer(spec), repo_reward_scorer(spec, max_batch=1)
        pipe = RewardPipeline.from_spec(spec)
        target = Target("")

        async def through(scorer: Any, some: list[Any]) -> list[Any]:
            return await asyncio.gather(*(scorer(s, target) for s in some))

        paths: dict[str, Callable[[], Any]] = {
            "scorer, batched": lambda: asyncio.run(through(batched, states)),
            "scorer, batched (half)": lambda: asyncio.run(through(batched, half)),
            "scorer, one by one": lambda: asyncio.run(through(single, states)),
            "pipeline": lambda: asyncio.run(pipe.ascore(samples)),
        }
        walls: dict[str, list[float]] = {name: [] for name in paths}
        for fn in paths.values():
            fn()  # warm-up: builds the pipelines, loads the RM once per process
        for _ in range(args.repeats):
            for name, fn in paths.items():
                timed(fn, walls[name])
        pipe.close()

    n = len(states)
    per_sample = {name: statistics.median(w) / (len(half) if "half" in name else n) * 1000 for name, w in walls.items()}
    ms = per_sample["scorer, batched"]
    print(f"{n} samples (1-3 exchanges of history, replies of 20-{args.max_words} words)", end=" ")
    print(f"RM hidden {args.hidden} x {args.layers} layers, median of {args.repeats}, torch threads {threads()}")
    print(f"{'path':<26}{'ms/sample':>11}{'samples/s':>11}")
    for name, value in per_sample.items():
        print(f"{name:<26}{value:>11.2f}{1000 / value:>11.1f}")
    print(f"batched / pipeline alone (throughput): {per_sample['pipeline'] / ms:.2f}x (target >= 0.8x)")
    print(f"batched / one by one (throughput):     {per_sample['scorer, one by one'] / ms:.2f}x (target > 1x)")
    print(
        f"cost per sample, {n} / {len(half)} samples: {ms / per_sample['scorer, batched (half)']:.2f}x (linear: ~1.0)"
    )
    print(f"batched scorer: {batched.stats}")


if __name__ == "__main__":
    main()
