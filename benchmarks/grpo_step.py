"""A GRPO step with the REPO callable versus TRL with the same sources as separate reward functions.

Run: ``.venv/bin/python -m benchmarks.grpo_step`` (``--help`` for the knobs).

Both runs train the same tiny random policy (``repo_sdk.rm.tiny``) with the real
``trl.GRPOTrainer`` on the packaged negotiation prompts, at learning rate 0 (the
policy stays put, so both generate exactly the same completions and only the
reward differs), with the same three sources: a simulated RM (0.2 ms per call + 20 us per sample, sync), a
guardrail rules source and a length rules source.

- ``REPO callable``: ``repo_reward_func(spec)``: one async function that scores
  all sources concurrently, applies the REPO combiner and logs every source.
- ``separate (baseline)``: ``source_reward_funcs(spec)``: one async function per
  source, summed by TRL with ``reward_weights`` (what TRL offers natively).

Reported: the median of TRL's own ``step_time`` over the measured steps (the
first ``--warmup`` steps of each run are dropped, and a throw-away run goes
first), runs interleaved ``--repeats`` times in alternating order (ABBA), and the
ratio REPO / baseline (the issue's target: <= 1.05). The ratio is the median over
the repeats of each repeat's ratio (its REPO run's median step over its baseline
run's, the two run back to back), so a stretch of load from other processes that
slows one run spoils one pair, not the verdict; the ratio of the pooled medians
is printed beside it. Generation dominates the step and
varies with the machine's load, so the reward phase of the same steps (TRL's
``_calculate_rewards``, timed inside the real trainer) is reported too.
Also the reward computation alone on a batch of 24 completions, called the way TRL
calls it (gathered on an event loop): the minimum over 5 interleaved rounds of ``--reward-calls`` calls.

The policy's shape is set by ``--hidden``, ``--layers``, ``--heads``, ``--kv-heads``,
``--intermediate`` and ``--vocab`` (random weights either way); ``--device cuda``
trains in bf16 autocast. ``--budget-s`` stops starting new repeats once the time
left is less than the last repeat took (at least one repeat runs). :func:`run`
returns the figures as a dict (``benchmarks.gpu_check`` collects them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SPEC = {
    "name": "repo_bench",
    "sources": {
        "rm": {"type": "bench_grpo_rm"},
        "guard": ["cot_leak"],
        "length": [{"name": "max_length", "max_chars": 40, "points": -30}],
    },
}


def _plugin() -> Any:
    from repo_sdk import RewardSource, SourceScore, hookimpl

    class BenchRM(RewardSource):
        """A simulated RM with a small, fixed cost per call and per sample."""

        name = "bench_grpo_rm"
        kind = "rm"

        def score(self, samples):
            time.sleep(0.0002 + 0.00002 * len(samples))
            return [SourceScore(value=1.0 + (len(s.response) % 13) / 10) for s in samples]

    class Plugin:
        @hookimpl
        def register_sources(self, register: Any) -> None:
            register(BenchRM)

    return Plugin()


def _run(funcs: list[Any], policy: str, args: argparse.Namespace, out: Path) -> tuple[list[float], list[float]]:
    """Step times and reward-phase times (TRL's ``_calculate_rewards``) of one training run, warm-up dropped."""
    from peft import LoraConfig
    from repo_sdk_trl.data import load_prompts
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    reward_times: list[float] = []

    class TimedGRPOTrainer(GRPOTrainer):
        def _calculate_rewards(self, *a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            out = super()._calculate_rewards(*a, **k)
            reward_times.append(time.perf_counter() - t0)
            return out

    cuda = args.device == "cuda"
    config = GRPOConfig(
        output_dir=str(out),
        max_steps=args.warmup + args.steps,
        per_device_train_batch_size=args.batch,
        num_generations=args.generations,
        max_completion_length=args.tokens,
        learning_rate=0.0,  # the policy stays put: both setups generate exactly the same completions
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        use_cpu=not cuda,
        bf16=cuda,
        seed=0,
        gradient_checkpointing=False,
        disable_tqdm=True,
        reward_weights=[1.0] * len(funcs) if len(funcs) > 1 else None,
    )
    trainer = TimedGRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(policy),
        reward_funcs=funcs,
        args=config,
        train_dataset=load_prompts("default"),
        processing_class=AutoTokenizer.from_pretrained(policy),
        peft_config=LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM"),
    )
    trainer.remove_callback(PrinterCallback)  # keep stdout for the results
    trainer.train()
    times = [row["step_time"] for row in trainer.state.log_history if "step_time" in row]
    return times[args.warmup :], reward_times[args.warmup :]


def _reward_only(repo: Any, separate: list[Any], n: int) -> tuple[float, float]:
    """Seconds per batch of the reward computation alone, called as TRL calls it (gathered)."""
    from repo_sdk_trl.data import load_prompts

    ds = load_prompts("default")
    prompts = [row["prompt"] for row in ds] * 2
    completions = [
        [{"role": "assistant", "content": f"Could we agree on {80 + i} EUR? <think>hm</think>" * (i % 3)}]
        for i in range(len(prompts))
    ]
    kwargs = {"task": [row["task"] for row in ds] * 2, "log_metric": lambda *a: None, "log_extra": lambda *a: None}

    async def call(funcs: list[Any]) -> None:
        await asyncio.gather(*(f(prompts=prompts, completions=completions, **kwargs) for f in funcs))

    def timed(funcs: list[Any]) -> float:
        asyncio.run(call(funcs))
        t0 = time.perf_counter()
        for _ in range(n):
            asyncio.run(call(funcs))
        return (time.perf_counter() - t0) / n

    a, b = [], []
    for _ in range(5):  # interleaved; the minimum is the least disturbed by other processes
        a.append(timed([repo]))
        b.append(timed(separate))
    return min(a), min(b)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print its report and return the figures (milliseconds, ratios, shape)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12, help="measured steps per run")
    parser.add_argument("--warmup", type=int, default=2, help="steps dropped at the start of each run")
    parser.add_argument("--repeats", type=int, default=6, help="interleaved runs of each setup")
    parser.add_argument("--batch", type=int, default=8, help="completions per step")
    parser.add_argument("--generations", type=int, default=4, help="completions per prompt")
    parser.add_argument("--tokens", type=int, default=24, help="max new tokens")
    parser.add_argument("--reward-calls", type=int, default=100, help="calls per round of the reward-only timing")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu")
    parser.add_argument("--budget-s", type=float, default=None, help="no new repeat once less time is left")
    parser.add_argument("--hidden", type=int, default=32, help="policy width")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--kv-heads", type=int, default=None, help="default: --heads")
    parser.add_argument("--intermediate", type=int, default=None, help="default: 2.7 x hidden")
    parser.add_argument("--vocab", type=int, default=512)
    args = parser.parse_args(argv)
    started = time.perf_counter()

    import torch
    import transformers
    from repo_sdk_trl import repo_reward_func, source_reward_funcs

    from repo_sdk.rm.tiny import build_tiny_model
    from repo_sdk.testing import register_plugin

    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    transformers.logging.set_verbosity_error()
    work = Path(tempfile.mkdtemp(prefix="repo-sdk-grpo-bench-"))
    policy = str(
        build_tiny_model(
            work / "policy",
            head="causal-lm",
            hidden_size=args.hidden,
            num_layers=args.layers,
            num_heads=args.heads,
            num_kv_heads=args.kv_heads,
            intermediate_size=args.intermediate,
            vocab_size=args.vocab,
        )
    )
    n_params = sum(p.numel() for p in transformers.AutoModelForCausalLM.from_pretrained(policy).parameters())
    with register_plugin(_plugin(), name="bench-grpo-rm"):
        times: dict[str, list[float]] = {"repo": [], "separate": []}
        phase: dict[str, list[float]] = {"repo": [], "separate": []}
        pairs: list[float] = []  # per repeat: REPO run median / baseline run median
        # a throw-away run first: the process's first trainer pays torch's and TRL's one-time warm-up
        _run(source_reward_funcs(SPEC), policy, argparse.Namespace(**{**vars(args), "steps": 1}), work / "warm")
        for r in range(args.repeats):
            pair_start = time.perf_counter()
            medians: dict[str, float] = {}
            for name in ("repo", "separate") if r % 2 == 0 else ("separate", "repo"):
                funcs = [repo_reward_func(SPEC)] if name == "repo" else source_reward_funcs(SPEC)
                run_times, run_phase = _run(funcs, policy, args, work / f"{name}{r}")
                print(
                    f"run {r} {name:<8} median step {statistics.median(run_times) * 1000:.1f} ms, "
                    f"reward phase {statistics.median(run_phase) * 1000:.2f} ms",
                    flush=True,
                )
                times[name] += run_times
                phase[name] += run_phase
                medians[name] = statistics.median(run_times)
            pairs.append(medians["repo"] / medians["separate"])
            now = time.perf_counter()
            if args.budget_s is not None and started + args.budget_s - now < now - pair_start:
                print(f"time budget {args.budget_s:.0f}s: stopping after {r + 1} of {args.repeats} repeats", flush=True)
                break
        repo_reward, separate_reward = _reward_only(
            repo_reward_func(SPEC), source_reward_funcs(SPEC), args.reward_calls
        )
    repo, separate = statistics.median(times["repo"]), statistics.median(times["separate"])
    repo_phase, separate_phase = statistics.median(phase["repo"]), statistics.median(phase["separate"])
    print(
        f"policy: random Llama, hidden {args.hidden}, {args.layers} layers, vocab {args.vocab}, "
        f"{n_params / 1e6:.2f}M params, LoRA r=8, {args.device}{' bf16' if args.device == 'cuda' else ''}; "
        f"batch {args.batch} ({args.generations} per prompt), {args.tokens} new tokens, "
        f"{args.steps} steps x {len(pairs)} runs each, cpus={os.cpu_count()}"
    )
    print(f"{'':<34} {'GRPO step':>12} {'reward phase':>13} {'reward fn (min)':>16}")
    print(
        f"{'REPO callable (1 function)':<34} {repo * 1000:>9.1f} ms {repo_phase * 1000:>10.2f} ms "
        f"{repo_reward * 1000:>13.2f} ms"
    )
    print(
        f"{'separate sources (3 functions)':<34} {separate * 1000:>9.1f} ms {separate_phase * 1000:>10.2f} ms "
        f"{separate_reward * 1000:>13.2f} ms"
    )
    paired = statistics.median(pairs)
    verdict = "PASS" if paired <= 1.05 else "MISS"
    print(
        f"ratio REPO / separate: GRPO step {paired:.3f}x (target <= 1.05 -> {verdict}; median of the repeats' "
        f"ratios {', '.join(f'{p:.3f}' for p in pairs)}; pooled medians {repo / separate:.3f}x), "
        f"reward phase {repo_phase / separate_phase:.3f}x, reward fn {repo_reward / separate_reward:.3f}x"
    )
    return {
        "policy": {
            "hidden": args.hidden,
            "layers": args.layers,
            "heads": args.heads,
            "kv_heads": args.kv_heads or args.heads,
            "vocab": args.vocab,
            "params_m": round(n_params / 1e6, 2),
        },
        "device": args.device,
        "batch": args.batch,
        "generations": args.generations,
        "new_tokens": args.tokens,
        "steps": args.steps,
        "repeats": len(pairs),
        "step_ms": {"repo": repo * 1000, "separate": separate * 1000},
        "reward_phase_ms": {"repo": repo_phase * 1000, "separate": separate_phase * 1000},
        "reward_fn_ms": {"repo": repo_reward * 1000, "separate": separate_reward * 1000},
        "ratios": {
            "step": paired,
            "step_pooled": repo / separate,
            "reward_phase": repo_phase / separate_phase,
            "reward_fn": repo_reward / separate_reward,
        },
        "pair_ratios": pairs,
    }


def main(argv: list[str] | None = None) -> None:
    run(argv)


if __name__ == "__main__":
    main()
