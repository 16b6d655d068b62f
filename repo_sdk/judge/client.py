"""Async client for OpenAI-compatible ``/v1/chat/completions`` endpoints.

Bounded concurrency (one semaphore per event loop, shared by every batch scored
on that loop), a per-call deadline, and retries with full-jitter exponential
backoff on timeouts, connection errors, unreadable bodies, 429 and 5xx; a
``Retry-After`` header (seconds or HTTP date) replaces the backoff for that retry.
Other 4xx answers fail at once: retrying a bad request does not fix it.

Example:
    >>> from repo_sdk.judge.fakes import FakeJudgeServer
    >>> with FakeJudgeServer(responder=lambda body: '{"score": 4}') as server:
    ...     client = ChatClient(server.base_url, concurrency=2)
    ...     asyncio.run(client.complete({"messages": [{"role": "user", "content": "hi"}]})).text
    '{"score": 4}'
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from repo_sdk.judge.telemetry import Telemetry
from repo_sdk.judge.transport import Transport, TransportFailure, TransportName, make_transport

__all__ = ["CallResult", "ChatClient", "JudgeCallError", "RetryPolicy", "normalise_base_url"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class JudgeCallError(Exception):
    """A judge request failed for good; ``reason`` says why, ``kind`` classifies it."""

    def __init__(self, reason: str, kind: str, calls: int, retries: int) -> None:
        super().__init__(reason)
        self.reason, self.kind, self.calls, self.retries = reason, kind, calls, retries


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry. Delays are in seconds."""

    max_retries: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 20.0
    max_retry_after_s: float = 60.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Sleep before retry number ``retry`` (0-based): Retry-After if given, else full jitter."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after_s) + random.uniform(0, self.backoff_base_s / 10)
        return random.uniform(0, min(self.backoff_max_s, self.backoff_base_s * 2**retry))


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


@dataclass
class _LoopState:
    semaphore: asyncio.Semaphore
    transport: Transport | None = None
    users: int = 0


class _Fatal(Exception):
    pass


class _Retryable(Exception):
    def __init__(self, reason: str, kind: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.kind, self.retry_after = reason, kind, retry_after


def normalise_base_url(url: str) -> str:
    """``http://host:8000`` -> ``http://host:8000/v1``; a URL with a path is kept as given."""
    url = url.rstrip("/")
    return url + "/v1" if urlsplit(url).path in ("", "/") else url


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class ChatClient:
    """Sends chat-completion payloads to one OpenAI-compatible endpoint.

    Args:
        base_url: the API base, e.g. ``http://127.0.0.1:8000/v1`` (``/v1`` is added to a bare host).
        api_key: sent as ``Authorization: Bearer``; None sends none.
        timeout_s: deadline of one HTTP call (connect to last byte).
        concurrency: most calls in flight at once on one event loop.
        retry: the retry policy.
        telemetry: counters to update (calls, retries, timeouts, ...).
        transport: ``auto`` (aiohttp when installed, else httpx), ``aiohttp`` or ``httpx``.
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
    ) -> None:
        self.url = normalise_base_url(base_url) + "/chat/completions"
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout_s = timeout_s
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self.telemetry = telemetry or Telemetry()
        self.transport = transport
        self._trust_env = urlsplit(self.url).hostname not in _LOOPBACK
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState(asyncio.Semaphore(self.concurrency))
        return state

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        """Keep one connection pool open for the calls made inside; closed when the last user leaves."""
        state = self._state()
        state.users += 1
        try:
            yield
        finally:
            state.users -= 1
            if state.users == 0 and state.transport is not None:
                transport, state.transport = state.transport, None
                await transport.aclose()

    def _transport(self, state: _LoopState) -> Transport:
        if state.transport is None:
            state.transport = make_transport(
                self.transport,
                concurrency=self.concurrency,
                headers=self.headers,
                trust_env=self._trust_env,
                timeout_s=self.timeout_s,
            )
        return state.transport

    async def complete(self, payload: dict[str, Any] | bytes) -> CallResult:
        """POST one payload (a dict, or its JSON already encoded); retry what is worth retrying.

        Raises:
            JudgeCallError: retries exhausted, or an answer that retrying cannot fix (4xx).
        """
        state = self._state()
        tel = self.telemetry
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        calls = 0
        for attempt in range(self.retry.max_retries + 1):
            try:
                async with state.semaphore:
                    calls += 1
                    tel.calls += 1
                    start = time.perf_counter()
                    text, finish, top = await self._post(self._transport(state), body)
                    latency = time.perf_counter() - start
                tel.record_latency(latency)
                return CallResult(text, latency, calls, attempt, finish, top)
            except _Fatal as exc:
                raise JudgeCallError(str(exc), "client_errors", calls, attempt) from None
            except _Retryable as exc:
                setattr(tel, exc.kind, getattr(tel, exc.kind) + 1)
                if attempt == self.retry.max_retries:
                    raise JudgeCallError(
                        f"{exc.reason} (gave up after {calls} call(s))", exc.kind, calls, attempt
                    ) from None
                tel.retries += 1
                await asyncio.sleep(self.retry.delay(attempt, exc.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _post(self, transport: Transport, body: bytes) -> tuple[str, str | None, list[list[Any]] | None]:
        try:
            if transport.enforces_timeout:
                status, headers, raw = await transport.post(self.url, body)
            else:
                async with _deadline(self.timeout_s):
                    status, headers, raw = await transport.post(self.url, body)
        except asyncio.TimeoutError:
            raise _Retryable(f"timed out after {self.timeout_s:g}s", "timeouts") from None
        except TransportFailure as exc:
            raise _Retryable(exc.reason, exc.kind) from None
        if status == 429:
            raise _Retryable("HTTP 429 rate limited", "rate_limited", _retry_after(headers.get("retry-after")))
        if status >= 500:
            raise _Retryable(
                f"HTTP {status}: {_snippet(raw)}", "server_errors", _retry_after(headers.get("retry-after"))
            )
        if status >= 400:
            raise _Fatal(f"HTTP {status}: {_snippet(raw, 200)}")
        try:
            choice = json.loads(raw)["choices"][0]
            content = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise _Retryable(f"unreadable response body: {_snippet(raw)}", "server_errors") from None
        return content, choice.get("finish_reason"), _first_top_logprobs(choice)


def _first_top_logprobs(choice: dict[str, Any]) -> list[list[Any]] | None:
    """``[[token, logprob], ...]`` of the first generated token (OpenAI / vLLM / llama.cpp layout), or None."""
    try:
        first = choice["logprobs"]["content"][0]
        return [[str(t["token"]), float(t["logprob"])] for t in first["top_logprobs"]]
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _snippet(raw: bytes, limit: int = 100) -> str:
    text = raw[:limit].decode("utf-8", "replace")
    return repr(text + ("..." if len(raw) > limit else ""))


if sys.version_info >= (3, 11):
    _deadline = asyncio.timeout
else:  # pragma: no cover - Python 3.10 falls back on httpx's own timeouts

    @asynccontextmanager
    async def _deadline(seconds: float) -> AsyncIterator[None]:
        yield
