"""HTTP transports of the model-server clients (judge, remote RM): aiohttp when installed, else httpx.

Both keep one keep-alive pool per event loop and report failures the same way
(:class:`TransportFailure` with ``kind`` ``timeouts`` or ``connection_errors``).
aiohttp is preferred: on loopback at concurrency 32 it sustains several times
httpx's request rate (httpx's pool degrades as concurrency grows); httpx is a
core dependency, so the clients work without aiohttp.

Example:
    >>> make_transport("httpx", concurrency=4, headers={}, trust_env=False).name
    'httpx'
"""

from __future__ import annotations

import asyncio
import importlib.util
import zlib
from collections.abc import Mapping
from typing import Any, Literal, Protocol

__all__ = ["Transport", "TransportFailure", "TransportName", "make_transport"]

TransportName = Literal["auto", "aiohttp", "httpx"]


class TransportFailure(Exception):
    """A request got no HTTP answer; ``kind`` is ``timeouts`` or ``connection_errors``."""

    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.reason, self.kind = reason, kind


class Transport(Protocol):
    name: str
    enforces_timeout: bool  # True: the transport itself ends a call after timeout_s

    async def post(self, url: str, body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        """POST a JSON body; return status, headers and the body, or raise TransportFailure."""
        ...

    async def aclose(self) -> None: ...


class _Aiohttp:
    name = "aiohttp"
    enforces_timeout = True

    def __init__(self, concurrency: int, headers: Mapping[str, str], trust_env: bool, timeout_s: float) -> None:
        import aiohttp

        self._aiohttp = aiohttp
        connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
        self._session = aiohttp.ClientSession(
            connector=connector,
            # model servers answer small JSON: ask for it uncompressed and skip the decompressor
            headers={"Content-Type": "application/json", "Accept-Encoding": "identity", **headers},
            trust_env=trust_env,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            auto_decompress=False,
        )

    async def post(self, url: str, body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        try:
            async with self._session.post(url, data=body) as resp:
                raw = await resp.read()
                if resp.headers.get("Content-Encoding", "identity").lower() in ("gzip", "deflate"):
                    raw = zlib.decompress(raw, wbits=47)  # a server that compressed anyway (gzip or zlib)
                return resp.status, resp.headers, raw
        except (asyncio.TimeoutError, self._aiohttp.ServerTimeoutError):
            raise
        except zlib.error as exc:
            raise TransportFailure(f"undecodable compressed body: {exc}", "connection_errors") from None
        except self._aiohttp.ClientError as exc:
            raise TransportFailure(f"connection error: {type(exc).__name__}: {exc}", "connection_errors") from None

    async def aclose(self) -> None:
        await self._session.close()


class _Httpx:
    name = "httpx"
    enforces_timeout = False  # httpx's timeouts are per read/write, not per call

    def __init__(self, concurrency: int, headers: Mapping[str, str], trust_env: bool, timeout_s: float) -> None:
        import httpx

        self._httpx = httpx
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = httpx.AsyncClient(
            headers={"Content-Type": "application/json", **headers},
            limits=limits,
            timeout=httpx.Timeout(timeout_s),
            trust_env=trust_env,
        )

    async def post(self, url: str, body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        try:
            resp = await self._client.post(url, content=body)
        except self._httpx.TimeoutException:
            raise asyncio.TimeoutError() from None
        except self._httpx.TransportError as exc:
            raise TransportFailure(f"connection error: {type(exc).__name__}: {exc}", "connection_errors") from None
        return resp.status_code, resp.headers, resp.content

    async def aclose(self) -> None:
        await self._client.aclose()


def available(name: str) -> bool:
    """Whether a transport's library is importable."""
    return importlib.util.find_spec(name) is not None


def make_transport(
    name: TransportName, *, concurrency: int, headers: Mapping[str, str], trust_env: bool, timeout_s: float = 60.0
) -> Any:
    """A transport by name; ``auto`` picks aiohttp when importable, else httpx."""
    if name == "auto":
        name = "aiohttp" if available("aiohttp") else "httpx"
    if name == "aiohttp":
        return _Aiohttp(concurrency, headers, trust_env, timeout_s)
    return _Httpx(concurrency, headers, trust_env, timeout_s)
