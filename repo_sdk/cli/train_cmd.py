"""`repo-sdk train --trainer trl|openrlhf|verl`: train a policy with the spec's REPO reward.

``--trainer trl`` (``--algo grpo|rloo``) trains in-process with TRL; without
``--config`` it runs the embedded CPU demo (a small policy on negotiation prompts
with a rules-only spec). ``--trainer openrlhf`` writes OpenRLHF's ``train_ppo_ray``
command (PPO with a critic and GAE) and, with ``--launch``, runs it on this
machine's GPUs. ``--trainer verl`` (``--algo ppo|grpo``) writes verl's ``main_ppo``
command and its Parquet data the same way. The adapters are separate packages,
imported only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.config import LoadedSpec, load_spec
from repo_sdk.errors import ConfigError, require

ALGOS = {"trl": ("grpo", "rloo"), "openrlhf": ("ppo",), "verl": ("ppo", "grpo")}


def _spec(config: Path | None, module: Any) -> LoadedSpec:
    return load_spec(config) if config is not None else module.default_spec()


def _train_trl(
    config: Path | None, algo: str, output_dir: Path | None, overrides: dict[str, Any], resume: bool
) -> None:
    train_mod: Any = require("repo_sdk_trl.train", "repo-sdk-trl", "`repo-sdk train --trainer trl`")
    loaded = _spec(config, train_mod)
    run = train_mod.train(loaded, algo=algo, output_dir=output_dir, overrides=overrides, resume=resume)
    last: dict[str, Any] = next((row for row in reversed(run.trainer.state.log_history) if "reward" in row), {})
    shown = {k: v for k, v in last.items() if k == "reward" or k.startswith("rewards/")}
    for key, value in sorted(shown.items()):
        typer.echo(f"  {key} = {value:.4g}")
    typer.echo(
        f"trained {run.policy} for {run.trainer.state.global_step} {algo.upper()} steps "
        f"-> {run.output_dir / 'final'} (logs: {run.output_dir / 'log_history.jsonl'})",
        err=True,
    )


def _train_openrlhf(
    config: Path | None,
    output_dir: Path | None,
    overrides: dict[str, Any],
    reward_url: str | None,
    agent: bool,
    max_turns: int,
    launch: bool,
    resume: bool,
) -> None:
    launch_mod: Any = require("repo_sdk_openrlhf.launch", "repo-sdk-openrlhf", "`repo-sdk train --trainer openrlhf`")
    loaded = _spec(config, launch_mod)
    urls = [u.strip() for u in reward_url.split(",") if u.strip()] if reward_url else None
    if agent and urls:
        raise ConfigError("--agent scores in-process; it cannot be combined with --reward-url")
    run = launch_mod.plan(
        loaded,
        output_dir=output_dir,
        overrides=overrides,
        reward_urls=urls,
        agent=agent,
        max_turns=max_turns,
        resume=resume,
    )
    typer.echo(run.script.read_text(encoding="utf-8"))
    typer.echo(f"wrote {run.script} (reward: {run.reward})", err=True)
    if launch:
        code = launch_mod.launch(run)
        if code:
            raise typer.Exit(code)


def _train_verl(
    config: Path | None, algo: str, output_dir: Path | None, overrides: dict[str, Any], launch: bool, resume: bool
) -> None:
    launch_mod: Any = require("repo_sdk_verl.launch", "repo-sdk-verl", "`repo-sdk train --trainer verl`")
    loaded = _spec(config, launch_mod)
    run = launch_mod.plan(loaded, algo=algo, output_dir=output_dir, overrides=overrides, resume=resume)
    typer.echo(run.script.read_text(encoding="utf-8"))
    typer.echo(f"wrote {run.script} ({run.data.rows} prompts in {run.output_dir / 'train.parquet'})", err=True)
    if launch:
        code = launch_mod.launch(run)
        if code:
            raise typer.Exit(code)


@app.command()
@cli_errors
def train(
    trainer: str = typer.Option(
        "trl", "--trainer", "-t", help="trl (in-process), openrlhf or verl (write / run the trainer's command)"
    ),
    algo: str | None = typer.Option(
        None, "--algo", help="trl: grpo (default) or rloo; openrlhf: ppo; verl: ppo or grpo"
    ),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="reward spec with a train: section (default: the embedded demo)"
    ),
    output_dir: Path | None = typer.Option(None, "--output-dir", "-o", help="overrides train.output_dir"),
    steps: int | None = typer.Option(None, "--steps", help="overrides train.steps"),
    model: str | None = typer.Option(None, "--model", help="overrides train.model (default | tiny | path | hub id)"),
    launch: bool = typer.Option(False, "--launch", help="openrlhf, verl: run the written command (needs GPUs)"),
    reward_url: str | None = typer.Option(
        None, "--reward-url", help="openrlhf: comma-separated reward servers instead of the exported reward file"
    ),
    agent: bool = typer.Option(False, "--agent", help="openrlhf: the multi-turn negotiation agent"),
    max_turns: int = typer.Option(4, "--max-turns", min=1, help="openrlhf --agent: agent replies per conversation"),
    resume: bool = typer.Option(
        False, "--resume", help="go on from the newest checkpoint in the output dir (train.save_steps writes them)"
    ),
) -> None:
    """Train a policy with the spec's REPO reward (TRL GRPO/RLOO, OpenRLHF PPO, or verl PPO/GRPO)."""
    if trainer not in ALGOS:
        raise ConfigError(f"--trainer: expected trl, openrlhf or verl, got {trainer!r}")
    algo = algo or ALGOS[trainer][0]
    if algo not in ALGOS[trainer]:
        raise ConfigError(f"--algo: {trainer} supports {', '.join(ALGOS[trainer])}, got {algo!r}")
    if trainer == "trl" and (launch or reward_url or agent):
        raise ConfigError("--launch, --reward-url and --agent are for --trainer openrlhf (--launch also for verl)")
    if trainer == "verl" and (reward_url or agent):
        raise ConfigError("--reward-url and --agent are for --trainer openrlhf")
    overrides = {"steps": steps, "model": model}
    if trainer == "trl":
        _train_trl(config, algo, output_dir, overrides, resume)
    elif trainer == "verl":
        _train_verl(config, algo, output_dir, overrides, launch, resume)
    else:
        _train_openrlhf(config, output_dir, overrides, reward_url, agent, max_turns, launch, resume)
