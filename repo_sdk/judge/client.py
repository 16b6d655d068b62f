"""The judge's server and the client that calls it: an endpoint from the spec, or the embedded one.

:class:`ChatClient` is a :class:`~repo_sdk.remote.client.JsonClient` for OpenAI-compatible
``/v1/chat/completions`` endpoints that reads chat completions: bounded
concurrency per event loop, an optional limit shared with other processes, a
per-call deadline, and retries with full-jitter exponential backoff on timeouts,
connection errors, unreadable bodies, 429 and 5xx (``Retry-After`` honoured).
Other 4xx answers fail at once: retrying a bad request does not fix it.

Example:
    >>> import asyncio
    >>> from repo_sdk.judge.fakes import FakeJudgeServer
    >>> with FakeJudgeServer(responder=lambda body: '{"score": 4}') as server:
    ...     client = ChatClient(server.base_url, concurrency=2)
    ...     asyncio.run(client.complete({"messages": [{"role": "user", "content": "hi"}]})).text
    '{"score": 4}'

:func:`make_client` picks the server from a judge config (starting the embedded one
when there is no ``base_url``):

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

import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from repo_sdk.errors import ConfigError
from repo_sdk.judge.config import JudgeConfig
from repo_sdk.judge.embedded import check_available, embedded_model_name, get_embedded_server
from repo_sdk.judge.telemetry import Telemetry
from repo_sdk.remote import limits
from repo_sdk.remote.client import CallError, JsonClient, RetryPolicy, Unreadable, snippet
from repo_sdk.remote.limits import SharedLimit
from repo_sdk.remote.transport import TransportName

__all__ = [
    "CallResult",
    "ChatClient",
    "JudgeCallError",
    "RetryPolicy",
    "api_key",
    "call_concurrency",
    "check_backend",
    "make_client",
    "model_name",
    "normalise_base_url",
]

#: A judge request failed for good; ``reason`` says why, ``kind`` classifies it.
JudgeCallError = CallError


@dataclass
class CallResult:
    """A judge's answer: its text, the round trip of the answered call, and what it took."""

    text: str
    latency_s: float
    calls: int
    retries: int
    finish_reason: str | None = None
    #: ``[[token, logprob], ...]`` of the first generated token, when the request asked for ``top_logprobs``
    top_logprobs: list[list[Any]] | None = None


def normalise_base_url(url: str) -> str:
    """``http://host:8000`` -> ``http://host:8000/v1``; a URL with a path is kept as given."""
    url = url.rstrip("/")
    return url + "/v1" if urlsplit(url).path in ("", "/") else url


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


def call_concurrency(cfg: JudgeConfig) -> int:
    """Most calls in flight at once on one event loop (known before any server starts).

    Example:
        >>> call_concurrency(JudgeConfig(concurrency=64, embedded={"n_parallel": 4}))
        8
    """
    if cfg.base_url:
        return cfg.concurrency
    # more calls than the embedded server's slots only queue inside it, where they eat their timeout
    return min(cfg.concurrency, 2 * cfg.embedded.n_parallel)


def make_client(cfg: JudgeConfig, *, api_key: str | None, telemetry: Telemetry) -> ChatClient:
    """The chat client for a judge config; starts the embedded server when there is no ``base_url``."""
    if cfg.base_url:
        base_url = cfg.base_url
    else:
        emb = cfg.embedded
        server = get_embedded_server(emb.model_path, n_parallel=emb.n_parallel, n_ctx=emb.n_ctx, threads=emb.threads)
        base_url = server.base_url
    retry = RetryPolicy(cfg.max_retries, cfg.backoff_base_s, cfg.backoff_max_s, cfg.max_retry_after_s)
    client = ChatClient(
        base_url, api_key=api_key, timeout_s=cfg.timeout_s, concurrency=call_concurrency(cfg), retry=retry,
        telemetry=telemetry, transport=cfg.transport,
    )  # fmt: skip
    if cfg.base_url:  # a slot is held for one call at most: its deadline, and the wait for its start time
        client.limit = limits.shared_limit(
            client.url, cfg.model, max_concurrency=cfg.max_concurrency_global,
            requests_per_second=cfg.requests_per_second, backend=cfg.global_limit, lease_s=cfg.timeout_s + 30,
        )  # fmt: skip
    return client


class ChatClient(JsonClient):
    """Sends chat-completion payloads to one OpenAI-compatible endpoint.

    Args:
        base_url: the API base, e.g. ``http://127.0.0.1:8000/v1`` (``/v1`` is added to a bare host).
        api_key: sent as ``Authorization: Bearer``; None sends none.
        timeout_s: deadline of one HTTP call (connect to last byte).
        concurrency: most calls in flight at once on one event loop.
        retry: the retry policy.
        telemetry: counters to update (calls, retries, timeouts, ...).
        transport: ``auto`` (aiohttp when installed, else httpx), ``aiohttp`` or ``httpx``.
        limit: a limit shared with other processes and Ray actors (None: ``concurrency`` alone).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        concurrency: int = 16,
        retry: RetryPolicy | None = None,
        telemetry: Telemetry | None = None,
        transport: TransportName = "auto",
        limit: SharedLimit | None = None,
    ) -> None:
        super().__init__(
            normalise_base_url(base_url) + "/chat/completions", api_key=api_key, timeout_s=timeout_s,
            concurrency=concurrency, retry=retry, telemetry=telemetry or Telemetry(), transport=transport,
            limit=limit,
        )  # fmt: skip
        self.telemetry: Telemetry

    async def complete(self, payload: dict[str, Any] | bytes) -> CallResult:
        """POST one payload (a dict, or its JSON already encoded); retry what is worth retrying.

        Raises:
            JudgeCallError: retries exhausted, or an answer that retrying cannot fix (4xx).
        """
        answer = await self.call(payload, _read_choice)
        text, finish, top = answer.value
        return CallResult(text, answer.latency_s, answer.calls, answer.retries, finish, top)


def _read_choice(raw: bytes) -> tuple[str, str | None, list[list[Any]] | None]:
    try:
        choice = json.loads(raw)["choices"][0]
        content = choice["message"].get("content") or ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise Unreadable(snippet(raw)) from None
    return content, choice.get("finish_reason"), _first_top_logprobs(choice)


def _first_top_logprobs(choice: dict[str, Any]) -> list[list[Any]] | None:
    """``[[token, logprob], ...]`` of the first generated token (OpenAI / vLLM / llama.cpp layout), or None."""
    try:
        first = choice["logprobs"]["content"][0]
        return [[str(t["token"]), float(t["logprob"])] for t in first["top_logprobs"]]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
