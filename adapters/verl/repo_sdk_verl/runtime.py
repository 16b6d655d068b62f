"""One scoring runtime per reward-worker process: the pipeline, built once, and a micro-batcher.

verl's reward loop calls ``compute_score`` once per sample, many at a time, from
each Ray reward worker's event loop (or from threads, for a sync function). The
runtime gathers the calls that arrive together into one
:meth:`repo_sdk.RewardPipeline.ascore` call, so the judge sees concurrent requests
and the RM scores padded batches, and answers each call with its own dict.

The pipeline lives on a background event loop of its own, so async sources keep
their connections whatever loop or thread verl calls from. A batch that raises is
scored again sample by sample, so one bad sample cannot take its neighbours' rewards
down; a sample that still fails gets the fallback (see :mod:`repo_sdk_verl.extras`).

Example:
    >>> from repo_sdk.types import Sample
    >>> rt = RewardRuntime(RewardOptions(spec={"name": "r", "sources": {"guard": ["cot_leak"]}}))
    >>> rt.score_sync(Sample(id="a", response="<think>x</think>hi"))["score"]
    -0.1
    >>> rt.close()
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from repo_sdk.config import load, load_spec
from repo_sdk.errors import ConfigError
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.types import RewardResult, Sample
from repo_sdk_verl.extras import ExtraKeys

__all__ = ["SPEC_ENV", "RewardOptions", "RewardRuntime", "runtime_for"]

SPEC_ENV = "REPO_SDK_VERL_SPEC"
# keyword arguments verl's reward managers add on their own (with a reward model enabled)
VERL_KWARGS = frozenset({"reward_router_address", "reward_model_tokenizer"})
log = logging.getLogger("repo_sdk_verl")


class RewardOptions(BaseModel):
    """``reward.custom_reward_function.reward_kwargs`` of a verl config (all optional but the spec).

    Args:
        spec: path of the reward spec YAML (or the spec as a mapping); default: ``$REPO_SDK_VERL_SPEC``.
        missing_reward: the score sent when a sample has no reward or cannot be scored.
        on_error: ``fallback`` (default): a sample that cannot be scored gets ``missing_reward``,
            flagged in ``<name>/error``; ``raise``: the error reaches verl and stops the step.
        max_batch: most samples per pipeline call.
        max_wait_ms: how long a batch waits for more calls before it is scored.
        only: run just these sources (the others count as missing), like ``repo-sdk score --only``.
        cache_dir: where sources keep on-disk caches.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec: str | dict[str, Any] | None = None
    missing_reward: float = 0.0
    on_error: Literal["fallback", "raise"] = "fallback"
    max_batch: int = Field(256, ge=1)
    max_wait_ms: float = Field(5.0, ge=0)
    only: tuple[str, ...] | None = None
    cache_dir: str | None = None

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> RewardOptions:
        """Read verl's ``reward_kwargs``; ConfigError names the bad key and value."""
        data = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in kwargs.items() if k not in VERL_KWARGS}
        if data.get("spec") is None and os.environ.get(SPEC_ENV):
            data["spec"] = os.environ[SPEC_ENV]
        try:
            options = cls.model_validate(_plain(data))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ConfigError(
                f"reward_kwargs.{where}: {err['msg']} (got {err.get('input')!r})".replace("Extra inputs", "unknown key")
            ) from None
        if options.spec is None:
            raise ConfigError(
                "repo_sdk_verl.reward: no reward spec: set +reward.custom_reward_function.reward_kwargs.spec="
                f"/path/spec.yaml (or ${SPEC_ENV})"
            )
        return options

    def cache_key(self) -> str:
        return self.model_dump_json()


