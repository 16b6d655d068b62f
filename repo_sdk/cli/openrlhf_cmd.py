"""`repo-sdk openrlhf ...`: OpenRLHF integration commands (in the repo-sdk-openrlhf adapter)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.errors import ConfigError, require
from repo_sdk.io.paths import check_outputs

openrlhf_app = typer.Typer(no_args_is_help=True, help="OpenRLHF integration (reward file and agent export).")
app.add_typer(openrlhf_app, name="openrlhf")

_TOKENIZER_HELP = "policy tokenizer (chat template): path | hub id | default | tiny | plain (default: train.model)"
_LOG_HELP = "extra_logs: summary | full (per-sample telemetry too); default: the spec's train.log, else summary"


def _log_option(value: str | None) -> str | None:
    if value is not None and value not in ("summary", "full"):
        raise ConfigError(f"--log: expected summary or full, got {value!r}")
    return value


@openrlhf_app.command("export")
@cli_errors
def export(
    spec: Path = typer.Argument(..., help="reward spec (YAML)"),
    output: Path = typer.Option(Path("reward.py"), "--output", "-o", help="reward file to write"),
    tokenizer: str | None = typer.Option(None, help=_TOKENIZER_HELP),
    missing_reward: float = typer.Option(0.0, help="reward sent when the combined reward is None"),
    log: str | None = typer.Option(None, help=_LOG_HELP),
) -> None:
    """Write a reward_func file for OpenRLHF's --reward.remote_url.

    The file finds the spec by its path relative to the file's folder (or $REPO_SDK_SPEC), so the
    file and the spec's folder can be copied anywhere together. Each process that loads it builds
    the RM and the judge again; `repo-sdk serve` loads them once for every vLLM engine.
    """
    check_outputs({"-o": output}, inputs=[spec])
    mod: Any = require("repo_sdk_openrlhf.reward_file", "repo-sdk-openrlhf", "`repo-sdk openrlhf export`")
    path = mod.export_reward_file(
        spec, output, tokenizer=tokenizer, missing_reward=missing_reward, log=_log_option(log)
    )
    typer.echo(f"wrote {path}: pass --reward.remote_url {path} to openrlhf.cli.train_ppo_ray", err=True)


@openrlhf_app.command("export-agent")
@cli_errors
def export_agent(
    spec: Path = typer.Argument(..., help="reward spec (YAML)"),
    output: Path = typer.Option(Path("agent.py"), "--output", "-o", help="agent file to write"),
    tokenizer: str | None = typer.Option(None, help=_TOKENIZER_HELP),
    max_turns: int = typer.Option(4, min=1, help="agent replies per conversation"),
    aggregate: str = typer.Option("mean", help="mean or sum of the per-turn rewards"),
    missing_reward: float = typer.Option(0.0, help="reward of a turn whose combined reward is None"),
    log: str | None = typer.Option(None, help=_LOG_HELP),
) -> None:
    """Write a multi-turn negotiation AgentExecutor file for OpenRLHF's --train.agent_func_path."""
    check_outputs({"-o": output}, inputs=[spec])
    mod: Any = require("repo_sdk_openrlhf.agent", "repo-sdk-openrlhf openrlhf", "`repo-sdk openrlhf export-agent`")
    if aggregate not in ("mean", "sum"):
        raise ConfigError(f"--aggregate: expected mean or sum, got {aggregate!r}")
    path = mod.export_agent_file(
        spec,
        output,
        tokenizer=tokenizer,
        max_turns=max_turns,
        aggregate=aggregate,
        missing_reward=missing_reward,
        log=_log_option(log),
    )
    typer.echo(f"wrote {path}: pass --train.agent_func_path {path} to openrlhf.cli.train_ppo_ray", err=True)
