"""The REPO reward as TRL reward functions (GRPOTrainer, RLOOTrainer).

:func:`repo_reward_func` gives ONE async callable: it turns the batch into
Samples, scores them with :class:`repo_sdk.RewardPipeline` (all sources
concurrently, then the combiner) and reports every source, rule fire rate and
combiner detail through TRL's ``log_metric`` / ``log_extra``. TRL names its own
metrics after the callable's ``__name__``, which is the spec's ``name``.

:func:`source_reward_funcs` gives one async callable per source, for users who
prefer TRL's ``reward_weights`` sum (which cannot modulate the RM the REPO way).

The callables are picklable: they carry the validated spec and rebuild their
sources lazily, on first call after construction or unpickling.

Example:
    >>> import asyncio
    >>> fn = repo_reward_func({"name": "negotiation", "sources": {"rules": ["cot_leak"]}})
    >>> fn.__name__
    'negotiation'
    >>> asyncio.run(fn(prompts=["We offer 95 EUR."], completions=["<think>hm</think>80?"]))
    [-0.1]
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from repo_sdk.config import LoadedSpec, RewardSpec, load
from repo_sdk.errors import ConfigError
from repo_sdk.interfaces import RewardSource
from repo_sdk.pipeline import RewardPipeline, build_source
from repo_sdk.types import RewardResult, Sample
from repo_sdk_trl.metrics import batch_metrics, extra_columns, telemetry_metrics
from repo_sdk_trl.samples import batch_to_samples

__all__ = ["RepoRewardFunction", "SourceRewardFunction", "repo_reward_func", "source_reward_funcs"]

SpecLike = str | Path | Mapping[str, Any] | RewardSpec | LoadedSpec


def _loaded(spec: SpecLike) -> LoadedSpec:
    return spec if isinstance(spec, LoadedSpec) else load(spec)


class _BatchReader:
    """How a reward function reads Samples out of a trainer batch; shared by both callables."""

    def __init__(self, loaded: LoadedSpec, task_column: str | None, task_columns: Sequence[str]) -> None:
        self.loaded = loaded
        self.task_column = task_column
        self.task_columns = tuple(task_columns)
        self._lock = threading.Lock()

    def samples(self, prompts: Sequence[Any], completions: Sequence[Any], kwargs: Mapping[str, Any]) -> list[Sample]:
        state = kwargs.get("trainer_state")
        step = getattr(state, "global_step", None)
        return batch_to_samples(
            prompts,
            completions,
            kwargs,
            task_column=self.task_column,
            task_columns=self.task_columns,
            id_prefix=f"step{step}" if step is not None else "trl",
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_lock"] = None
        for key in [k for k in state if k.startswith("_built")]:
            state[key] = None  # sources hold models and connections: rebuilt after unpickling
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


class RepoRewardFunction(_BatchReader):
    """The combined REPO reward of a spec as one async TRL reward function.

    Args:
        spec: the reward spec (path, mapping, RewardSpec or LoadedSpec); validated now.
        task_column: dataset column holding the task dict or its JSON text.
        task_columns: flat dataset columns merged into the task.
        only: score just these sources (the rest count as missing), like ``repo-sdk score --only``.
        cache_dir: where sources may keep on-disk caches.

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
    ) -> None:
        super().__init__(_loaded(spec), task_column, task_columns)
        self.__name__ = self.loaded.spec.name
        self.only = sorted(only) if only is not None else None
        self.cache_dir = cache_dir
        self._built: RewardPipeline | None = None

    @property
    def pipeline(self) -> RewardPipeline:
        """The pipeline, built on first use."""
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = RewardPipeline.from_spec(self.loaded, only=self.only, cache_dir=self.cache_dir)
        return self._built

    def build(self) -> RewardPipeline:
        """Build the sources now rather than on the first call (errors surface early)."""
        return self.pipeline

    def rule_names(self) -> list[str]:
        """The spec's turn rules, sorted (reported even when they do not fire)."""
        return sorted(self.pipeline.rule_names("turn"))

    async def score_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """Score Samples with the full breakdown (the one pipeline path)."""
        return await self.pipeline.ascore(samples)

    async def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None, **kwargs: Any
    ) -> list[float | None]:
        """TRL's reward-function call: one reward (or None) per completion."""
        results = await self.score_samples(self.samples(prompts, completions, kwargs))
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            metrics = batch_metrics(self.__name__, results, rules=self.rule_names())
            metrics.update(telemetry_metrics(self.__name__, self.pipeline.telemetry()))
            for key, value in metrics.items():
                log_metric(key, value)
        log_extra = kwargs.get("log_extra")
        if callable(log_extra):
            for column, values in extra_columns(self.__name__, results).items():
                log_extra(column, values)
        return [r.reward for r in results]

    def close(self) -> None:
        """Release the sources' models and connections."""
        if self._built is not None:
            self._built.close()
            self._built = None


class SourceRewardFunction(_BatchReader):
    """One source of a spec as an async TRL reward function returning its raw value.

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

    async def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None, **kwargs: Any
    ) -> list[float | None]:
        """TRL's reward-function call: the source's value (or None) per completion."""
        scores = await self.built_source.ascore(self.samples(prompts, completions, kwargs))
        return [s.value for s in scores]

    def close(self) -> None:
        """Release the source's models and connections."""
        if self._built_source is not None:
            self._built_source.close()
            self._built_source = None


def repo_reward_func(spec: SpecLike, **options: Any) -> RepoRewardFunction:
    """The combined REPO reward of ``spec`` as one async, picklable TRL reward function.

    Example:
        >>> from trl import GRPOConfig, GRPOTrainer  # doctest: +SKIP
        >>> trainer = GRPOTrainer(model, reward_funcs=[repo_reward_func("spec.yaml")], ...)  # doctest: +SKIP
    """
    return RepoRewardFunction(spec, **options)


def source_reward_funcs(spec: SpecLike, **options: Any) -> list[SourceRewardFunction]:
    """One async, picklable TRL reward function per source of ``spec``, in spec order.

    Example:
        >>> [f.__name__ for f in source_reward_funcs({"sources": {"guard": ["cot_leak"], "len": ["max_length"]}})]
        ['guard', 'len']
    """
    loaded = _loaded(spec)
    return [SourceRewardFunction(loaded, name, **options) for name in loaded.spec.sources]
