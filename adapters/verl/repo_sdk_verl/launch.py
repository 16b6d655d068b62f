"""``repo-sdk train --trainer verl``: verl's ``main_ppo`` command for a spec, its data, and running it.

Everything the command needs is written under the output directory:
``train.parquet`` (the prompts of ``train.dataset``, in verl's layout), ``val.parquet``
(its first 32 rows: validation is where verl logs the per-source metrics) and
``train_verl.sh``. The reward is ``pkg://repo_sdk_verl.reward`` with the spec's
absolute path in ``reward_kwargs``. The ``train:`` keys map to hydra overrides:

    model           actor_rollout_ref.model.path (and critic.model.path for PPO)
                    (default: HuggingFaceTB/SmolLM2-135M-Instruct; tiny: built into output_dir)
    algo            ppo: algorithm.adv_estimator=gae with a critic (the paper's), one reply per prompt;
                    grpo: adv_estimator=grpo, actor_rollout_ref.rollout.n=num_generations
    batch_size      completions per step: data.train_batch_size = batch_size / n prompts,
                    actor ppo_mini_batch_size the same (one PPO update per step)
    steps           trainer.total_training_steps
    max_new_tokens  data.max_response_length
    learning_rate   actor_rollout_ref.actor.optim.lr
    lora            actor_rollout_ref.model.lora_rank / lora_alpha / target_modules (critic too);
                    verl's FSDP LoRA has no dropout, so a non-zero ``dropout`` is refused
    seed            data.seed, actor_rollout_ref.rollout.seed
    output_dir      trainer.default_local_dir (checkpoints), trainer.validation_data_dir
    save_steps      trainer.save_freq; --resume sets trainer.resume_mode=auto (else disable)
    verl            any further overrides, e.g. {"trainer.n_gpus_per_node": 8}; null drops one of ours

Example:
    >>> from repo_sdk.train_spec import TrainSpec
    >>> o = verl_overrides(TrainSpec(), algo="ppo", actor="m", out=Path("/o"), spec=Path("/s.yaml"))
    >>> o["algorithm.adv_estimator"], o["reward.custom_reward_function.path"]
    ('gae', 'pkg://repo_sdk_verl.reward')
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repo_sdk.config import LoadedSpec
from repo_sdk.errors import ConfigError, MissingDependencyError, RepoSdkError, require
from repo_sdk.io.atomic import atomic_write
from repo_sdk.train_spec import TrainSpec, parse_train_spec
from repo_sdk_verl.data import PrepareSummary, prepare_prompts, write_rows

__all__ = [
    "DEFAULT_ACTOR",
    "VerlRun",
    "check_overrides",
    "default_spec",
    "format_override",
    "launch",
    "plan",
    "verl_overrides",
]

DEFAULT_ACTOR = "HuggingFaceTB/SmolLM2-135M-Instruct"
ALGOS = ("ppo", "grpo")
VAL_ROWS = 32
_DATA = Path(__file__).parent / "data"
_BARE = re.compile(r"^[A-Za-z0-9_./:~+@-]+$")


@dataclass
class VerlRun:
    """A planned run: the command, the script holding it, and what was written."""

    command: list[str]
    script: Path
    output_dir: Path
    data: PrepareSummary


def format_override(key: str, value: Any) -> str:
    """One hydra override ``key=value`` (strings quoted when hydra would read them otherwise).

    Example:
        >>> format_override("trainer.logger", ["console"]), format_override("a.b", "x y"), format_override("c", None)
        ('trainer.logger=[console]', "a.b='x y'", 'c=null')
    """

    def fmt(v: Any) -> str:
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, (list, tuple)):
            return "[" + ",".join(fmt(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ",".join(f"{k}:{fmt(x)}" for k, x in v.items()) + "}"
        s = str(v)
        plain = _BARE.match(s) and s.lower() not in ("true", "false", "null", "none") and not _number(s)
        return s if plain else "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"

    return f"{key}={fmt(value)}"


def _number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def verl_overrides(
    ts: TrainSpec, *, algo: str, actor: str, out: Path, spec: Path, name: str = "repo_reward", resume: bool = False
) -> dict[str, Any]:
    """The ``main_ppo`` overrides for a ``train:`` section (see the module docs); ``+key`` adds a key
    verl's schema does not declare."""
    if algo not in ALGOS:
        raise ConfigError(f"--algo: verl supports {', '.join(ALGOS)}, got {algo!r}")
    n = ts.num_generations if algo == "grpo" else 1
    prompts = ts.batch_size // n
    micro = max(1, min(4, ts.batch_size))
    o: dict[str, Any] = {
        "algorithm.adv_estimator": "gae" if algo == "ppo" else "grpo",
        "algorithm.lam": 0.95 if algo == "ppo" else 1.0,
        "data.train_files": str(out / "train.parquet"),
        "data.val_files": str(out / "val.parquet"),
        "data.prompt_key": "prompt",
        "data.train_batch_size": prompts,
        "data.max_response_length": ts.max_new_tokens,
        "data.seed": ts.seed,
        "actor_rollout_ref.model.path": actor,
        "actor_rollout_ref.actor.optim.lr": ts.learning_rate,
        "actor_rollout_ref.actor.ppo_mini_batch_size": prompts,
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu": micro,
        "actor_rollout_ref.rollout.name": "vllm",
        "actor_rollout_ref.rollout.n": n,
        "actor_rollout_ref.rollout.seed": ts.seed,
        "actor_rollout_ref.rollout.tensor_model_parallel_size": 1,
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu": micro,
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu": micro,
        "reward.custom_reward_function.path": "pkg://repo_sdk_verl.reward",
        "reward.custom_reward_function.name": "compute_score",
        "+reward.custom_reward_function.reward_kwargs.spec": str(spec),
        # each reward worker builds the spec's pipeline (and loads its RM): a few workers, large batches
        "reward.num_workers": 2,
        "trainer.total_training_steps": ts.steps,
        "trainer.total_epochs": ts.steps,  # an upper bound: every epoch has at least one step
        "trainer.n_gpus_per_node": 1,
        "trainer.nnodes": 1,
        "trainer.logger": ["console"],
        "trainer.project_name": "repo_sdk",
        "trainer.experiment_name": name,
        "trainer.default_local_dir": str(out / "checkpoints"),
        "trainer.validation_data_dir": str(out / "validation"),
        "trainer.test_freq": max(1, ts.steps // 10),
        "trainer.save_freq": ts.save_steps if ts.save_steps is not None else -1,
        "trainer.resume_mode": "auto" if resume else "disable",
    }
    if algo == "ppo":
        o |= {"critic.model.path": actor, "critic.ppo_micro_batch_size_per_gpu": micro}
    if ts.lora is not None:
        if ts.lora.dropout:
            raise ConfigError(f"train.lora.dropout: verl's FSDP LoRA has no dropout setting (got {ts.lora.dropout})")
        alpha = int(ts.lora.alpha) if ts.lora.alpha == int(ts.lora.alpha) else ts.lora.alpha
        for model in ("actor_rollout_ref.model", *(("critic.model",) if algo == "ppo" else ())):
            o |= {
                f"{model}.lora_rank": ts.lora.rank,
                f"{model}.lora_alpha": alpha,
                f"{model}.target_modules": ts.lora.target_modules,
            }
    for key, value in ts.verl.items():
        o.pop(key, None)
        o.pop("+" + key.lstrip("+"), None)
        if value is not None:
            o[key] = value
    return o


def check_overrides(overrides: list[str]) -> bool:
    """Compose verl's own config with the overrides, when verl is installed here: a key its schema
    does not have, or a value of the wrong type, is a ConfigError now rather than on the GPU machine.
    False when verl is not installed (nothing checked)."""
    if importlib.util.find_spec("verl") is None or importlib.util.find_spec("hydra") is None:
        return False
    from repo_sdk_verl.testing import compose_config

    try:
        compose_config(overrides, migrate=False)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"train.verl: verl's config schema refuses the run: {first}") from None
    return True


