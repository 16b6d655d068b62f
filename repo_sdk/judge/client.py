"""Async client for OpenAI-compatible ``/v1/chat/completions`` endpoints.

A :class:`~repo_sdk.remote.client.JsonClient` that reads chat completions: bounded
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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from repo_sdk.judge.telemetry import Telemetry
from repo_sdk.remote.client import CallError, JsonClient, RetryPolicy, Unreadable, snippet
from repo_sdk.remote.limits import SharedLimit
from repo_sdk.remote.transport import TransportName

__all__ = ["CallResult", "ChatClient", "JudgeCallError", "RetryPolicy", "normalise_base_url"]

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
