"""A fake OpenAI-compatible judge server on loopback, with fault injection.

For unit tests, the fault-injection tests and the throughput benchmark. It speaks
real HTTP/1.1 (keep-alive) on 127.0.0.1, answers ``POST .../chat/completions``
with a verdict from a ``responder`` (request body -> reply text), and can inject
faults (:class:`FaultPlan`): hangs past the client's timeout, 500s, 429s with
Retry-After, malformed and truncated verdicts, non-JSON bodies, dropped
connections, slow replies. Faults are drawn per request from a hash of the
request body and how often that body was seen, so a run is reproducible whatever
the order requests arrive in.

``FakeJudgeServer`` runs in a thread of the calling process; ``spawn_fake_server``
runs the same server in a child process (the benchmark uses it so the server does
not compete with the client for the GIL). Both stop by themselves on exit.

Example:
    >>> import httpx
    >>> with FakeJudgeServer(responder=lambda body: '{"score": 3}') as server:
    ...     r = httpx.post(server.base_url + "/chat/completions", json={"messages": []})
    >>> r.json()["choices"][0]["message"]["content"]
    '{"score": 3}'
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from repo_sdk.judge.fake_replies import FaultPlan, completion_body, default_responder, unit
from repo_sdk.remote.loopback import LoopbackServer
from repo_sdk.remote.loopback import write_response as _write

__all__ = ["FakeJudgeServer", "FaultPlan", "FaultScript", "Responder", "default_responder", "spawn_fake_server"]

Responder = Callable[[dict[str, Any]], "str | dict[str, float]"]
FaultScript = Callable[[dict[str, Any], int], "str | None"]


class FakeJudgeServer(LoopbackServer):
    """An OpenAI-compatible fake judge in a background thread (see the module docs).

    Args:
        responder: request body -> the assistant's reply text (default: :func:`default_responder`).
        latency_s: fixed delay before every answer.
        faults: what to inject, drawn at random per request; None injects nothing.
        script: ``(request body, how often this body was seen before) -> fault name or None``,
            for tests that need an exact sequence (e.g. two 500s, then an answer). Fault
            names: those of :class:`FaultPlan`, plus ``error_400``. With a script, ``faults``
            only supplies the timings (``hang_s``, ``slow_s``, ``retry_after_s``).

    Attributes:
        stats: counters (``requests`` and one per fault injected).
        bodies: the last 1,000 request bodies, parsed.
        headers: the headers of those requests (lower-case names).
        max_in_flight: most requests in flight at once, counted by the server
            (:class:`~repo_sdk.remote.loopback.LoopbackServer`).
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        latency_s: float = 0.0,
        faults: FaultPlan | None = None,
        script: FaultScript | None = None,
    ) -> None:
        super().__init__()
        self.responder = responder or default_responder
        self.latency_s = latency_s
        self.faults = faults
        self.script = script
        self.stats: Counter[str] = Counter()
        self.bodies: deque[dict[str, Any]] = deque(maxlen=1000)
        self.headers: deque[dict[str, str]] = deque(maxlen=1000)
        self._seen: Counter[bytes] = Counter()

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    async def answer(
        self, writer: asyncio.StreamWriter, method: str, path: str, raw: bytes, headers: dict[str, str]
    ) -> bool:
        """Write one response; False when the connection must close."""
        if method == "GET" and path.rstrip("/").endswith(("/health", "/models")):
            return await _write(writer, 200, b'{"status": "ok", "data": [{"id": "fake-judge"}]}')
        if method != "POST" or not path.rstrip("/").endswith("/chat/completions"):
            return await _write(writer, 404, b'{"error": "not found"}')
        self.stats["requests"] += 1
        digest = hashlib.blake2b(raw, digest_size=16).digest()
        attempt = self._seen[digest]
        self._seen[digest] += 1
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return await _write(writer, 400, b'{"error": "request body is not JSON"}')
        self.bodies.append(body)
        self.headers.append(headers)
        if self.script is not None:
            fault = self.script(body, attempt)
        else:
            fault = self.faults.draw(digest, attempt) if self.faults else None
        if fault:
            self.stats[fault] += 1
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        plan = self.faults or FaultPlan()
        if fault == "timeout":
            await asyncio.sleep(plan.hang_s)
            return False
        if fault == "error_400":
            return await _write(writer, 400, b'{"error": {"message": "injected bad request"}}')
        if fault == "error_500":
            return await _write(writer, 500, b'{"error": {"message": "injected server error"}}')
        if fault == "rate_limit":
            return await _write(writer, 429, b'{"error": "slow down"}', f"Retry-After: {plan.retry_after_s}")
        if fault == "bad_body":
            return await _write(writer, 200, b"<html>502 Bad Gateway</html>")
        if fault == "disconnect":
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"choi')
            await writer.drain()
            return False
        text = self.responder(body)
        if fault == "malformed":
            text = "I think this reply is quite good overall, but I cannot say more."
        elif fault == "truncated" and isinstance(text, str):
            text = text[: max(1, int(len(text) * unit(0, digest, attempt)))]
        elif fault == "slow":
            await asyncio.sleep(plan.slow_s)
        return await _write(writer, 200, completion_body(body, text))


@contextmanager
def spawn_fake_server(latency_s: float = 0.0, faults: FaultPlan | None = None, cpu: int | None = None) -> Iterator[str]:
    """Run a :class:`FakeJudgeServer` (default responder) in a child process; yields its base URL.

    ``cpu`` pins the child to that CPU (Linux), so a benchmark's client and server
    do not take turns on the same core.

    Example:
        >>> with spawn_fake_server(latency_s=0.01) as url:
        ...     url.startswith("http://127.0.0.1:")
        True
    """
    args = [sys.executable, "-m", "repo_sdk.judge.fakes", "--latency", str(latency_s)]
    if faults is not None:
        args += ["--faults", faults.model_dump_json()]
    if cpu is not None:
        args += ["--cpu", str(cpu)]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"fake judge server failed to start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}/v1"
    finally:
        with suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="fake OpenAI-compatible judge on 127.0.0.1 (stops when stdin closes)")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--faults", default=None, help="FaultPlan as JSON")
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this CPU")
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})  # before the server thread starts: it inherits the mask
    faults = FaultPlan.model_validate_json(args.faults) if args.faults else None
    with FakeJudgeServer(latency_s=args.latency, faults=faults) as server:
        print(f"PORT {server.port}", flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or dies)


if __name__ == "__main__":
    _main(sys.argv[1:])