def _actor(ts: TrainSpec, loaded: LoadedSpec, out: Path) -> str:
    if ts.model == "default":
        return DEFAULT_ACTOR
    if ts.model == "tiny":
        from repo_sdk.rm.tiny import build_tiny_model

        return str(build_tiny_model(out / "tiny-policy", head="causal-lm"))
    path = Path(ts.model).expanduser()
    if not path.is_absolute() and (loaded.base_dir / path).exists():
        path = loaded.base_dir / path
    return str(path.resolve()) if path.exists() else ts.model


def _write_data(ts: TrainSpec, loaded: LoadedSpec, out: Path, prompts_per_step: int) -> PrepareSummary:
    dataset = _DATA / "negotiation_prompts.jsonl" if ts.dataset == "default" else Path(ts.dataset).expanduser()
    dataset = dataset if dataset.is_absolute() else loaded.base_dir / dataset
    if not dataset.is_file():
        raise ConfigError(f"train.dataset: no such file {str(dataset)!r}")
    columns = {"prompt_column": ts.prompt_column, "task_column": ts.task_column, "task_columns": ts.task_columns}
    summary = prepare_prompts(dataset, out / "train.parquet", **columns)
    if summary.rows < prompts_per_step:
        raise ConfigError(
            f"train.dataset: {summary.rows} prompts, fewer than one step needs ({prompts_per_step}: "
            "batch_size / completions per prompt)"
        )
    from repo_sdk_verl.data import prompt_samples

    first = [s for _, s in zip(range(VAL_ROWS), prompt_samples(dataset, **columns), strict=False)]
    write_rows(first, out / "val.parquet")
    return summary


