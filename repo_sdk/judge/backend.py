"""Which server the judge talks to: an endpoint from the spec, or the embedded one.

Example:
    >>> from repo_sdk.judge.config import JudgeConfig
    >>> cfg = JudgeConfig(base_url="http://gpu-box:8000/v1", model="qwen", concurrency=64)
    >>> client = make_client(cfg, api_key=None, telemetry=Telemetry())
    >>> client.url, client.concurrency, client.limit
    ('http://gpu-box:8000/v1/chat/completions', 64, None)
    >>> cfg = JudgeConfig(base_url="http://gpu-box:8000/v1", model="qwen", max_concurrency_global=8)
    >>> make_client(cfg, api_key=None, telemetry=Telemetry()).limit.max_concurrency
    8
"""

from __future__ import annotations

import os

from repo_sdk.errors import ConfigError
from repo_sdk.judge.client import ChatClient, RetryPolicy
from repo_sdk.judge.config import JudgeConfig
from repo_sdk.judge.embedded import check_available, embedded_model_name, get_embedded_server
from repo_sdk.judge.telemetry import Telemetry
from repo_sdk.remote import limits

__all__ = ["api_key", "check_backend", "make_client", "model_name"]


def model_name(cfg: JudgeConfig) -> str:
    """The model name sent and used in cache keys (``embedded:<gguf file>`` for the embedded judge)."""
    return cfg.model if cfg.base_url and cfg.model else embedded_model_name(cfg.embedded.model_path)


def api_key(env: str | None) -> str | None:
    """The API key from the environment variable ``env`` (None: no key).

    Raises:
        ConfigError: the variable is named but not set.
    """
    if env is None:
        return None
    value = os.environ.get(env)
    if not value:
        raise ConfigError(f"api_key_env: environment variable {env!r} is not set")
    return value


def check_backend(cfg: JudgeConfig) -> None:
    """At build time: what the first cache miss would otherwise fail on (missing embedded pieces)."""
    if cfg.base_url is None:
        check_available(cfg.embedded.model_path)
    elif cfg.max_concurrency_global is not None or cfg.requests_per_second is not None:
        limits.check_backend(cfg.global_limit)


def make_client(cfg: JudgeConfig, *, api_key: str | None, telemetry: Telemetry) -> ChatClient:
    """The chat client for a judge config; starts the embedded server when there is no ``base_url``."""
    concurrency = cfg.concurrency
    if cfg.base_url:
        base_url = cfg.base_url
    else:
        emb = cfg.embedded
        server = get_embedded_server(emb.model_path, n_parallel=emb.n_parallel, n_ctx=emb.n_ctx, threads=emb.threads)
        base_url = server.base_url
        # more calls than slots only queue inside the server, where they eat their timeout
        concurrency = min(concurrency, 2 * emb.n_parallel)
    retry = RetryPolicy(cfg.max_retries, cfg.backoff_base_s, cfg.backoff_max_s, cfg.max_retry_after_s)
    client = ChatClient(
        base_url, api_key=api_key, timeout_s=cfg.timeout_s, concurrency=concurrency, retry=retry,
        telemetry=telemetry, transport=cfg.transport,
    )  # fmt: skip
    if cfg.base_url:  # a slot is held for one call at most: its deadline, and the wait for its start time
        client.limit = limits.shared_limit(
            client.url, cfg.model, max_concurrency=cfg.max_concurrency_global,
            requests_per_second=cfg.requests_per_second, backend=cfg.global_limit, lease_s=cfg.timeout_s + 30,
        )  # fmt: skip
    return client
