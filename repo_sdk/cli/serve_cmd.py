"""`repo-sdk serve SPEC`: an HTTP reward server speaking OpenRLHF's protocol.

``POST /get_reward`` with ``{"query", "prompts", "labels"}`` answers
``{"rewards", "scores", "extra_logs"}``; ``GET /health`` reports status and
counters. Binds 127.0.0.1 unless ``--host`` says otherwise; another address needs a
token (or ``--insecure``). The server lives in the ``repo-sdk-openrlhf`` adapter
(FastAPI + uvicorn), imported only here.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import typer

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.config import load_spec
from repo_sdk.errors import ConfigError, require


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine (127.0.0.0/8, ::1, localhost).

    Example:
        >>> [is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "10.0.0.5")]
        [True, True, True, False, False]
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


@app.command()
@cli_errors
def serve(
    spec: Path = typer.Argument(..., help="reward spec (YAML)"),
    host: str = typer.Option("127.0.0.1", help="interface to bind; any but loopback needs a token (or --insecure)"),
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
    max_request_seconds: float = typer.Option(
        60.0, min=0.001, help="time budget of one request; over it, a 504 naming the item"
    ),
    max_concurrent: int = typer.Option(4, min=1, help="batches scored at once, each in a worker thread"),
    insecure: bool = typer.Option(False, "--insecure", help="allow a non-loopback --host without a token"),
    log_level: str = typer.Option("warning", help="uvicorn log level"),
) -> None:
    """Serve the spec's reward over HTTP for OpenRLHF (--reward.remote_url http://HOST:PORT/get_reward)."""
    openrlhf: Any = require("repo_sdk_openrlhf", "repo-sdk-openrlhf", "`repo-sdk serve`")
    server: Any = require("repo_sdk_openrlhf.server", "repo-sdk-openrlhf", "`repo-sdk serve`")
    loaded = load_spec(spec)
    if token is not None and not token.strip():
        raise ConfigError("--token is empty")
    if not is_loopback(host) and token is None:
        if not insecure:
            raise ConfigError(
                f"--host {host} exposes the server to the network without a token: set REPO_SDK_SERVE_TOKEN "
                "(or --token), or pass --insecure"
            )
        typer.echo(f"warning: serving on {host} without a token (--insecure); anyone who can reach it can use it",
                   err=True)  # fmt: skip
    ref = openrlhf.tokenizer.tokenizer_ref(loaded, tokenizer)
    portable: Any = require("repo_sdk_openrlhf.portable", "repo-sdk-openrlhf", "`repo-sdk serve`")
    log_choice = _log_option(log) or portable.spec_log(loaded)
    splitter = openrlhf.load_splitter(ref)
    sock = server.bind(host, port)  # before any model loads: a port in use fails at once
    try:
        service = openrlhf.RewardService.from_spec(
            loaded, splitter=splitter, missing_reward=missing_reward, log=log_choice
        )
    except BaseException:
        sock.close()
        raise
    settings = server.ServerSettings(
        token=token,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        max_batch=max_batch,
        max_wait_ms=max_wait_ms,
        max_request_s=max_request_seconds,
        max_concurrent=max_concurrent,
    )
    typer.echo(
        f"serving {service.name} (sources: {', '.join(service.source_names)}; tokenizer: {ref}) "
        f"on http://{host}:{sock.getsockname()[1]}/get_reward",
        err=True,
    )
    try:
        server.serve(service, settings=settings, log_level=log_level, sock=sock)
    finally:
        service.close()


def _log_option(value: str | None) -> str | None:
    if value is not None and value not in ("summary", "full"):
        raise ConfigError(f"--log: expected summary or full, got {value!r}")
    return value
