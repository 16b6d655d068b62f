"""OpenRLHF requests in, OpenRLHF answers out: the part the reward file, server and agent share.

A :class:`RewardService` holds the :class:`repo_sdk.RewardPipeline` (the one
scoring path of the SDK), the splitter that turns ``query`` back into turns,
and the answer format::

    {"rewards": [...], "scores": [...], "extra_logs": {"<name>/<source>": [...],
     "<name>/fired/<rule>": [0 or 1, ...], "<name>/E": [...], "<name>/multiplier": [...],
     "<name>/missing": [0 or 1, ...], "<name>/error": [0 or 1, ...],
     "<name>/telemetry/<source>/<counter>": [...]},
     "errors": [null or "<what went wrong>", ...]}   # only when an item failed

``log="summary"`` (default) sends each source's value, the rules that fired, the
combiner's summary details (REPO: ``E`` and the multiplier) and the missing flag;
``log="full"`` adds the telemetry: what scoring each sample took, for the sources
that say (``item_telemetry_keys``; the judge: calls, retries, re-asks, cache hits,
parse failures, latency), so OpenRLHF's batch means read as calls per sample,
cache-hit rate and so on.

OpenRLHF needs a number for every sample, so a ``None`` reward becomes
``missing_reward`` (default 0.0) and is flagged in ``<name>/missing``; a source
that returned ``None`` logs 0.0. An item that fails, because it cannot be read (a
label that is not a task, a query the splitter cannot split) or because a source raised
on it (a label whose price is "120 EUR", say), gives that item None: it gets
``missing_reward``, is flagged in ``<name>/error`` and named in ``errors``, and the reason
is logged (logger ``repo_sdk.serve``); the other items are scored as usual, so one bad
item never fails a request. The set of ``extra_logs`` keys is the same for every
sample, as OpenRLHF stacks them.

Example:
    >>> from repo_sdk_openrlhf.chat import PlainSplitter
    >>> svc = RewardService.from_spec({"sources": {"rules": ["cot_leak"]}}, splitter=PlainSplitter())
    >>> svc.answer(["Q:<think>x</think>ok"], ["Q:"], [None])["rewards"]
    [-0.1]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from repo_sdk.breakdown import breakdown
from repo_sdk.config import LoadedSpec, RewardSpec, load
from repo_sdk.errors import ConfigError
from repo_sdk.pipeline import RewardPipeline, run_sync
from repo_sdk.types import RewardResult, Sample, SourceScore
from repo_sdk_openrlhf.chat import PlainSplitter
from repo_sdk_openrlhf.labels import parse_label

__all__ = ["LogLevel", "RewardService", "RequestError"]

log = logging.getLogger("repo_sdk.serve")
LogLevel = Literal["summary", "full"]


def _errors_of(result: RewardResult) -> str | None:
    """Why this item failed (it could not be read, or sources raised on it), or None when it did not."""
    if "error" in result.details:
        return str(result.details["error"])
    errors = [f"{name}: {error}" for name, error in result.source_errors().items()]
    return "; ".join(errors) or None


class RequestError(ValueError):
    """A request the service cannot read; the message says which field and why."""


def _aligned(name: str, values: Sequence[Any] | None, n: int) -> list[Any]:
    if values is None:
        return [None] * n
    if len(values) != n:
        raise RequestError(f"{name} has {len(values)} items but query has {n}")
    return list(values)


class RewardService:
    """Pipeline + splitter + answer format (see the module docs).

    Args:
        pipeline: the built reward pipeline.
        splitter: turns a query (and its prompt) into history and response.
        missing_reward: the reward sent for a sample whose combined reward is None.
    """

    def __init__(
        self,
        pipeline: RewardPipeline,
        splitter: PlainSplitter,
        *,
        missing_reward: float = 0.0,
        log: LogLevel = "summary",
    ) -> None:
        if log not in ("summary", "full"):
            raise ConfigError(f"log must be summary or full, got {log!r}")
        self.pipeline = pipeline
        self.splitter = splitter
        self.missing_reward = float(missing_reward)
        self.log = log
        self.detail_keys = tuple(pipeline.combiner.summary_details)
        self.name = pipeline.name
        self.source_names = [n for n in pipeline.sources if pipeline.only is None or n in pipeline.only]
        self.rule_names = sorted(pipeline.rule_names("turn"))
        self.telemetry_keys = (
            {n: keys for n in self.source_names if (keys := pipeline.sources[n].item_telemetry_keys)}
            if log == "full"
            else {}
        )

    @classmethod
    def from_spec(
        cls,
        spec: str | Path | dict[str, Any] | RewardSpec | LoadedSpec,
        *,
        splitter: PlainSplitter,
        base_dir: str | Path | None = None,
        missing_reward: float = 0.0,
        log: LogLevel = "summary",
    ) -> RewardService:
        """Validate the spec and build its pipeline; ``base_dir`` resolves the spec's relative paths."""
        loaded = spec if isinstance(spec, LoadedSpec) else load(spec)
        if base_dir is not None:
            loaded = dataclasses.replace(loaded, base_dir=Path(base_dir))
        return cls(RewardPipeline.from_spec(loaded), splitter, missing_reward=missing_reward, log=log)

    def read(
        self, queries: Sequence[str], prompts: Sequence[str] | None = None, labels: Sequence[Any] | None = None
    ) -> list[Sample | RequestError]:
        """One Sample per query, a RequestError naming the item in place of each one that cannot be read.

        Raises:
            RequestError: what no item gets past: ``prompts`` or ``labels`` not aligned with ``query``.
        """
        n = len(queries)
        prompts_, labels_ = _aligned("prompts", prompts, n), _aligned("labels", labels, n)
        out: list[Sample | RequestError] = []
        for i, (query, prompt, raw) in enumerate(zip(queries, prompts_, labels_, strict=True)):
            try:
                out.append(self._sample(i, query, prompt, raw))
            except RequestError as exc:
                out.append(exc)
            except Exception as exc:  # anything else one odd item raises stays with that item
                out.append(RequestError(f"item {i}: {type(exc).__name__}: {exc}"))
        return out

    def _sample(self, i: int, query: Any, prompt: Any, raw: Any) -> Sample:
        if not isinstance(query, str) or (prompt is not None and not isinstance(prompt, str)):
            raise RequestError(f"query[{i}] and prompts[{i}] must be strings")
        try:
            label = parse_label(raw)
            history, response = self.splitter.split(query, prompt)
        except ValueError as exc:
            raise RequestError(f"item {i}: {exc}") from None
        except RecursionError:
            raise RequestError(f"item {i}: label nested too deeply to read") from None
        key = json.dumps([prompt or [t.message() for t in history], label.task], sort_keys=True, default=str)
        return Sample(
            id=label.id or f"q{i}",
            task=label.task,
            history=history,
            response=response,
            group=label.group or hashlib.sha1(key.encode("utf-8")).hexdigest()[:12],
            metadata=label.metadata,
        )

    def samples(
        self, queries: Sequence[str], prompts: Sequence[str] | None = None, labels: Sequence[Any] | None = None
    ) -> list[Sample]:
        """One Sample per query; the first item that cannot be read raises its RequestError."""
        out = []
        for item in self.read(queries, prompts, labels):
            if isinstance(item, RequestError):
                raise item
            out.append(item)
        return out

    def results(self, items: Sequence[Sample | RequestError], scored: Sequence[RewardResult]) -> list[RewardResult]:
        """The results in item order: ``scored`` (one per Sample), and for each item that could
        not be read a result with no reward and the reason as its ``details["error"]``."""
        it = iter(scored)
        out = []
        for item in items:
            if isinstance(item, RequestError):
                reason = f"unreadable item: {item}"
                sources = {n: SourceScore(value=None, reason=reason) for n in self.pipeline.sources}
                out.append(RewardResult(reward=None, sources=sources, details={"error": str(item)}))
            else:
                out.append(next(it))
        return out

    def reward_of(self, result: RewardResult) -> float:
        """The number sent to OpenRLHF for one result."""
        r = result.reward
        return self.missing_reward if r is None or math.isnan(r) else float(r)

    def extra_logs(self, results: Sequence[RewardResult]) -> dict[str, list[float]]:
        """Per-sample logs with the same keys for every sample: the core's breakdown, keyed for OpenRLHF."""
        b = breakdown(
            results,
            sources=self.source_names,
            rules=self.rule_names,
            fired_elsewhere=False,
            telemetry=self.telemetry_keys,
        )
        n = len(results)
        logs: dict[str, list[float]] = {}
        for source, values in b.sources.items():
            logs[f"{self.name}/{source}"] = [0.0 if v is None else v for v in values]
        for rule, flags in b.fired.items():
            logs[f"{self.name}/fired/{rule}"] = flags
        for key in self.detail_keys:
            logs[f"{self.name}/{key}"] = [0.0 if v is None else v for v in b.combiner.get(key, [None] * n)]
        for source, counters in b.telemetry.items():
            for key, values in counters.items():
                logs[f"{self.name}/telemetry/{source}/{key}"] = values
        logs[f"{self.name}/missing"] = b.missing
        logs[f"{self.name}/error"] = [float(_errors_of(r) is not None) for r in results]  # unreadable items too
        return logs

    def payload(self, results: Sequence[RewardResult]) -> dict[str, Any]:
        """The OpenRLHF answer for scored results."""
        rewards = [self.reward_of(r) for r in results]
        out: dict[str, Any] = {"rewards": rewards, "scores": list(rewards), "extra_logs": self.extra_logs(results)}
        errors = [_errors_of(r) for r in results]
        if any(errors):
            out["errors"] = errors
            log.warning("%s: %d of %d items failed, e.g. %s", self.name, sum(map(bool, errors)), len(errors),
                        next(e for e in errors if e))  # fmt: skip
        return out

    async def aanswer(
        self, queries: Sequence[str], prompts: Sequence[str] | None = None, labels: Sequence[Any] | None = None
    ) -> dict[str, Any]:
        """Score an OpenRLHF request and answer it (unreadable items: ``missing_reward``, flagged)."""
        items = self.read(queries, prompts, labels)
        scored = await self.pipeline.ascore([s for s in items if isinstance(s, Sample)])
        return self.payload(self.results(items, scored))

    def answer(
        self, queries: Sequence[str], prompts: Sequence[str] | None = None, labels: Sequence[Any] | None = None
    ) -> dict[str, Any]:
        """Synchronous :meth:`aanswer` (anywhere: inside a running event loop it runs on a worker thread)."""
        return run_sync(self.aanswer(queries, prompts, labels))

    def close(self) -> None:
        """Release the pipeline's models and connections."""
        self.pipeline.close()
