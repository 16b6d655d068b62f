"""The LLM-as-a-judge reward source (RJ), spec type ``judge``.

Each sample is rendered through a judge template, sent to an OpenAI-compatible
endpoint (or the embedded llama.cpp server), and its verdict parsed. The value is
the verdict's score (pointwise) or the candidate's outcome against a reference
reply (pairwise, in [0, 1]); every failure ends as ``value=None`` with the reason.

Example:
    >>> from repo_sdk.judge.fakes import FakeJudgeServer
    >>> from repo_sdk.testing import make_sample
    >>> with FakeJudgeServer(responder=lambda body: '{"score": 4, "reason": "polite"}') as server:
    ...     judge = JudgeSource.build(base_url=server.base_url, model="fake", cache=False)
    ...     score = judge.score([make_sample(response="Could we agree on 80 EUR?")])[0]
    >>> score.value, score.reason, judge.points_map(score.value)
    (4.0, 'polite', 25.0)
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from repo_sdk.errors import ConfigError
from repo_sdk.interfaces import BuildContext, PointsMap, RewardSource
from repo_sdk.judge.aggregate import ORDERS, Answer, failed, pairwise_score, pointwise_score
from repo_sdk.judge.asker import Asker
from repo_sdk.judge.cache import JudgeCache, default_cache_dir
from repo_sdk.judge.client import ChatClient, api_key, check_backend, make_client, model_name
from repo_sdk.judge.config import JudgeConfig
from repo_sdk.judge.fence import protocol_text
from repo_sdk.judge.prompts import NoReference, Prompts, sampling_params
from repo_sdk.judge.resolve import resolve_template
from repo_sdk.judge.telemetry import CallStats, Telemetry
from repo_sdk.judge.templates import JudgeTemplate, TemplateRenderError
from repo_sdk.plugins import get_registry
from repo_sdk.types import Sample, SourceScore

__all__ = ["JudgeSource"]


class JudgeSource(RewardSource[JudgeConfig]):
    """LLM-as-a-judge (RJ): a rubric template, a chat endpoint, a parsed verdict per sample."""

    name: ClassVar[str] = "judge"
    kind = "judge"
    item_telemetry_keys = tuple(CallStats().as_dict())

    def __init__(self, config: JudgeConfig, template: JudgeTemplate, cache_dir: Path | None = None) -> None:
        super().__init__(config)
        self.cfg = config
        self.template = template
        self.params = template.parameters(config.params)
        template.probe(config.params)
        lo, hi = template.scale
        center = (lo + hi) / 2 if config.points_center is None else config.points_center
        scale = 100.0 / (hi - lo) if config.points_scale is None else config.points_scale
        self.points_map = PointsMap(center, scale)  # type: ignore[misc]  # per instance, from the template's scale
        self.tel = Telemetry()
        self.cache = JudgeCache(cache_dir) if cache_dir is not None else None
        self.model = model_name(config)
        self.api_key = api_key(config.api_key_env)
        self._client: ChatClient | None = None
        self._client_lock = threading.Lock()
        self.mode = config.scoring_for(template.kind)
        try:
            self.prompts = Prompts(template, config, self.params)
        except ValueError as exc:
            raise ConfigError(f"mode: {exc}") from None
        self.asker = Asker(
            template, reask=config.reask, mode=self.mode, params=self.params, model=self.model,
            sampling=sampling_params(config, template), seed=config.seed, cache=self.cache, telemetry=self.tel,
            item_salt=self.prompts.salt,
        )  # fmt: skip
        self._fences = template.fences

    @classmethod
    def from_config(cls, config: JudgeConfig, context: BuildContext) -> JudgeSource:
        template = resolve_template(config.template, context)
        check_backend(config)  # fail at build, not at the first cache miss
        if config.cache is False:
            cache_dir = None
        elif isinstance(config.cache, str):
            cache_dir = context.resolve(config.cache)
        else:
            cache_dir = context.cache_dir / "judge" if context.cache_dir is not None else default_cache_dir()
        return cls(config, template, cache_dir)

    @classmethod
    def build(cls, **params: Any) -> JudgeSource:
        """A judge source from spec parameters, outside any spec.

        Example:
            >>> JudgeSource.build(template="negotiation", cache=False).points_map
            PointsMap(center=3.0, scale=25.0)
        """
        config = JudgeConfig.model_validate(params)
        return cls.from_config(config, BuildContext(registry=get_registry()))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as config, template and cache folder (trainers ship reward functions to workers)."""
        cache_dir = self.cache.directory if self.cache is not None else None
        return (JudgeSource, (self.cfg, self.template, cache_dir))

    # -- the judge backend ----------------------------------------------------------------

    def _get_client(self) -> ChatClient:
        with self._client_lock:  # the embedded start runs in a worker thread
            return self._client or self._make_client()

    def _make_client(self) -> ChatClient:
        self._client = make_client(self.cfg, api_key=self.api_key, telemetry=self.tel)
        return self._client

    # -- scoring ----------------------------------------------------------------------------

    def guarded(self, sample: Sample) -> SourceScore | None:
        """The bottom score for an empty reply or one holding the judge's own protocol (``guard``), else None."""
        if not self.cfg.guard:
            return None
        if not any(ch.isalnum() for ch in sample.response):  # nothing to judge is the worst reply, not "n/a"
            found, reason = ["(no content)"], "the reply has no content (no letter or digit)"
        else:
            found = protocol_text(sample.response, self.template.kind, self.template.scale, self._fences)
            reason = "text aimed at the judge in the reply: " + ", ".join(repr(p) for p in found[:3])
        if not found:
            return None
        self.tel.guarded += 1
        lo = self.template.scale[0]
        details: dict[str, Any] = {
            "template": self.template.name,
            "guard": found[:10],
            "telemetry": CallStats().as_dict(),
        }
        details |= {"score": lo, "parse": "guard"} if self.template.kind == "pointwise" else {"outcome": lo}
        return SourceScore(value=lo, reason=reason, details=details)

    async def ascore(self, samples: Sequence[Sample]) -> list[SourceScore]:
        """Score a batch; each item's answer comes from the first of: guard, memo, cache, call.

        The guard scores a reply aimed at the judge without asking; the memo answers the
        items an earlier run judged (one query for the batch, nothing rendered); the rest
        are rendered as concurrency slots free up and each request is read from the cache
        or else asked of the judge (:meth:`Asker.ask <repo_sdk.judge.asker.Asker.ask>`).
        """
        out = [self.guarded(sample) for sample in samples]
        with _gc_paused():  # cached items allocate a lot and fast: full collections would dominate
            pending = self._from_memo(samples, out)
        if pending:
            if not self.cfg.base_url:  # start the embedded server off the event loop
                await asyncio.to_thread(self._get_client)
            client = self._get_client()
            gate = asyncio.Semaphore(client.concurrency)  # items are rendered as slots free up, not all up front
            async with client.session():
                asked = (self._score_item(samples[i], keys, client, gate) for i, keys in pending)
                for (i, _), score in zip(pending, await asyncio.gather(*asked), strict=True):
                    out[i] = score
            if self.cache is not None:
                self.cache.flush()  # this batch's answers are on disk when it returns
        self.tel.items += len(samples)
        self.tel.none += sum(1 for s in out if s is None or s.value is None)
        scores = [s for s in out if s is not None]
        assert len(scores) == len(samples), "every item is guarded, memoised or asked"
        return scores

    def _from_memo(self, samples: Sequence[Sample], out: list[SourceScore | None]) -> list[tuple[int, list[str]]]:
        """Fill ``out`` with the items whose final answers are memoised; the others, with their item keys."""
        todo = [i for i, score in enumerate(out) if score is None]
        if self.cache is None:
            return [(i, []) for i in todo]
        keys = {i: self.prompts.item_keys(samples[i], self.asker.item_key) for i in todo}
        found = self.cache.get_many([k for item in keys.values() for k in item])
        pending: list[tuple[int, list[str]]] = []
        for i in todo:
            if all(k in found for k in keys[i]):
                stats = CallStats()
                memo = [self.asker.memo(k, stats, found[k]) for k in keys[i]]
                answers = [a for a in memo if a is not None]
                if len(answers) == len(memo):
                    out[i] = self._finish(answers, stats)
                    continue
            pending.append((i, keys[i]))
        return pending

    async def _score_item(
        self, sample: Sample, keys: list[str], client: ChatClient, gate: asyncio.Semaphore
    ) -> SourceScore:
        """One item not in the memo: rendered, each slot from the cache or a call; never raises."""
        async with gate:
            try:
                requests = self.prompts.requests(sample)
                stats = CallStats()
                keyed: list[str | None] = [*keys] or [None] * len(requests)
                asked = zip(requests, self.prompts.slots, keyed, strict=True)
                calls = [self.asker.ask(r, k, stats, client, key) for r, (k, _), key in asked]
                answers = [await calls[0]] if len(calls) == 1 else list(await asyncio.gather(*calls))  # no task for one
                return self._finish(answers, stats)
            except (TemplateRenderError, NoReference) as exc:
                rendering = isinstance(exc, TemplateRenderError)
                self.tel.render_errors += rendering
                return failed(str(exc), "template" if rendering else "input", template=self.template.name)
            except Exception as exc:  # a training run must not die of one item; the reason says what happened
                self.tel.errors += 1
                return failed(f"judge error: {type(exc).__name__}: {exc}", "internal", template=self.template.name)

    def _finish(self, answers: list[Answer], stats: CallStats) -> SourceScore:
        self.tel.merge(stats)
        details = {"template": self.template.name, "telemetry": stats.as_dict()}
        if self.template.kind == "pointwise":
            return pointwise_score(answers, self.cfg.aggregate, scale=list(self.template.scale), **details)
        triples = [(k, order or ORDERS[0], a) for (k, order), a in zip(self.prompts.slots, answers, strict=True)]
        return pairwise_score(triples, self.cfg.aggregate, **details)

    # -- pairwise as a function, telemetry, close ---------------------------------------------

    async def acompare(self, samples: Sequence[Sample], references: Sequence[str]) -> list[SourceScore]:
        """Pairwise: each sample's response against ``references[i]`` (value 1 win, 0.5 tie, 0 loss).

        Raises:
            ValueError: the template is not pairwise, or the lengths differ.
        """
        if self.template.kind != "pairwise":
            raise ValueError(f"compare needs a pairwise template; {self.template.name!r} is {self.template.kind}")
        if len(samples) != len(references):
            raise ValueError(f"references ({len(references)}) must match samples ({len(samples)})")
        key = self.cfg.pairwise.reference_key
        pairs = zip(samples, references, strict=True)
        with_refs = [s.model_copy(update={"metadata": {**s.metadata, key: r}}) for s, r in pairs]
        return await self.ascore(with_refs)

    def compare(self, samples: Sequence[Sample], references: Sequence[str]) -> list[SourceScore]:
        """Synchronous :meth:`acompare`."""
        return asyncio.run(self.acompare(samples, references))

    def telemetry(self) -> dict[str, float]:
        """Counters: items, calls, cache hits, retries, parse failures, timeouts, errors, latency."""
        out = self.tel.summary()
        if self.cache is not None:
            out["cache_off"] = float(self.cache.error is not None)
        return out

    def close(self) -> None:
        """Commit the cache and drop the client (pools close after each batch; the embedded server at exit)."""
        if self.cache is not None:
            self.cache.close()
        self._client = None


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
