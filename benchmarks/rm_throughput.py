"""RM scoring throughput: the ``rm`` source against TRL's GRPO reward-model path and a bare loop.

Run: ``.venv/bin/python -m benchmarks.rm_throughput`` (``--help`` for the knobs).

A small random Llama-style sequence classifier (built from a config by
:func:`repo_sdk.rm.tiny.build_tiny_model`, ChatML template) scores ``--samples``
Samples whose rendered inputs are spread uniformly over ``--min-tokens`` ..
``--max-tokens``. Four paths score the same inputs; each is timed ``--repeats``
times after a warm-up, interleaved, and the median is reported:

- ``rm source``: ``RMSource.score(samples)`` end to end: chat template, tokenizer,
  length-sorted micro-batches under the token budget, forward, original order.
- ``rm core``: the source's batched forward (:func:`forward_scores`) on token ids.
- ``bare loop``: a plain ``model(...)`` loop over the very same sorted micro-batches,
  tensors built beforehand: the floor of any batching code's overhead.
- ``TRL GRPO path``: what ``GRPOTrainer._calculate_rewards`` does with a reward
  model: TRL's ``apply_chat_template`` per sample, one tokenizer call padding the
  whole batch on the right to the longest row, one forward pass.

The issue's targets: ``rm source`` >= 1.5x the TRL path, ``rm core`` >= 0.95x the bare loop.
In float32 every path must agree with the TRL path to 1e-3 (checked); in bf16/fp16
kernels differ by batch shape, so the largest difference is reported instead.
:func:`run` returns the figures as a dict (``benchmarks.gpu_check`` collects them).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

WORDS = (
    "thank you could we agree on euros for the twin room please hotel price night breakfast "
    "suite double manager season busy confirm rate weekend parking cancellation"
).split()


def make_samples(renderer: Any, n: int, lo: int, hi: int, seed: int = 0) -> list[Any]:
    """Samples whose rendered token counts are spread uniformly over [lo, hi]."""
    from repo_sdk.testing import make_sample

    rng = random.Random(seed)
    out = []
    for i in range(n):
        target = rng.randint(lo, hi)
        history = [] if target < 64 else [("user", " ".join(rng.choices(WORDS, k=rng.randint(3, 12))))]
        task = {} if target < 64 else {"hotel": f"H{i}", "target_price": rng.randint(60, 140)}
        words = rng.choices(WORDS, k=hi)

        def length(k: int, words: list[str] = words, history: list[Any] = history, task: dict = task) -> int:
            s = make_sample(response=" ".join(words[:k]), history=history, task=task)
            return len(renderer.encode([s])[0].ids)

        a, b = 1, hi  # most words still within the target length (at least one)
        while a < b:
            mid = (a + b + 1) // 2
            a, b = (mid, b) if length(mid) <= target else (a, mid - 1)
        a += length(a) < lo  # a target no word count hits exactly: stay within [lo, hi]
        out.append(make_sample(response=" ".join(words[:a]), history=history, task=task))
    return out


def timed(fn: Callable[[], Any], wall: list[float], cpu: list[float]) -> Any:
    """Run once, recording wall-clock and process CPU seconds."""
    start, start_cpu = time.perf_counter(), time.process_time()
    result = fn()
    wall.append(time.perf_counter() - start)
    cpu.append(time.process_time() - start_cpu)
    return result


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print its report and return the figures (seconds, ratios, shapes)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--min-tokens", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--kv-heads", type=int, default=None, help="key/value heads (default: --heads)")
    parser.add_argument("--intermediate", type=int, default=None, help="MLP width (default: 2.7 x hidden)")
    parser.add_argument("--vocab", type=int, default=512, help="tokenizer and embedding size")
    parser.add_argument("--token-budget", type=int, default=None, help="default: the source's (4096 CPU, 16384 CUDA)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto")
    args = parser.parse_args(argv)

    import torch
    from trl.data_utils import apply_chat_template

    if args.threads:
        torch.set_num_threads(args.threads)

    from repo_sdk.interfaces import BuildContext
    from repo_sdk.plugins import get_registry
    from repo_sdk.rm.batching import forward_scores, plan_batches
    from repo_sdk.rm.source import RMConfig, RMSource
    from repo_sdk.rm.tiny import build_tiny_model

    path = build_tiny_model(
        tempfile.mkdtemp(prefix="rm-bench-"),
        arch="llama",
        hidden_size=args.hidden,
        num_layers=args.layers,
        num_heads=args.heads,
        num_kv_heads=args.kv_heads,
        intermediate_size=args.intermediate,
        vocab_size=args.vocab,
        max_position_embeddings=1024,
    )
    config = RMConfig(
        path=str(path),
        device=args.device,
        dtype=args.dtype,
        token_budget=args.token_budget,
        max_length=max(args.max_tokens, 1024),
    )
    src = RMSource.from_config(config, BuildContext(registry=get_registry()))
    assert src.loaded is not None
    budget = src.token_budget
    model, tok, device = src.loaded.model, src.loaded.tokenizer, src.loaded.device
    samples = make_samples(src.renderer, args.samples, args.min_tokens, args.max_tokens)
    rows = [e.ids for e in src.renderer.encode(samples)]
    lengths = [len(r) for r in rows]
    n_params = sum(p.numel() for p in model.parameters())
    shape = model.config
    print(
        f"model: Llama seq-cls, hidden {shape.hidden_size}, {shape.num_hidden_layers} layers, "
        f"{shape.num_attention_heads}/{shape.num_key_value_heads} heads, vocab {shape.vocab_size}, "
        f"{n_params / 1e6:.2f}M params (random weights), {device} {src.loaded.dtype}; "
        f"torch threads {torch.get_num_threads()}"
    )
    print(
        f"inputs: {len(rows)} samples, {min(lengths)}-{max(lengths)} tokens (mean {statistics.mean(lengths):.0f}), "
        f"{sum(lengths)} tokens; token budget {budget}"
    )

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    plan = plan_batches(lengths, budget, config.max_batch_size)
    pad = src.loaded.pad_id
    prebuilt = []
    for batch in plan:
        width = lengths[batch[0]]
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for r, i in enumerate(batch):
            ids[r, : lengths[i]] = torch.tensor(rows[i])
            mask[r, : lengths[i]] = 1
        prebuilt.append((ids.to(device), mask.to(device)))
    sync()

    def bare_loop() -> list[float]:
        with torch.inference_mode():
            outs = [model(input_ids=ids, attention_mask=mask).logits[:, 0] for ids, mask in prebuilt]
            return torch.cat(outs).float().cpu().tolist()

    # GRPOTrainer receives conversational prompts and completions as message lists.
    prompts = [src.renderer.messages(s.task, s.history, s.response)[:-1] for s in samples]
    completions = [[{"role": "assistant", "content": s.response}] for s in samples]

    def trl_grpo_path() -> list[float]:
        # GRPOTrainer._calculate_rewards, reward-model branch, as in TRL 1.16.
        messages = [{"messages": p + c} for p, c in zip(prompts, completions, strict=True)]
        texts = [apply_chat_template(x, tok)["text"] for x in messages]
        inputs = tok(text=texts, return_tensors="pt", padding=True, padding_side="right", add_special_tokens=False)
        inputs = {k: v.to(device) for k, v in inputs.items()}
        with torch.inference_mode():
            return model(**inputs).logits[:, 0].float().cpu().tolist()

    paths: dict[str, Callable[[], Any]] = {
        "rm source": lambda: [s.value for s in src.score(samples)],
        "rm core": lambda: forward_scores(
            model, rows, pad_id=pad, token_budget=budget, max_batch_size=config.max_batch_size, device=device
        )[0],
        "bare loop": bare_loop,
        "TRL GRPO path": trl_grpo_path,
    }
    times: dict[str, list[float]] = {name: [] for name in paths}
    cpu_times: dict[str, list[float]] = {name: [] for name in paths}
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    results = {name: fn() for name, fn in paths.items()}  # warm-up
    print(f"warm-up pass of all paths: {time.perf_counter() - t0:.1f}s")
    for _ in range(args.repeats):
        for name, fn in paths.items():
            timed(fn, times[name], cpu_times[name])
    order = [i for batch in plan for i in batch]  # the bare loop returns micro-batch order
    bare = [0.0] * len(rows)
    for i, v in zip(order, results["bare loop"], strict=True):
        bare[i] = v
    results["bare loop"] = bare
    ref = results["TRL GRPO path"]
    diffs = {name: max(abs(a - b) for a, b in zip(values, ref, strict=True)) for name, values in results.items()}
    if src.loaded.dtype == torch.float32:
        for name, diff in diffs.items():
            assert diff < 1e-3, f"{name} disagrees with the TRL path by {diff}"
    med = {name: statistics.median(t) for name, t in times.items()}
    cpu = {name: statistics.median(t) for name, t in cpu_times.items()}
    print(f"\n{'path':<16}{'median s':>10}{'samples/s':>12}{'tokens/s':>12}{'CPU s':>10}")
    for name, t in med.items():
        print(f"{name:<16}{t:>10.3f}{len(rows) / t:>12.1f}{sum(lengths) / t:>12.0f}{cpu[name]:>10.2f}")
    print(
        f"(median of {args.repeats} interleaved runs; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs)"
    )
    pad_trl = len(rows) * max(lengths)
    padded = sum(len(b) * lengths[b[0]] for b in plan)
    print(f"\npadded tokens: micro-batches {padded} ({len(plan)} batches), TRL whole batch {pad_trl}")
    print(f"rm source vs TRL GRPO path: {med['TRL GRPO path'] / med['rm source']:.2f}x (target >= 1.5x)")
    print(f"rm core   vs bare loop:     {med['bare loop'] / med['rm core']:.3f}x (target >= 0.95x)")
    print(f"rm source vs bare loop:     {med['bare loop'] / med['rm source']:.3f}x (includes template + tokenizer)")

    def paired(a: str, b: str) -> float:  # median over rounds of a/b speed, each round's runs side by side
        return statistics.median(tb / ta for ta, tb in zip(times[a], times[b], strict=True))

    print(
        f"paired per-round medians: source vs TRL {paired('rm source', 'TRL GRPO path'):.2f}x, "
        f"core vs bare {paired('rm core', 'bare loop'):.3f}x, source vs bare {paired('rm source', 'bare loop'):.3f}x"
    )
    if device.type == "cpu":
        print(
            f"by CPU time: source vs TRL {cpu['TRL GRPO path'] / cpu['rm source']:.2f}x, "
            f"core vs bare {cpu['bare loop'] / cpu['rm core']:.3f}x"
        )
    spread, dtype = statistics.pstdev(ref), str(src.loaded.dtype).removeprefix("torch.")
    print(
        f"largest difference from the TRL path's scores: {max(diffs.values()):.2e} "
        f"({dtype}; scores' standard deviation {spread:.3f})"
    )
    src.close()
    return {
        "model": {
            "hidden": shape.hidden_size,
            "layers": shape.num_hidden_layers,
            "heads": shape.num_attention_heads,
            "kv_heads": shape.num_key_value_heads,
            "vocab": shape.vocab_size,
            "params_m": round(n_params / 1e6, 2),
        },
        "device": str(device),
        "dtype": dtype,
        "samples": len(rows),
        "tokens": {"total": sum(lengths), "min": min(lengths), "max": max(lengths)},
        "token_budget": budget,
        "micro_batches": len(plan),
        "padded_tokens": {"micro_batches": padded, "trl": pad_trl},
        "repeats": args.repeats,
        "median_s": med,
        "cpu_s": cpu,
        "ratios": {
            "source_vs_trl": med["TRL GRPO path"] / med["rm source"],
            "core_vs_bare": med["bare loop"] / med["rm core"],
            "source_vs_bare": med["bare loop"] / med["rm source"],
        },
        "paired_ratios": {
            "source_vs_trl": paired("rm source", "TRL GRPO path"),
            "core_vs_bare": paired("rm core", "bare loop"),
            "source_vs_bare": paired("rm source", "bare loop"),
        },
        "max_abs_diff_vs_trl": max(diffs.values()),
        "score_std": spread,
    }


def main(argv: list[str] | None = None) -> None:
    run(argv)


if __name__ == "__main__":
    main()