def _plain(value: Any) -> Any:
    """OmegaConf containers (what verl passes) as plain dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ListConfig":
        return [_plain(v) for v in value]
    return value


class RewardRuntime:
    """The pipeline of one spec, a background loop, and the micro-batcher (see the module docs)."""

    def __init__(self, options: RewardOptions) -> None:
        self.options = options
        spec = options.spec
        loaded = load_spec(Path(spec)) if isinstance(spec, str) else load(spec)
        cache = Path(options.cache_dir) if options.cache_dir else None
        self.pipeline = RewardPipeline.from_spec(loaded, only=options.only, cache_dir=cache)
        self.keys = ExtraKeys.of(self.pipeline)
        self.stats = {"calls": 0, "batches": 0, "errors": 0, "max_batch_seen": 0}
        self._queue: list[tuple[Sample, asyncio.Future[RewardResult]]] = []
        self._draining = False
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="repo-sdk-verl", daemon=True)
        self._thread.start()

    async def _submit(self, sample: Sample) -> RewardResult:
        self.stats["calls"] += 1
        future: asyncio.Future[RewardResult] = self.loop.create_future()
        self._queue.append((sample, future))
        if not self._draining:
            self._draining = True
            self.loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                await asyncio.sleep(self.options.max_wait_ms / 1000.0)  # let the calls arriving together queue
                batch, self._queue = self._queue[: self.options.max_batch], self._queue[self.options.max_batch :]
                self.stats["batches"] += 1
                self.stats["max_batch_seen"] = max(self.stats["max_batch_seen"], len(batch))
                outcomes = await self._score([s for s, _ in batch])
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue
                    if isinstance(outcome, BaseException):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self._draining = False

    async def _score(self, samples: list[Sample]) -> list[RewardResult | BaseException]:
        try:
            return list(await self.pipeline.ascore(samples))
        except Exception as exc:
            if len(samples) == 1:
                return [exc]
        # isolate the sample(s) that made the batch fail; the others keep their rewards
        return list(await asyncio.gather(*(self._score_one(s) for s in samples)))

    async def _score_one(self, sample: Sample) -> RewardResult | BaseException:
        try:
            return (await self.pipeline.ascore([sample]))[0]
        except Exception as exc:
            return exc

    def _answer(self, sample_id: str, outcome: RewardResult | BaseException) -> dict[str, Any]:
        if isinstance(outcome, RewardResult) and (errors := outcome.source_errors()):
            # the pipeline isolated what a source raised on: the sample is not scored, as if it had raised
            outcome = RuntimeError("; ".join(f"source {name}: {error}" for name, error in errors.items()))
        if isinstance(outcome, RewardResult):
            return self.keys.answer(outcome, self.options.missing_reward)
        self.stats["errors"] += 1
        if self.options.on_error == "raise":
            raise outcome
        log.warning("repo_sdk_verl: sample %s gets the fallback reward: %s", sample_id, outcome)
        return self.keys.fallback(self.options.missing_reward)

    def _future(self, sample: Sample) -> Future[RewardResult]:
        return asyncio.run_coroutine_threadsafe(self._submit(sample), self.loop)

    async def ascore(self, sample: Sample | BaseException) -> dict[str, Any]:
        """verl's answer for one sample (a ValueError in its place: the sample could not be read)."""
        if isinstance(sample, BaseException):
            return self._answer("?", sample)
        try:
            outcome: RewardResult | BaseException = await asyncio.wrap_future(self._future(sample))
        except Exception as exc:
            outcome = exc
        return self._answer(sample.id, outcome)

    def score_sync(self, sample: Sample | BaseException) -> dict[str, Any]:
        """:meth:`ascore` for a caller outside the runtime's loop that may block (verl's sync path)."""
        if isinstance(sample, BaseException):
            return self._answer("?", sample)
        try:
            outcome: RewardResult | BaseException = self._future(sample).result()
        except Exception as exc:
            outcome = exc
        return self._answer(sample.id, outcome)

    def close(self) -> None:
        """Stop the loop and release the pipeline's models and connections."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.pipeline.close()


_RUNTIMES: dict[tuple[int, str], RewardRuntime] = {}
_LOCK = threading.Lock()


def runtime_for(options: RewardOptions) -> RewardRuntime:
    """The process's runtime for these options, built on first use (one pipeline per worker process)."""
    key = (os.getpid(), options.cache_key())
    runtime = _RUNTIMES.get(key)
    if runtime is None:
        with _LOCK:
            runtime = _RUNTIMES.get(key)
            if runtime is None:
                runtime = _RUNTIMES[key] = RewardRuntime(options)
    return runtime
