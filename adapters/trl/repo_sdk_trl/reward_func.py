"""The REPO reward as TRL reward functions (GRPOTrainer, RLOOTrainer).

:func:`repo_reward_func` gives ONE callable: it turns the batch into Samples, scores
them with :class:`repo_sdk.RewardPipeline` (all sources concurrently, then the
combiner) and reports the sources, rule fire rates and REPO's ``E`` and multiplier
through TRL's ``log_metric`` / ``log_extra`` (``log="full"`` adds every combiner detail
and the sources' telemetry, per reward call). TRL names its own metrics after the
callable's ``__name__``, which is the spec's ``name``.

:func:`source_reward_funcs` gives one callable per source, for users who prefer TRL's
``reward_weights`` sum (which cannot modulate the RM the REPO way).

Both are awaitable and synchronous: TRL sees an async function and awaits it with its
other async rewards; called where no event loop runs (a script, a verl wrapper) it
returns the rewards; called inside a running loop it returns an awaitable. An item
that cannot be read (a malformed message, a task that is not JSON) gets None, and the
reason is logged (logger ``repo_sdk_trl``); the rest of the batch is scored.

Group-aware combiners (``normalize_then_sum``) see whole groups under multi-process
training: each process scores its samples, the per-source scores of every process are
gathered (:mod:`repo_sdk_trl.ranks`), and every process combines the whole batch. With
``gather_groups=False`` such a spec is refused on the first call instead.

The callables are picklable: they carry the validated spec and rebuild their
sources lazily, on first call after construction or unpickling.

Example:
    >>> fn = repo_reward_func({"name": "negotiation", "sources": {"rules": ["cot_leak"]}})
    >>> fn.__name__
    'negotiation'
    >>> fn(prompts=["We offer 95 EUR."], completions=["<think>hm</think>80?"])
    [-0.1]
    >>> import asyncio
    >>> async def trainer_step():
    ...     return await fn(prompts=["We offer 95 EUR."], completions=["80?"])
    >>> asyncio.run(trainer_step())
    [0.0]
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from repo_sdk.config import LoadedSpec, RewardSpec, load
from repo_sdk.errors import ConfigError, InputError
from repo_sdk.interfaces import RewardSource
from repo_sdk.pipeline import RewardPipeline, build_source, run_sync
from repo_sdk.types import RewardResult, Sample, SourceScore
from repo_sdk_trl import ranks
from repo_sdk_trl.metrics import LogLevel, TelemetryDeltas, batch_metrics, check_log, extra_columns, telemetry_metrics
from repo_sdk_trl.samples import read_batch

__all__ = ["RepoRewardFunction", "SourceRewardFunction", "repo_reward_func", "source_reward_funcs"]

log = logging.getLogger("repo_sdk_trl")

SpecLike = str | Path | Mapping[str, Any] | RewardSpec | LoadedSpec


def _loaded(spec: SpecLike) -> LoadedSpec:
    return spec if isinstance(spec, LoadedSpec) else load(spec)


class _BatchReader:
    """How a reward function reads Samples out of a trainer batch, and how it is called; shared by both."""

    __name__: str

    def __init__(self, loaded: LoadedSpec, task_column: str | None, task_columns: Sequence[str]) -> None:
        self.loaded = loaded
        self.task_column = task_column
        self.task_columns = tuple(task_columns)
        self._lock = threading.Lock()
        self._mark_async()

    def _mark_async(self) -> None:
        # TRL awaits a reward function when `inspect.iscoroutinefunction(fn.__call__)`. The
        # attribute `fn.__call__` is looked up on the instance first, while the call `fn(...)`
        # takes the class's `__call__` (special methods are looked up on the type): so TRL
        # sees the coroutine function and the call stays usable from synchronous code.
        self.__dict__["__call__"] = self.acall

    def items(
        self, prompts: Sequence[Any], completions: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> list[Sample | InputError]:
        """The batch's Samples, an InputError in place of each item that cannot be read (logged)."""
        state = kwargs.get("trainer_state")
        step = getattr(state, "global_step", None)
        items = read_batch(
            prompts,
            completions,
            kwargs,
            task_column=self.task_column,
            task_columns=self.task_columns,
            id_prefix=f"step{step}" if step is not None else "trl",
        )
        for item in items:
            if isinstance(item, InputError):
                log.warning("%s: no reward for %s", self.__name__, item)
        return items

    def samples(self, prompts: Sequence[Any], completions: Sequence[Any], kwargs: Mapping[str, Any]) -> list[Sample]:
        """The readable items' Samples."""
        return [s for s in self.items(prompts, completions, kwargs) if isinstance(s, Sample)]

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None, **kwargs: Any
    ) -> list[float | None] | Awaitable[list[float | None]]:
        """TRL's reward-function call: one reward (or None) per completion.

        Returns the rewards where no event loop runs in this thread, else an awaitable of them.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self.call_sync(prompts, completions, completion_ids, **kwargs)
        return self.acall(prompts, completions, completion_ids, **kwargs)

    def call_sync(
        self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None, **kwargs: Any
    ) -> list[float | None]:
        """The call, synchronously (anywhere: inside a running loop it scores on a worker thread)."""
        return run_sync(self.acall(prompts, completions, completion_ids, **kwargs))

    async def acall(
        self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None, **kwargs: Any
    ) -> list[float | None]:
        """The call, awaited (what TRL does)."""
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_lock"] = None
        state.pop("__call__", None)
        for key in [k for k in state if k.startswith("_built")]:
            state[key] = None  # sources hold models and connections: rebuilt after unpickling
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._mark_async()


def _unread(error: InputError, sources: Sequence[str]) -> RewardResult:
    """The result of an item that could not be read: no reward, no source value, the reason kept."""
    reason = f"unreadable item: {error}"
    return RewardResult(reward=None, sources={n: SourceScore(value=None, reason=reason) for n in sources})


def _spread(items: Sequence[Sample | InputError], values: Sequence[Any]) -> list[Any]:
    """``values`` (one per readable item) back in batch order, None for the unreadable ones."""
    it = iter(values)
    return [None if isinstance(item, InputError) else next(it) for item in items]


class RepoRewardFunction(_BatchReader):
    """The combined REPO reward of a spec as one TRL reward function (awaitable and synchronous).

    Args:
        spec: the reward spec (path, mapping, RewardSpec or LoadedSpec); validated now.
        task_column: dataset column holding the task dict or its JSON text.
        task_columns: flat dataset columns merged into the task.
        only: score just these sources (the rest count as missing), like ``repo-sdk score --only``.
        cache_dir: where sources may keep on-disk caches.
        log: ``summary`` (each source's mean, rule fire rates, ``E``, ``multiplier``, missing share)
            or ``full`` (also every combiner detail and the sources' telemetry per reward call).
        gather_groups: under multi-process training, gather the sources' scores of every process
            so a group-aware combiner sees whole groups; False refuses such a spec there.

    Example:
        >>> fn = RepoRewardFunction({"sources": {"rules": ["cot_leak"]}})
        >>> import pickle; pickle.loads(pickle.dumps(fn)).__name__
        'repo_reward'
    """

    def __init__(
        self,
        spec: SpecLike,
        *,
        task_column: str | None = "task",
        task_columns: Sequence[str] = (),
        only: Iterable[str] | None = None,
        cache_dir: Path | None = None,
        log: LogLevel = "summary",
        gather_groups: bool = True,
    ) -> None:
        super().__init__(_loaded(spec), task_column, task_columns)
        self.__name__ = self.loaded.spec.name
        self.only = sorted(only) if only is not None else None
        self.cache_dir = cache_dir
        try:
            self.log: LogLevel = check_log(log)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.gather_groups = gather_groups
        self.telemetry = TelemetryDeltas()
        self._built: RewardPipeline | None = None

    @property
    def pipeline(self) -> RewardPipeline:
        """The pipeline, built on first use."""
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = RewardPipeline.from_spec(self.loaded, only=self.only, cache_dir=self.cache_dir)
                    self.telemetry = TelemetryDeltas()
        return self._built

    def build(self) -> RewardPipeline:
        """Build the sources now rather than on the first call (errors surface early)."""
        return self.pipeline

    def rule_names(self) -> list[str]:
        """Rules configured in the spec's rules sources (reported even when they do not fire)."""
        return sorted(self.pipeline.rule_names("turn"))

    def _ranks(self) -> tuple[int, int] | None:
        """The (rank, world size) to gather groups over, or None when this process has them whole."""
        if not self.pipeline.group_aware or (where := ranks.world()) is None:
            return None
        if not self.gather_groups:
            raise ConfigError(
                f"{self.__name__}: combiner {self.loaded.spec.combiner.type} needs whole groups, but the batch is "
                f"split over {where[1]} processes and gather_groups is False; set gather_groups=True "
                "(train.gather_groups) or use a combiner that scores each sample on its own (repo, weighted_sum)"
            )
        return where

    async def score_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """Score Samples with the full breakdown (the one pipeline path; whole groups across processes)."""
        where = self._ranks()
        if where is None:
            return await self.pipeline.ascore(samples)
        outputs = await self.pipeline.ascore_sources(samples)
        # every process gathers, even one whose items were all unreadable: the collective needs all
        gathered = await asyncio.to_thread(ranks.gather, (list(samples), outputs))
        every = [s for part, _ in gathered for s in part]
        per_source = [[score for _, out in gathered for score in out[k]] for k in range(len(self.pipeline.sources))]
        results = self.pipeline.combine(every, per_source) if every else []
        start = sum(len(part) for part, _ in gathered[: where[0]])
        return results[start : start + len(samples)]

    def _score_now(self, samples: Sequence[Sample]) -> list[RewardResult]:
        if self._ranks() is None:
            return self.pipeline.score(samples)  # the pipeline's synchronous fast path (rules alone)
        return run_sync(self.score_samples(samples))

    def call_sync(
        self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None, **kwargs: Any
    ) -> list[float | None]:
        items = self.items(prompts, completions, kwargs)
        results = self._score_now([s for s in items if isinstance(s, Sample)])
        return self._report(items, results, kwargs)

    async def acall(
        self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None, **kwargs: Any
    ) -> list[float | None]:
        items = self.items(prompts, completions, kwargs)
        results = await self.score_samples([s for s in items if isinstance(s, Sample)])
        return self._report(items, results, kwargs)

    def _report(
        self, items: Sequence[Sample | InputError], results: Sequence[RewardResult], kwargs: Mapping[str, Any]
    ) -> list[float | None]:
        """Log the batch through TRL's hooks; the rewards in batch order (None for unreadable items)."""
        names = list(self.pipeline.sources)
        full = [
            r if r is not None else _unread(item, names)  # type: ignore[arg-type]
            for item, r in zip(items, _spread(items, results), strict=True)
        ]
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            metrics = batch_metrics(
                self.__name__,
                full,
                rules=self.rule_names(),
                log=self.log,
                summary_details=self.pipeline.combiner.summary_details,
            )
            if self.log == "full":
                metrics.update(telemetry_metrics(self.__name__, self.telemetry.step(self.pipeline.telemetry())))
            for key, value in metrics.items():
                log_metric(key, value)
        log_extra = kwargs.get("log_extra")
        if callable(log_extra):
            for column, values in extra_columns(self.__name__, full).items():
                log_extra(column, values)
        return [r.reward for r in full]

    def close(self) -> None:
        """Release the sources' models and connections."""
        if self._built is not None:
            self._built.close()
            self._built = None


class SourceRewardFunction(_BatchReader):
    """One source of a spec as a TRL reward function (awaitable and synchronous) returning its raw value.

    Args:
        spec: the reward spec.
        source: the source's name in ``spec.sources``.
        name: metric name in TRL's logs (default: the source name).
        task_column: dataset column holding the task dict or its JSON text.
        task_columns: flat dataset columns merged into the task.
    """

    def __init__(
        self,
        spec: SpecLike,
        source: str,
        *,
        name: str | None = None,
        task_column: str | None = "task",
        task_columns: Sequence[str] = (),
        cache_dir: Path | None = None,
    ) -> None:
        super().__init__(_loaded(spec), task_column, task_columns)
        if source not in self.loaded.spec.sources:
            raise ConfigError(f"unknown source {source!r} (sources: {sorted(self.loaded.spec.sources)})")
        self.source = source
        self.__name__ = name or source
        self.cache_dir = cache_dir
        self._built_source: RewardSource | None = None

    @property
    def built_source(self) -> RewardSource:
        """The source, built on first use exactly as the pipeline builds it."""
        if self._built_source is None:
            with self._lock:
                if self._built_source is None:
                    self._built_source = build_source(self.loaded, self.source, cache_dir=self.cache_dir)
        return self._built_source

    async def acall(
        self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None, **kwargs: Any
    ) -> list[float | None]:
        items = self.items(prompts, completions, kwargs)
        scores = await self.built_source.ascore([s for s in items if isinstance(s, Sample)])
        return _spread(items, [s.value for s in scores])

    def close(self) -> None:
        """Release the source's models and connections."""
        if self._built_source is not None:
            self._built_source.close()
            self._built_source = None


def repo_reward_func(spec: SpecLike, **options: Any) -> RepoRewardFunction:
    """The combined REPO reward of ``spec`` as one picklable TRL reward function (awaitable and synchronous).

    Example:
        >>> import pickle
        >>> fn = repo_reward_func({"sources": {"rules": ["cot_leak"]}})  # GRPOTrainer(..., reward_funcs=[fn])
        >>> pickle.loads(pickle.dumps(fn))(prompts=["Hi"], completions=["<think>hm</think>ok"])
        [-0.1]
    """
    return RepoRewardFunction(spec, **options)


def source_reward_funcs(spec: SpecLike, **options: Any) -> list[SourceRewardFunction]:
    """One picklable TRL reward function per source of ``spec``, in spec order.

    Example:
        >>> [f.__name__ for f in source_reward_funcs({"sources": {"guard": ["cot_leak"], "len": ["max_length"]}})]
        ['guard', 'len']
    """
    loaded = _loaded(spec)
    return [SourceRewardFunction(loaded, name, **options) for name in loaded.spec.sources]
