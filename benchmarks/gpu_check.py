"""The GPU check: RM scoring throughput and a GRPO step on a GPU, in bf16, within minutes.

On a machine with a GPU run ``bash benchmarks/gpu_check.sh`` (it installs the carried
wheels and the project first; docs/benchmarks.md says how to carry them). Here,
``.venv/bin/python -m benchmarks.gpu_check --dry-run`` runs the same flow on the CPU
with tiny shapes and one repeat, in about a minute; without ``--dry-run`` and without
a GPU it only says so (``make bench`` passes by it).

Two stages, each the benchmark of its own module with GPU settings:

- ``rm``: :mod:`benchmarks.rm_throughput` in bf16 on CUDA: the ``rm`` source, its
  batched core, a bare forward loop over the same micro-batches and TRL's GRPO
  reward-model path score the same 512 samples; ratios source / TRL path and core / bare loop.
- ``grpo``: :mod:`benchmarks.grpo_step` on CUDA (bf16 autocast, LoRA r=8): TRL's
  ``GRPOTrainer`` with the REPO callable versus the same sources as separate reward
  functions; the step-time ratio, the reward phase and the reward function alone.

No weights can be carried, so both models are random, built from configs shaped
like SmolLM2-135M (:data:`SMOLLM2_135M`): the RM with a sequence-classification
head, the policy with a causal-LM head; the tokenizer is the tiny BPE grown to
SmolLM2's 49,152 tokens. The figures measure speed, not quality.

The summary is printed as two tables to paste into docs/benchmarks.md and, when
the ``OUT`` environment variable names a folder, written to ``$OUT/gpu_check.json``
after each stage, so a run cut short keeps what it measured. ``--budget-s`` bounds
the run: the GRPO stage starts no new repeat once the time left is less than the
last repeat took. Exit status 1 when a stage failed (its error is in the summary).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

SMOLLM2_135M = {"hidden": 576, "intermediate": 1536, "layers": 30, "heads": 9, "kv_heads": 3, "vocab": 49152}
TINY = {"hidden": 32, "intermediate": 64, "layers": 2, "heads": 4, "kv_heads": 2, "vocab": 1024}

SETTINGS = {  # each benchmark's flags, less the model shape
    "gpu": {
        "shape": SMOLLM2_135M,
        "rm": "--device cuda --dtype bfloat16 --samples 512 --repeats 5".split(),
        "grpo": (
            "--device cuda --batch 16 --generations 4 --tokens 32 --steps 8 --warmup 2 --repeats 4 --reward-calls 50"
        ).split(),
    },
    "dry-run": {
        "shape": TINY,
        "rm": "--device cpu --dtype float32 --samples 12 --min-tokens 16 --max-tokens 64 --repeats 1".split(),
        "grpo": (
            "--device cpu --batch 4 --generations 2 --tokens 8 --steps 1 --warmup 0 --repeats 1 --reward-calls 2"
        ).split(),
    },
}


def shape_args(shape: dict[str, int]) -> list[str]:
    """Command-line flags of both benchmarks for a model shape."""
    return [arg for key, value in shape.items() for arg in (f"--{key.replace('_', '-')}", str(value))]


def environment() -> dict[str, Any]:
    """Versions and the device, as the figures depend on them."""
    import torch

    env: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    for name in ("torch", "transformers", "trl", "peft", "datasets", "pydantic"):
        try:
            env[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            env[name] = None
    if torch.cuda.is_available():
        env["gpu"] = torch.cuda.get_device_name(0)
        env["cuda"] = torch.version.cuda
        env["gpu_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
    return env


def write(summary: dict[str, Any]) -> None:
    """Write the summary to ``$OUT/gpu_check.json`` when ``OUT`` is set."""
    if os.environ.get("OUT"):
        from repo_sdk.io.atomic import atomic_write

        with atomic_write(Path(os.environ["OUT"]) / "gpu_check.json") as fh:
            json.dump(summary, fh, indent=2, default=str)


def _stage(summary: dict[str, Any], name: str, fn: Callable[[], dict[str, Any]]) -> None:
    print(f"\n--- {name} ---", flush=True)
    start = time.perf_counter()
    try:
        summary[name] = fn()
    except Exception as exc:  # one stage's failure must not lose the other's figures
        traceback.print_exc()
        summary["errors"][name] = f"{type(exc).__name__}: {exc}"
    summary["stage_seconds"][name] = round(time.perf_counter() - start, 1)
    write(summary)


def _x(value: float) -> str:
    return f"{value:.3f}x" if math.isfinite(value) else str(value)


def report(summary: dict[str, Any]) -> str:
    """The summary as text: a header and two Markdown tables shaped like docs/benchmarks.md's."""
    env, shape = summary["environment"], summary["shape"]
    where = env.get("gpu") or f"CPU ({env['cpus']} cores)"
    lines = [
        f"GPU check ({summary['mode']}): {where}, torch {env['torch']}, transformers {env['transformers']}, "
        f"trl {env['trl']}, python {env['python']}; {summary['seconds']:.0f} s",
        f"models: random weights, Llama shaped hidden {shape['hidden']}, {shape['layers']} layers, "
        f"{shape['heads']}/{shape['kv_heads']} heads, vocab {shape['vocab']}"
        + (" (SmolLM2-135M's shape)" if shape == SMOLLM2_135M else " (tiny)"),
    ]
    if "rm" in summary:
        rm = summary["rm"]
        t, r = rm["median_s"], rm["ratios"]
        lines += [
            "",
            f"RM scoring: {rm['model']['params_m']}M-parameter RM, {rm['dtype']} on {rm['device']}, "
            f"{rm['samples']} samples of {rm['tokens']['min']}-{rm['tokens']['max']} tokens "
            f"({rm['tokens']['total']} tokens), token budget {rm['token_budget']}, median of {rm['repeats']}",
            "",
            "| device | rm source | rm core | bare loop | TRL GRPO path | source / TRL | core / bare | source / bare |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            f"| {where} {rm['dtype']} | {t['rm source']:.3f} s | {t['rm core']:.3f} s | {t['bare loop']:.3f} s "
            f"| {t['TRL GRPO path']:.3f} s | **{_x(r['source_vs_trl'])}** | **{_x(r['core_vs_bare'])}** "
            f"| {_x(r['source_vs_bare'])} |",
            "",
            f"padded tokens: micro-batches {rm['padded_tokens']['micro_batches']} ({rm['micro_batches']} batches), "
            f"TRL whole batch {rm['padded_tokens']['trl']}; largest difference from the TRL path's scores "
            f"{rm['max_abs_diff_vs_trl']:.2e} (scores' standard deviation {rm['score_std']:.3f})",
        ]
    if "grpo" in summary:
        g = summary["grpo"]
        s, p, f, r = g["step_ms"], g["reward_phase_ms"], g["reward_fn_ms"], g["ratios"]
        lines += [
            "",
            f"GRPO step: {g['policy']['params_m']}M-parameter policy, LoRA r=8, on {g['device']}, batch {g['batch']} "
            f"({g['generations']} per prompt), {g['new_tokens']} new tokens, {g['steps']} steps x {g['repeats']} "
            "pairs of runs",
            "",
            "| setup | GRPO step | reward phase | reward function |",
            "|---|---:|---:|---:|",
            f"| REPO callable (1 function) | {s['repo']:.1f} ms | {p['repo']:.2f} ms | {f['repo']:.2f} ms |",
            f"| separate sources (3 functions, TRL's sum) | {s['separate']:.1f} ms | {p['separate']:.2f} ms "
            f"| {f['separate']:.2f} ms |",
            f"| **ratio REPO / separate** | **{_x(r['step'])}** (pairs {min(g['pair_ratios']):.2f}-"
            f"{max(g['pair_ratios']):.2f}; pooled {_x(r['step_pooled'])}) | {_x(r['reward_phase'])} "
            f"| {_x(r['reward_fn'])} |",
        ]
    for name, error in summary["errors"].items():
        lines.append(f"FAILED {name}: {error}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="the whole flow on the CPU, tiny shapes, seconds")
    parser.add_argument("--only", choices=["rm", "grpo"], action="append", help="run only this stage (repeatable)")
    parser.add_argument("--budget-s", type=float, default=480, help="seconds for both stages (default 480)")
    parser.add_argument("--require-gpu", action="store_true", help="exit 1 when there is no GPU (not a dry run)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the GPU machine has no network; nothing here needs one
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import torch

    if not args.dry_run and not torch.cuda.is_available():
        print("no CUDA device here: nothing to measure (--dry-run runs the flow on the CPU)")
        return 1 if args.require_gpu else 0

    from benchmarks import grpo_step, rm_throughput

    mode = "dry-run" if args.dry_run else "gpu"
    settings = SETTINGS[mode]
    summary: dict[str, Any] = {
        "check": "benchmarks.gpu_check",
        "mode": mode,
        "environment": environment(),
        "shape": settings["shape"],
        "weights": "random (models built from configs; no weights are carried)",
        "errors": {},
        "stage_seconds": {},
    }
    stages = args.only or ["rm", "grpo"]
    if "rm" in stages:
        _stage(summary, "rm", lambda: rm_throughput.run(settings["rm"] + shape_args(settings["shape"])))
    if "grpo" in stages:
        left = max(args.budget_s - (time.perf_counter() - start), 0.0)
        grpo_args = settings["grpo"] + shape_args(settings["shape"]) + ["--budget-s", f"{left:.0f}"]
        _stage(summary, "grpo", lambda: grpo_step.run(grpo_args))
    summary["seconds"] = round(time.perf_counter() - start, 1)
    write(summary)
    print("\n=== GPU check summary ===\n" + report(summary), flush=True)
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
