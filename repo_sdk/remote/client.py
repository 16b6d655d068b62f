"""A JSON-over-HTTP client for model servers, with bounded concurrency, retries and a shared limit.

The judge's chat client and the remote RM's client are this client with their own
URL and answer reader. Per event loop, at most ``concurrency`` calls are in flight
(one semaphore per loop, shared by every batch on it); a :class:`~repo_sdk.remote.limits.SharedLimit`
(``max_concurrency_global`` / ``requests_per_second``) is then taken for each HTTP
call, so a server sees the configured load whatever the number of processes. A call
has a deadline of ``timeout_s``; timeouts, connection errors, unreadable bodies, 429
and 5xx are retried with full-jitter exponential backoff (a ``Retry-After`` header,
seconds or HTTP date, replaces the backoff for that retry; the slots are released
while waiting). Other 4xx answers fail at once: retrying a bad request does not fix it.

Example:
    >>> from repo_sdk.judge.fakes import FakeJudgeServer
    >>> async def ask(client):
    ...     async with client.session():  # one connection pool for the calls inside
    ...         return await client.call(b'{"messages": []}', lambda raw: json.loads(raw)["object"])
    >>> with FakeJudgeServer(responder=lambda body: '{"score": 4}') as server:
    ...     answer = asyncio.run(ask(JsonClient(server.base_url + "/chat/completions", concurrency=2)))
    >>> answer.value, answer.calls
    ('chat.completion', 1)
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

from repo_sdk.remote.limits import SharedLimit
from repo_sdk.remote.transport import Transport, TransportFailure, TransportName, make_transport

__all__ = ["Answer", "CallCounters", "CallError", "Counters", "JsonClient", "RetryPolicy", "Unreadable"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_SURROGATE = re.compile("[\ud800-\udfff]")
T = TypeVar("T")


class CallError(Exception):
    """A request failed for good; ``reason`` says why, ``kind`` classifies it (a counter name)."""

    def __init__(self, reason: str, kind: str, calls: int, retries: int) -> None:
        super().__init__(reason)
        self.reason, self.kind, self.calls, self.retries = reason, kind, calls, retries


class Unreadable(Exception):
    """Raised by an answer reader: the body of a 2xx answer is not what the protocol says (retried)."""


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


class Counters(Protocol):
    """What the client counts (the judge's Telemetry and :class:`CallCounters` both have these)."""

    calls: int
    retries: int
    timeouts: int
    rate_limited: int
    server_errors: int
    connection_errors: int

    def record_latency(self, seconds: float) -> None: ...


@dataclass
class CallCounters:
    """Counters of one client: HTTP calls, retries, failures by kind, latency of answered calls."""

    calls: int = 0
    retries: int = 0
    timeouts: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    answered: int = 0
    latency_total_s: float = 0.0

    def record_latency(self, seconds: float) -> None:
        self.answered += 1
        self.latency_total_s += seconds


@dataclass
class Answer(Generic[T]):
    """What a reader made of the answer, the round trip of the answered call, and what it took."""

    value: T
    latency_s: float
    calls: int
    retries: int


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


class JsonClient:
    """POSTs JSON bodies to one URL and reads the answers (see the module docs).

    Args:
        url: the endpoint, e.g. ``http://127.0.0.1:8000/v1/chat/completions``.
        api_key: sent as ``Authorization: Bearer``; None sends none.
        timeout_s: deadline of one HTTP call (connect to last byte).
        concurrency: most calls in flight at once on one event loop.
        retry: the retry policy.
        telemetry: counters to update (default: a new :class:`CallCounters`).
        transport: ``auto`` (aiohttp when installed, else httpx), ``aiohttp`` or ``httpx``.
        limit: a limit shared with other processes (None: this process's ``concurrency`` only).
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        concurrency: int = 16,
        retry: RetryPolicy | None = None,
        telemetry: Counters | None = None,
        transport: TransportName = "auto",
        limit: SharedLimit | None = None,
    ) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout_s = timeout_s
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self.telemetry: Counters = telemetry if telemetry is not None else CallCounters()
        self.transport = transport
        self.limit = limit
        self._trust_env = urlsplit(url).hostname not in _LOOPBACK
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

    async def call(self, payload: dict[str, Any] | bytes, read: Callable[[bytes], T]) -> Answer[T]:
        """POST one payload (a dict, or its JSON already encoded); ``read`` turns a 2xx body into the value.

        ``read`` raises :class:`Unreadable` for a body that breaks the protocol (retried).

        Raises:
            CallError: retries exhausted, or an answer that retrying cannot fix (4xx).
        """
        state = self._state()
        tel = self.telemetry
        body = payload if isinstance(payload, bytes) else encode_json(payload)
        calls = 0
        for attempt in range(self.retry.max_retries + 1):
            try:
                async with state.semaphore:
                    transport = self._transport(state)  # made before the shared slot: its set-up holds none
                    async with self._shared_slot():
                        calls += 1
                        tel.calls += 1
                        start = time.perf_counter()
                        value = await self._post(transport, body, read)
                        latency = time.perf_counter() - start
                tel.record_latency(latency)
                return Answer(value, latency, calls, attempt)
            except _Fatal as exc:
                raise CallError(str(exc), "client_errors", calls, attempt) from None
            except _Retryable as exc:
                setattr(tel, exc.kind, getattr(tel, exc.kind) + 1)
                if attempt == self.retry.max_retries:
                    raise CallError(f"{exc.reason} (gave up after {calls} call(s))", exc.kind, calls, attempt) from None
                tel.retries += 1
                await asyncio.sleep(self.retry.delay(attempt, exc.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover

    @asynccontextmanager
    async def _shared_slot(self) -> AsyncIterator[None]:
        if self.limit is None:
            yield
            return
        try:
            slot = self.limit.slot()
            await slot.__aenter__()
        except Exception as exc:  # the limit's holder (a Ray actor) failed: retry like a lost connection
            first = next((line for line in str(exc).splitlines() if line.strip()), "")[:200]
            raise _Retryable(f"shared limit unavailable: {type(exc).__name__}: {first}", "connection_errors") from None
        try:
            yield
        finally:
            await slot.__aexit__(None, None, None)

    async def _post(self, transport: Transport, body: bytes, read: Callable[[bytes], T]) -> T:
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
                f"HTTP {status}: {snippet(raw)}", "server_errors", _retry_after(headers.get("retry-after"))
            )
        if status >= 400:
            raise _Fatal(f"HTTP {status}: {snippet(raw, 200)}")
        try:
            return read(raw)
        except Unreadable as exc:
            raise _Retryable(f"unreadable response body: {exc}", "server_errors") from None


def encode_json(payload: Any) -> bytes:
    """UTF-8 JSON; a lone surrogate (invalid text that JSON input can carry) is sent as U+FFFD."""
    text = json.dumps(payload, ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def snippet(raw: bytes, limit: int = 100) -> str:
    """The start of a body, quoted, for an error message."""
    text = raw[:limit].decode("utf-8", "replace")
    return repr(text + ("..." if len(raw) > limit else ""))


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


if sys.version_info >= (3, 11):
    _deadline = asyncio.timeout
else:  # pragma: no cover - Python 3.10 falls back on httpx's own timeouts

    @asynccontextmanager
    async def _deadline(seconds: float) -> AsyncIterator[None]:
        yield
