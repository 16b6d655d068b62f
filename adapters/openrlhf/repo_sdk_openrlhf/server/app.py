"""The reward server's FastAPI app: OpenRLHF's ``POST /get_reward`` and ``GET /health``.

Request (what ``openrlhf.utils.agent.SingleTurnAgentExecutor`` posts)::

    {"query": ["<prompt + response>"], "prompts": ["<prompt>"], "labels": ["<task JSON>"]}

Answer: ``{"rewards": [...], "scores": [...], "extra_logs": {...}}`` (see
:mod:`repo_sdk_openrlhf.service`). Concurrent requests are micro-batched into one
pipeline call. An item that fails, because it cannot be read (its label, its query)
or because a source raised on it, gives that item None (``missing_reward``;
``extra_logs`` flags it and the answer's ``errors`` says why, as does the server's
log) and the other items of the request and the batch are scored as usual.

Scoring runs on worker event loops in threads of their own (:class:`LoopThread`),
never on the server's loop, and several batches run at once (``max_concurrent``);
replies of ``large_item_chars`` or more go to a lane (and a worker loop) of their
own, so one huge reply cannot hold up the small ones. A request not answered
within ``max_request_s`` gets a 504 naming its largest item.

Errors of a request as a whole are ``{"error": "<one line>"}``: 400 bad JSON, 401
missing or wrong token, 413 body too large, 422 wrong fields or lists of different
lengths, 504 over the time budget; 500 if scoring itself fails.

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

import asyncio
import base64
import binascii
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from repo_sdk.errors import InputError, format_loc
from repo_sdk.io.surrogates import may_hold_surrogates, refuse_lone_surrogates
from repo_sdk.types import RewardResult, Sample
from repo_sdk_openrlhf.server.batcher import MicroBatcher
from repo_sdk_openrlhf.server.worker import LoopThread
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
        max_request_s: time budget of one request; over it, a 504 naming the item.
        max_concurrent: batches scored at once (each in a worker thread).
        large_item_chars: replies at least this long are scored in a lane of their own.
    """

    token: str | None = None
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch: int = 256
    max_wait_ms: float = 0.0
    max_request_s: float = 60.0
    max_concurrent: int = 4
    large_item_chars: int = 32 * 1024


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


async def _items(service: RewardService, req: RewardRequest, offload: bool) -> list[Sample | RequestError]:
    """Split the queries by the chat template: off the loop for a large body, inline (no thread hop) for a small one."""
    args = (req.query, req.prompts, req.labels)
    return await asyncio.to_thread(service.read, *args) if offload else service.read(*args)  # type: ignore[arg-type]


def _text_or_error(i: int, item: Sample | RequestError, req: RewardRequest) -> Sample | RequestError:
    """``item``, or the error naming the field of request item ``i`` that holds half of a surrogate pair."""
    if isinstance(item, RequestError):
        return item
    fields = {"query": req.query, "prompts": req.prompts, "labels": req.labels}
    try:
        for name, values in fields.items():
            if values is not None:
                refuse_lone_surrogates(values[i], f"item {i}", f"{name}[{i}]")
    except InputError as exc:
        return RequestError(str(exc))
    return item


def create_app(service: RewardService, settings: ServerSettings | None = None) -> FastAPI:
    """The FastAPI app serving ``service`` (see the module docs)."""
    cfg = settings or ServerSettings()

    workers = {lane: LoopThread(f"repo-sdk-score-{lane}") for lane in ("small", "large")}

    def scorer(lane: str) -> Callable[[list[Sample]], Awaitable[list[RewardResult]]]:
        async def score(samples: list[Sample]) -> list[RewardResult]:
            # on the lane's worker loop: a slow rule never blocks this (the server's) loop
            return await workers[lane].run(service.pipeline.ascore(samples))

        return score

    batcher: MicroBatcher[Sample, RewardResult] = MicroBatcher(
        scorer("small"), max_batch=cfg.max_batch, max_wait_ms=cfg.max_wait_ms, max_concurrent=cfg.max_concurrent
    )
    large: MicroBatcher[Sample, RewardResult] = MicroBatcher(scorer("large"), max_batch=cfg.max_batch)
    timeouts = {"timeouts": 0}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await batcher.close()
        await large.close()
        for worker in workers.values():
            worker.close()

    app = FastAPI(title="repo-sdk reward server", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.service = service
    app.state.batcher = batcher

    async def score_request(samples: list[Sample]) -> list[RewardResult]:
        """Each item in its lane (large replies apart), the answers put back in request order."""
        is_large = [len(s.response) >= cfg.large_item_chars for s in samples]
        small_out, large_out = await asyncio.gather(
            batcher.submit([s for s, big in zip(samples, is_large, strict=True) if not big]),
            large.submit([s for s, big in zip(samples, is_large, strict=True) if big]),
        )
        lanes = {False: iter(small_out), True: iter(large_out)}
        return [next(lanes[big]) for big in is_large]

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "reward": service.name, "sources": service.source_names, **batcher.stats, **timeouts}

    @app.post("/get_reward")
    async def get_reward(request: Request) -> JSONResponse:
        if cfg.token is not None and not _authorized(request, cfg.token):
            return _error(401, "missing or wrong token", {"WWW-Authenticate": 'Bearer realm="repo-sdk"'})
        body = await _read_body(request, cfg.max_body_bytes)
        if isinstance(body, JSONResponse):
            return body
        large = len(body) > cfg.large_item_chars  # parsed and split off the loop; a small body is quicker inline
        try:
            data = await asyncio.to_thread(json.loads, body) if large else json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _error(400, f"body is not valid JSON: {exc}")
        except RecursionError:
            return _error(400, "body is not valid JSON: nested too deeply")
        try:
            req = RewardRequest.model_validate(data)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
            return _error(422, f"{format_loc(err['loc'])}: {err['msg']}{more}")
        try:
            items = await _items(service, req, offload=large)
        except RequestError as exc:
            return _error(422, str(exc))
        if may_hold_surrogates(body):  # half of a surrogate pair is no text: that item fails, saying so
            items = [_text_or_error(i, item, req) for i, item in enumerate(items)]
        samples = [s for s in items if isinstance(s, Sample)]
        try:
            results = await asyncio.wait_for(score_request(samples), timeout=cfg.max_request_s)
        except asyncio.TimeoutError:
            timeouts["timeouts"] += 1
            i = max((k for k, s in enumerate(items) if isinstance(s, Sample)), key=lambda k: len(items[k].response))  # type: ignore[union-attr]
            slow = items[i]
            assert isinstance(slow, Sample)
            return _error(
                504,
                f"item {i} ({slow.id}, a reply of {len(slow.response)} characters) was not scored "
                f"within {cfg.max_request_s:g} s (--max-request-seconds)",
            )
        except Exception as exc:
            return _error(500, f"scoring failed: {type(exc).__name__}: {exc}")
        return JSONResponse(service.payload(service.results(items, results)))

    return app
