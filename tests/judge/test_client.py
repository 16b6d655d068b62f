"""The chat client against a real loopback HTTP server: retries, backoff, Retry-After, timeouts."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from repo_sdk.judge.client import ChatClient, JudgeCallError, RetryPolicy, normalise_base_url
from repo_sdk.judge.fakes import FakeJudgeServer, FaultPlan

BODY = {"model": "fake", "messages": [{"role": "user", "content": "judge this"}]}
FAST = RetryPolicy(max_retries=3, backoff_base_s=0.01, backoff_max_s=0.05)
TRANSPORTS = ["aiohttp", "httpx"]


def call(client: ChatClient, body: dict = BODY):
    async def go():
        async with client.session():
            return await client.complete(body)

    return asyncio.run(go())


def script(*faults: str | None):
    """A fault script: the n-th time a body is seen it gets faults[n] (then answers normally)."""
    return lambda body, seen: faults[seen] if seen < len(faults) else None


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("faults", "counter"),
    [
        (("error_500", "error_500"), "server_errors"),
        (("rate_limit",), "rate_limited"),
        (("bad_body",), "server_errors"),
        (("disconnect",), "connection_errors"),
        (("timeout",), "timeouts"),
    ],
)
def test_transient_failures_are_retried_and_counted(transport, faults, counter):
    with FakeJudgeServer(responder=lambda b: '{"score": 4}', script=script(*faults)) as server:
        client = ChatClient(server.base_url, timeout_s=0.5, retry=FAST, transport=transport)
        result = call(client)
    assert result.text == '{"score": 4}'
    assert (result.retries, result.calls) == (len(faults), len(faults) + 1)
    tel = client.telemetry
    assert getattr(tel, counter) == len(faults)
    assert tel.retries == len(faults) and tel.calls == len(faults) + 1


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_gives_up_after_max_retries_with_the_reason(transport):
    with FakeJudgeServer(script=lambda body, seen: "error_500") as server:
        client = ChatClient(server.base_url, retry=FAST, transport=transport)
        with pytest.raises(JudgeCallError, match=r"HTTP 500.*gave up after 4 call\(s\)") as info:
            call(client)
        assert server.stats["requests"] == 4
    assert (info.value.kind, info.value.calls, info.value.retries) == ("server_errors", 4, 3)


def test_client_errors_are_not_retried():
    with FakeJudgeServer(script=lambda body, seen: "error_400") as server:
        client = ChatClient(server.base_url, retry=FAST)
        with pytest.raises(JudgeCallError, match=r"HTTP 400.*injected bad request"):
            call(client)
        assert server.stats["requests"] == 1


def test_retry_after_is_honoured():
    with FakeJudgeServer(script=script("rate_limit"), faults=FaultPlan(retry_after_s=0.4)) as server:
        client = ChatClient(server.base_url, retry=RetryPolicy(max_retries=2, backoff_base_s=0.001))
        start = time.perf_counter()
        call(client)
        assert time.perf_counter() - start >= 0.4


def test_connection_refused_is_a_connection_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    client = ChatClient(f"http://127.0.0.1:{port}/v1", retry=RetryPolicy(max_retries=1, backoff_base_s=0.01))
    with pytest.raises(JudgeCallError, match="connection error"):
        call(client)
    assert client.telemetry.connection_errors == 2


def test_concurrency_is_bounded():
    in_flight, peak = 0, 0

    def responder(body):
        return '{"score": 3}'

    with FakeJudgeServer(responder=responder, latency_s=0.05) as server:
        client = ChatClient(server.base_url, concurrency=3)
        original = client._post

        async def counting_post(*args):
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                return await original(*args)
            finally:
                in_flight -= 1

        client._post = counting_post  # type: ignore[method-assign]

        async def many():
            async with client.session():
                await asyncio.gather(*(client.complete(BODY) for _ in range(12)))

        asyncio.run(many())
    assert peak == 3


def test_api_key_is_sent_as_bearer():
    with FakeJudgeServer() as server:
        call(ChatClient(server.base_url, api_key="sk-test"))
        assert server.headers[-1]["authorization"] == "Bearer sk-test"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h:8000", "http://h:8000/v1"),
        ("http://h:8000/", "http://h:8000/v1"),
        ("http://h:8000/v1/", "http://h:8000/v1"),
        ("https://api.example.com/openai/v1", "https://api.example.com/openai/v1"),
    ],
)
def test_base_url_normalisation(url, expected):
    assert normalise_base_url(url) == expected


def test_backoff_is_jittered_exponential_and_capped():
    policy = RetryPolicy(backoff_base_s=0.5, backoff_max_s=4.0, max_retry_after_s=10)
    for retry in range(8):
        delays = [policy.delay(retry) for _ in range(200)]
        assert 0 <= min(delays) and max(delays) <= min(4.0, 0.5 * 2**retry)
        assert len(set(delays)) > 100  # jittered, not a fixed schedule
    assert 3.0 <= policy.delay(0, retry_after=3.0) <= 3.06
    assert policy.delay(0, retry_after=500) <= 10.06  # a huge Retry-After is capped
