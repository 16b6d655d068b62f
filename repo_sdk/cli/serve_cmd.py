"""`repo-sdk serve SPEC`: an HTTP reward server speaking OpenRLHF's protocol.

``POST /get_reward`` with ``{"query", "prompts", "labels"}`` answers
``{"rewards", "scores", "extra_logs"}``; ``GET /health`` reports status and
counters. Binds 127.0.0.1 unless ``--host`` says otherwise. The server lives in
the ``repo-sdk-openrlhf`` adapter (FastAPI + uvicorn), imported only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.config import load_spec
from repo_sdk.errors import ConfigError, require

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@app.command()
@cli_errors
def serve(
    spec: Path = typer.Argument(..., help="reward spec (YAML)"),
    host: str = typer.Option("127.0.0.1", help="interface to bind (0.0.0.0 exposes the server: set a token)"),
    port: int = typer.Option(5000, min=0, max=65535, help="TCP port"),
    tokenizer: str | None = typer.Option(
        None, help="policy tokenizer (chat template): path | hub id | default | tiny | plain (default: train.model)"
    ),
    token: str | None = typer.Option(
        None, envvar="REPO_SDK_SERVE_TOKEN", help="required bearer token (better via REPO_SDK_SERVE_TOKEN)"
    ),
    max_body_mb: float = typer.Option(8.0, min=0.001, help="largest accepted request body, MiB"),
    max_batch: int = typer.Option(256, min=1, help="most samples per source call (micro-batching)"),
    max_wait_ms: float = typer.Option(0.0, min=0.0, help="how long a batch waits for more requests"),
    missing_reward: float = typer.Option(0.0, help="reward sent when the combined reward is None"),
    log: str | None = typer.Option(None, help="extra_logs: summary | full (telemetry too); default: train.log"),
    log_level: str = typer.Option("warning", help="uvicorn log level"),
) -> None:
    """Serve the spec's reward over HTTP for OpenRLHF (--reward.remote_url http://HOST:PORT/get_reward)."""
    openrlhf: Any = require("repo_sdk_openrlhf", "repo-sdk-openrlhf", "`repo-sdk serve`")
    server: Any = require("repo_sdk_openrlhf.server", "repo-sdk-openrlhf", "`repo-sdk serve`")
    loaded = load_spec(spec)
    if token is not None and not token.strip():
        raise ConfigError("--token is empty")
    ref = openrlhf.tokenizer.tokenizer_ref(loaded, tokenizer)
    portable: Any = require("repo_sdk_openrlhf.portable", "repo-sdk-openrlhf", "`repo-sdk serve`")
    service = openrlhf.RewardService.from_spec(
        loaded,
        splitter=openrlhf.load_splitter(ref),
        missing_reward=missing_reward,
        log=_log_option(log) or portable.spec_log(loaded),
    )
    settings = server.ServerSettings(
        token=token, max_body_bytes=int(max_body_mb * 1024 * 1024), max_batch=max_batch, max_wait_ms=max_wait_ms
    )
    if host not in LOOPBACK and token is None:
        typer.echo(f"warning: serving on {host} without a token; anyone who can reach it can use it", err=True)
    typer.echo(
        f"serving {service.name} (sources: {', '.join(service.source_names)}; tokenizer: {ref}) "
        f"on http://{host}:{port}/get_reward",
        err=True,
    )
    try:
        server.serve(service, host=host, port=port, settings=settings, log_level=log_level)
    finally:
        service.close()


def _log_option(value: str | None) -> str | None:
    if value is not None and value not in ("summary", "full"):
        raise ConfigError(f"--log: expected summary or full, got {value!r}")
    return value