def plan(
    loaded: LoadedSpec,
    *,
    algo: str = "ppo",
    output_dir: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    resume: bool = False,
) -> VerlRun:
    """Write the data and the script for ``main_ppo``; return the run."""
    if loaded.path is None:
        raise ConfigError("the verl run needs a spec file (its reward workers load it)")
    ts = parse_train_spec(loaded, overrides)
    out = Path(output_dir or ts.output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    actor = _actor(ts, loaded, out)
    spec = loaded.path.resolve()
    o = verl_overrides(ts, algo=algo, actor=actor, out=out, spec=spec, name=loaded.spec.name, resume=resume)
    args = [format_override(k, v) for k, v in o.items()]
    check_overrides(args)
    data = _write_data(ts, loaded, out, int(o.get("data.train_batch_size") or 1))
    command = [sys.executable, "-m", "verl.trainer.main_ppo", *args]
    script = out / "train_verl.sh"
    with atomic_write(script) as fh:
        fh.write(
            "#!/usr/bin/env bash\n"
            f"# Generated by `repo-sdk train --trainer verl` from {loaded.path.resolve()}.\n"
            f"# {algo.upper()} with the REPO reward (pkg://repo_sdk_verl.reward) on {data.rows} prompts.\n"
            "# Needs a CUDA GPU and: pip install 'verl[vllm]==0.9.*' repo-sdk repo-sdk-verl\n"
            "set -euo pipefail\n" + " \\\n  ".join(shlex.quote(a) for a in command) + "\n"
        )
    script.chmod(0o755)
    return VerlRun(command, script, out, data)


def missing_for_launch() -> list[str]:
    """What this machine lacks to run verl's trainer: a CUDA GPU and the packages, as install hints."""
    missing = []
    for module, install in (
        ("verl", "'verl[vllm]==0.9.*'"),
        ("ray", "ray"),
        ("vllm", "vllm"),
        ("transfer_queue", "TransferQueue"),
    ):
        if importlib.util.find_spec(module) is None:
            missing.append(install)
    return missing


def launch(run: VerlRun) -> int:
    """Run the planned command in the foreground; its exit code. Stops first, with one line naming
    what is missing, when there is no CUDA GPU or a package is missing."""
    torch: Any = require("torch", "torch", "launching verl")
    missing = missing_for_launch()
    if not torch.cuda.is_available():
        also = f"; also: pip install {' '.join(missing)}" if missing else ""
        raise RepoSdkError(f"launching verl needs a CUDA GPU and none is here{also} (the run is written: {run.script})")
    if missing:
        raise MissingDependencyError("launching verl's trainer", " ".join(missing))
    import subprocess

    return subprocess.run(run.command, check=False).returncode


def default_spec() -> LoadedSpec:
    """The packaged default spec (rules-only reward, negotiation prompts, SmolLM2 policy)."""
    from repo_sdk.config import load_spec

    return load_spec(_DATA / "default_spec.yaml")
