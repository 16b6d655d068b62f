"""``repo-sdk train --trainer openrlhf``: the ``train_ppo_ray`` command for a spec, and running it.

PPO with a critic and GAE, as in the paper: the reward is the spec's REPO reward,
through an exported reward file (default), running reward servers
(``reward_urls``), or the multi-turn negotiation agent (``agent=True``). Everything
the command needs is written under the output directory: ``prompts.jsonl`` (the
task as each prompt's label), ``reward.py`` or ``agent.py``, and
``train_ppo_ray.sh``, one option per line, every path relative to the script's folder and
``python`` from the environment, so the folder runs wherever it is copied.
OpenRLHF's trainers need GPUs, vLLM and flash-attn.

Example:
    >>> from repo_sdk.config import load_spec
    >>> from repo_sdk.train_spec import TrainSpec
    >>> flags = ppo_flags(TrainSpec(model="my/policy"), actor="my/policy", out=Path("/o"), prompts=Path("/o/p.jsonl"))
    >>> flags["algo.advantage.estimator"], flags["critic.model_name_or_path"]
    ('gae', 'my/policy')
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repo_sdk.config import LoadedSpec
from repo_sdk.errors import ConfigError, InputError, MissingDependencyError
from repo_sdk.io.atomic import atomic_write
from repo_sdk.train_spec import TrainSpec, parse_train_spec
from repo_sdk_openrlhf.reward_file import export_reward_file

__all__ = ["DEFAULT_ACTOR", "OpenRLHFRun", "default_spec", "launch", "plan", "ppo_flags", "write_prompts"]

DEFAULT_ACTOR = "HuggingFaceTB/SmolLM2-135M-Instruct"
_DATA = Path(__file__).parent / "data"


@dataclass
class OpenRLHFRun:
    """A planned run: the command as it runs here (absolute paths, this interpreter), the portable
    script holding it, and where things were written."""

    command: list[str]
    script: Path
    output_dir: Path
    reward: str


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


def _rows(ts: TrainSpec, loaded: LoadedSpec) -> tuple[list[dict[str, Any]], Path]:
    if ts.dataset == "default":
        path = _DATA / "negotiation_prompts.jsonl"
    else:
        path = Path(ts.dataset).expanduser()
        path = path if path.is_absolute() else loaded.base_dir / path
    if not path.is_file():
        raise ConfigError(f"train.dataset: no such file {str(path)!r}")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: invalid JSON: {exc.msg}") from None
    return rows, path


def write_prompts(ts: TrainSpec, loaded: LoadedSpec, target: Path) -> Path:
    """The dataset as OpenRLHF reads it: ``prompt`` plus ``label`` (the task envelope as JSON text)."""
    rows, source = _rows(ts, loaded)
    with atomic_write(target) as fh:
        for n, row in enumerate(rows, 1):
            if not isinstance(row, dict) or ts.prompt_column not in row:
                raise InputError(f"{source}:{n}: missing prompt column {ts.prompt_column!r}")
            task = row.get(ts.task_column, {}) if ts.task_column else {}
            task = json.loads(task) if isinstance(task, str) else dict(task or {})
            task |= {c: row.get(c) for c in ts.task_columns}
            envelope: dict[str, Any] = {"task": task}
            if isinstance(row.get("counterpart"), list):
                envelope["counterpart"] = row["counterpart"]
            label = json.dumps(envelope, ensure_ascii=False, sort_keys=True)
            fh.write(json.dumps({"prompt": row[ts.prompt_column], "label": label}, ensure_ascii=False) + "\n")
    return target


def ppo_flags(ts: TrainSpec, *, actor: str, out: Path, prompts: Path) -> dict[str, Any]:
    """``train_ppo_ray`` flags (name without ``--`` -> value; True is a bare flag) for PPO + GAE."""
    lora = ts.lora
    flags: dict[str, Any] = {
        "actor.model_name_or_path": actor,
        "critic.model_name_or_path": actor,
        "data.prompt_dataset": str(prompts),
        "data.input_key": "prompt",
        "data.label_key": "label",
        "data.apply_chat_template": True,
        "algo.advantage.estimator": "gae",
        "algo.advantage.gamma": 1.0,
        "algo.advantage.lambd": 0.95,
        "rollout.batch_size": ts.batch_size,
        "train.batch_size": ts.batch_size,
        "rollout.n_samples_per_prompt": 1,
        "train.num_episodes": 1,
        "data.max_samples": ts.steps * ts.batch_size,
        "rollout.max_new_tokens": ts.max_new_tokens,
        "actor.adam.lr": ts.learning_rate,
        "train.seed": ts.seed,
        "ckpt.output_dir": str(out / "ckpt"),
        "ckpt.path": str(out / "ckpt" / "checkpoints"),
        **({"ckpt.save_steps": ts.save_steps} if ts.save_steps is not None else {}),
        "logger.logging_steps": 1,
        # one GPU unless the spec says otherwise (OpenRLHF's own defaults assume 8 per node)
        "actor.num_gpus_per_node": 1,
        "critic.num_gpus_per_node": 1,
        "ref.num_gpus_per_node": 1,
        "vllm.num_engines": 1,
        "train.colocate_all": True,
        "vllm.gpu_memory_utilization": 0.5,
    }
    if lora is not None:
        targets = lora.target_modules
        flags |= {
            "ds.lora.rank": lora.rank,
            "ds.lora.alpha": lora.alpha if lora.alpha != int(lora.alpha) else int(lora.alpha),
            "ds.lora.dropout": lora.dropout,
            "ds.lora.target_modules": targets if isinstance(targets, list) else [targets],
        }
    for key, value in ts.openrlhf.items():
        flags.pop(key, None)
        if value is not None and value is not False:
            flags[key] = value
    return flags


def _argv(flags: dict[str, Any]) -> list[str]:
    argv = [sys.executable, "-m", "openrlhf.cli.train_ppo_ray"]
    for key, value in flags.items():
        argv.append(f"--{key}")
        argv.extend(_values(value))
    return argv


def _values(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [] if value is True else [str(value)]


def _shell_word(value: str, here: Path) -> str:
    """A flag value in the script: a local path as ``"$HERE/<path relative to the script>"``."""
    path = Path(value)
    if path.is_absolute() and (path.exists() or path.is_relative_to(here)):
        try:
            rel = os.path.relpath(path, here)
        except ValueError:  # another drive (Windows)
            return shlex.quote(value)
        return f'"$HERE/{Path(rel).as_posix()}"' if rel != "." else '"$HERE"'
    return shlex.quote(value)


def script_text(flags: dict[str, Any], here: Path, *, spec: Path, reward: str) -> str:
    """``train_ppo_ray.sh``: one option per line, paths relative to the script, ``python`` (or
    ``$PYTHON``) from the environment, so the folder runs wherever it is copied."""
    lines = ['"${PYTHON:-python}" -m openrlhf.cli.train_ppo_ray']
    for key, value in flags.items():
        lines.append(" ".join([f"--{key}", *(_shell_word(v, here) for v in _values(value))]))
    shown = reward if "://" in reward else Path(reward).name
    return (
        "#!/usr/bin/env bash\n"
        f"# Generated by `repo-sdk train --trainer openrlhf` from {spec.name}.\n"
        f"# PPO with a critic and GAE; the REPO reward comes from {shown}.\n"
        "# Needs GPUs and: pip install 'openrlhf[vllm]' repo-sdk repo-sdk-openrlhf\n"
        "# Paths are relative to this script's folder (copy the folder, and the spec's, anywhere);\n"
        "# PYTHON picks the interpreter (default: python on PATH).\n"
        "set -euo pipefail\n"
        'HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"\n' + " \\\n  ".join(lines) + "\n"
    )


def plan(
    loaded: LoadedSpec,
    *,
    output_dir: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    reward_urls: list[str] | None = None,
    agent: bool = False,
    max_turns: int = 4,
    resume: bool = False,
) -> OpenRLHFRun:
    """Write prompts, reward (file, URLs or agent) and the script; return the run.

    ``resume`` makes the command load OpenRLHF's newest checkpoint under ``ckpt.path``
    (``--ckpt.load_enable``); ``train.save_steps`` has it write them (``--ckpt.save_steps``).
    """
    if loaded.path is None:
        raise ConfigError("the OpenRLHF run needs a spec file (its reward file embeds it)")
    ts = parse_train_spec(loaded, overrides)
    out = Path(output_dir or ts.output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    actor = _actor(ts, loaded, out)
    prompts = write_prompts(ts, loaded, out / "prompts.jsonl")
    flags = ppo_flags(ts, actor=actor, out=out, prompts=prompts)
    if resume:
        flags["ckpt.load_enable"] = True
    if agent:
        from repo_sdk_openrlhf.agent import export_agent_file

        reward = str(export_agent_file(loaded.path, out / "agent.py", tokenizer=actor, max_turns=max_turns, log=ts.log))
        flags["train.agent_func_path"] = reward
    elif reward_urls:
        reward = ",".join(reward_urls)
        flags["reward.remote_url"] = reward
    else:
        reward = str(export_reward_file(loaded.path, out / "reward.py", tokenizer=actor, log=ts.log))
        flags["reward.remote_url"] = reward
    script = out / "train_ppo_ray.sh"
    with atomic_write(script) as fh:
        fh.write(script_text(flags, out, spec=loaded.path, reward=reward))
    script.chmod(0o755)
    return OpenRLHFRun(_argv(flags), script, out, reward)


def launch(run: OpenRLHFRun) -> int:
    """Run the planned script in the foreground with this interpreter as ``$PYTHON``; its exit code."""
    for module, install in (
        ("openrlhf", "openrlhf"),
        ("ray", "'ray[default]'"),
        ("vllm", "vllm"),
        ("deepspeed", "deepspeed"),
    ):
        if importlib.util.find_spec(module) is None:
            raise MissingDependencyError("launching OpenRLHF's train_ppo_ray (GPU only)", install)
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(["bash", str(run.script)], check=False, env=env).returncode


def default_spec() -> LoadedSpec:
    """The packaged default spec (rules-only reward, negotiation prompts, SmolLM2 policy)."""
    from repo_sdk.config import load_spec

    return load_spec(_DATA / "default_spec.yaml")
