"""The reward server's FastAPI app: OpenRLHF's ``POST /get_reward`` and ``GET /health``.

Request (what ``openrlhf.utils.agent.SingleTurnAgentExecutor`` posts)::

    {"query": ["<prompt + response>"], "prompts": ["<prompt>"], "labels": ["<task JSON>"]}

Answer: ``{"rewards": [...], "scores": [...], "extra_logs": {...}}`` (see
:mod:`repo_sdk_openrlhf.service`). Concurrent requests are micro-batched into one
pipeline call. An item that cannot be read (its label, its query) gets
``missing_reward``, flagged in ``<name>/missing``, with the reason in the server's
log; the request's other items are scored. Errors of the request as a whole are
``{"error": "<one line>"}`` with a 4xx status: 400 bad JSON, 401 missing or wrong
token, 413 body too large, 422 wrong fields or lists of different lengths; 500 if
scoring itself fails.

With a token set, requests need ``Authorization: Bearer <token>``; HTTP Basic
auth with the token as password also works, which is what OpenRLHF's client
sends for a URL like ``http://repo:<token>@host:port/get_reward``.

Example:
    >>> from repo_sdk_openrlhf.chat import PlainSplitter
    >>> from repo_sdk_openrlhf.service import RewardService
    >>> svc = RewardService.from_spec({"sources": {"rules": ["cot_leak"]}}, splitter=PlainSplitter())
    >>> app = create_app(svc, ServerSettings(token="s3cret"))
    >>> sorted(r.path for r in app.routes if r.path in ("/get_reward", "/health"))
    ['/get_reward', '/health']
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from repo_sdk.config import format_loc
from repo_sdk.types import RewardResult, Sample
from repo_sdk_openrlhf.server.batcher import MicroBatcher
from repo_sdk_openrlhf.service import RequestError, RewardService

__all__ = ["RewardRequest", "ServerSettings", "create_app"]


@dataclass
class ServerSettings:
    """Server knobs.

    Attributes:
        token: required bearer token (None: no auth).
        max_body_bytes: largest accepted request body.
        max_batch: most samples per pipeline call.
        max_wait_ms: how long a batch waits for more requests.
    """

    token: str | None = None
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch: int = 256
    max_wait_ms: float = 0.0


class RewardRequest(BaseModel):
    """OpenRLHF's request body (other keys are ignored)."""

    model_config = ConfigDict(extra="ignore")

    query: list[str]
    prompts: list[str | None] | None = None
    labels: list[Any] | None = None


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _authorized(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return hmac.compare_digest(value.strip().encode(), token.encode())
    if scheme.lower() == "basic":
        try:
            _, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(password.encode(), token.encode())
    return False


async def _read_body(request: Request, limit: int) -> bytes | JSONResponse:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return _error(413, f"request body of {declared} bytes exceeds the limit of {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return _error(413, f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(service: RewardService, settings: ServerSettings | None = None) -> FastAPI:
    """The FastAPI app serving ``service`` (see the module docs)."""
    cfg = settings or ServerSettings()

    async def score(samples: list[Sample]) -> list[RewardResult]:
        return await service.pipeline.ascore(samples)

    batcher: MicroBatcher[Sample, RewardResult] = MicroBatcher(
        score, max_batch=cfg.max_batch, max_wait_ms=cfg.max_wait_ms
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await batcher.close()

    app = FastAPI(title="repo-sdk reward server", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.service = service
    app.state.batcher = batcher

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "reward": service.name, "sources": service.source_names, **batcher.stats}

    @app.post("/get_reward")
    async def get_reward(request: Request) -> JSONResponse:
        if cfg.token is not None and not _authorized(request, cfg.token):
            return _error(401, "missing or wrong token", {"WWW-Authenticate": 'Bearer realm="repo-sdk"'})
        body = await _read_body(request, cfg.max_body_bytes)
        if isinstance(body, JSONResponse):
            return body
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _error(400, f"body is not valid JSON: {exc}")
        try:
            req = RewardRequest.model_validate(data)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
            return _error(422, f"{format_loc(err['loc'])}: {err['msg']}{more}")
        try:
            items = service.read(req.query, req.prompts, req.labels)  # type: ignore[arg-type]
        except RequestError as exc:
            return _error(422, str(exc))
        samples = [s for s in items if isinstance(s, Sample)]
        try:
            results = await batcher.submit(samples) if samples else []
        except Exception as exc:
            return _error(500, f"scoring failed: {type(exc).__name__}: {exc}")
        return JSONResponse(service.payload(service.results(items, results)))

    return app
