"""``repo_reward_scorer``: the REPO reward as an inspect_ai scorer.

In a Task::

    Task(dataset=..., solver=generate(), scorer=repo_reward_scorer("spec.yaml"))

On a log written earlier (the package registers the scorer with inspect through its
``inspect_ai`` entry point)::

    inspect score LOG --scorer repo_sdk_inspect/repo_reward_scorer -S config=spec.yaml

The spec is validated when the scorer is created; the pipeline (RM, judge, rules) is built once
per scorer, on its first call, off the event loop. Each call maps the TaskState to a Sample
(:mod:`repo_sdk_inspect.samples`), scores it through a :class:`~repo_sdk_inspect.batcher.MicroBatcher`
on inspect's own event loop, and answers a Score (:mod:`repo_sdk_inspect.scores`). A sample that
cannot be read or scored gets the ``missing`` value with the reason; it never fails the eval. A
spec whose pipeline cannot be built does: every sample would fail the same way.

Example:
    >>> import asyncio
    >>> from inspect_ai.model import ChatMessageUser, ModelOutput
    >>> from inspect_ai.scorer import Target
    >>> from inspect_ai.solver import TaskState
    >>> score = repo_reward_scorer({"name": "negotiation", "sources": {"rules": ["cot_leak"]}})
    >>> state = TaskState(model="mockllm/model", sample_id=1, epoch=1, input="95 EUR?",
    ...                   messages=[ChatMessageUser(content="95 EUR?")],
    ...                   output=ModelOutput.from_content("mockllm/model", "<think>cave</think>80?"))
    >>> s = asyncio.run(score(state, Target("")))
    >>> s.value, s.explanation
    (-0.1, 'reward -0.1 | rules -10 | E -10, E_judge 0, E_rules -10 | fired: cot_leak -10')
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inspect_ai.scorer import Score, Scorer, Target, mean, scorer, stderr
from inspect_ai.solver import TaskState

from repo_sdk.config import CombinerSpec, LoadedSpec, load
from repo_sdk.errors import ConfigError
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.types import RewardResult
from repo_sdk_inspect.batcher import MicroBatcher
from repo_sdk_inspect.samples import state_to_sample
from repo_sdk_inspect.scores import Missing, missing_score, result_score

__all__ = ["RepoRewardScorer", "repo_reward_scorer"]

log = logging.getLogger("repo_sdk_inspect")

# combiners whose reward of one sample depends on the other samples of its group
GROUP_COMBINERS = frozenset({"normalize_then_sum"})


def _group_combiner(combiner: CombinerSpec) -> str | None:
    if combiner.type in GROUP_COMBINERS:
        return combiner.type
    inner = combiner.params.get("inner")
    return _group_combiner(CombinerSpec.model_validate(inner)) if isinstance(inner, Mapping) else None


def _check_missing(missing: Any) -> Missing:
    if missing in ("unscored", "noanswer"):
        return missing  # type: ignore[no-any-return]
    if isinstance(missing, (int, float)) and not isinstance(missing, bool):
        return float(missing)
    raise ConfigError(f"repo_reward_scorer: missing must be 'unscored', 'noanswer' or a number (got {missing!r})")


class RepoRewardScorer:
    """The scorer object :func:`repo_reward_scorer` returns (an async callable inspect awaits).

    Args: see :func:`repo_reward_scorer`.
    """

    def __init__(
        self,
        spec: str | Path | Mapping[str, Any] | LoadedSpec,
        *,
        task_key: str | None = "task",
        missing: Missing = "unscored",
        only: list[str] | None = None,
        cache_dir: str | None = None,
        max_batch: int = 64,
        max_wait_ms: float = 5.0,
    ) -> None:
        self.loaded = spec if isinstance(spec, LoadedSpec) else load(spec)
        if (combiner := _group_combiner(self.loaded.spec.combiner)) is not None:
            raise ConfigError(
                f"{self.loaded.path or '<spec>'}: combiner: {combiner} z-scores each reply against its group, but an "
                "inspect scorer scores every sample on its own (the reward would be 0); use repo, "
                "weighted_sum, gate or min"
            )
        if only is not None and (unknown := set(only) - set(self.loaded.spec.sources)):
            raise ConfigError(
                f"repo_reward_scorer: only names unknown source(s) {sorted(unknown)} "
                f"(known: {sorted(self.loaded.spec.sources)})"
            )
        if max_batch < 1 or max_wait_ms < 0:
            raise ConfigError(
                f"repo_reward_scorer: max_batch must be >= 1 and max_wait_ms >= 0 (got {max_batch}, {max_wait_ms})"
            )
        self.name = self.loaded.spec.name
        self.task_key = task_key
        self.missing = _check_missing(missing)
        self.only = list(only) if only is not None else None
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.max_batch = max_batch
        self.max_wait_ms = max_wait_ms
        self._lock = threading.Lock()
        self._pipeline: RewardPipeline | None = None
        self._batcher: MicroBatcher | None = None

    def build(self) -> RewardPipeline:
        """Build the pipeline now (once per scorer; later calls return it)."""
        with self._lock:
            if self._pipeline is None:
                self._pipeline = RewardPipeline.from_spec(self.loaded, only=self.only, cache_dir=self.cache_dir)
                self._batcher = MicroBatcher(
                    self._pipeline.ascore, max_batch=self.max_batch, max_wait_ms=self.max_wait_ms
                )
        return self._pipeline

    @property
    def stats(self) -> dict[str, int]:
        """The batcher's counters: calls, batches, largest batch, samples scored again alone."""
        return dict(self._batcher.stats) if self._batcher is not None else {}

    async def __call__(self, state: TaskState, target: Target) -> Score:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # trio: the pipeline's sources need asyncio
            raise RuntimeError(
                "repo_reward_scorer needs inspect's asyncio backend (INSPECT_ASYNC_BACKEND=asyncio)"
            ) from None
        if self._batcher is None:
            await asyncio.to_thread(self.build)  # loading an RM or starting a judge must not block the loop
        assert self._batcher is not None
        where = f"sample {state.sample_id} (epoch {state.epoch})"
        try:
            sample = state_to_sample(state, task_key=self.task_key)
        except Exception as exc:
            return self._failed(where, f"{type(exc).__name__}: {exc}")
        try:
            result: RewardResult = await self._batcher.submit(sample)
        except Exception as exc:
            return self._failed(where, f"{type(exc).__name__}: {exc}")
        if errors := result.source_errors():  # the pipeline isolated what a source raised on
            return self._failed(where, "; ".join(f"source {name}: {error}" for name, error in errors.items()))
        return result_score(sample, result, name=self.name, missing=self.missing)

    def _failed(self, where: str, error: str) -> Score:
        why = f"{where} not scored: {error}"
        log.warning("repo_sdk_inspect: %s", why)
        return missing_score(why, self.missing, reason="scoring_failed", metadata={"error": why, "spec": self.name})

    def close(self) -> None:
        """Release the pipeline's models and connections (it is built again on the next call)."""
        with self._lock:
            if self._pipeline is not None:
                self._pipeline.close()
            self._pipeline = self._batcher = None


# What inspect registers, records in the log and re-creates for `inspect score`. The spec's
# parameter is `config` (as in `repo-sdk score --config`): inspect's scorer_from_spec takes a
# `spec` argument of its own, so `-S spec=...` could never reach the scorer.
@scorer(metrics=[mean(), stderr()], name="repo_reward_scorer")
def _repo_reward_scorer(
    config: str | dict[str, Any],
    task_key: str | None = "task",
    missing: str | float = "unscored",
    only: list[str] | None = None,
    cache_dir: str | None = None,
    max_batch: int = 64,
    max_wait_ms: float = 5.0,
) -> Scorer:
    return RepoRewardScorer(
        config,
        task_key=task_key,
        missing=missing,  # type: ignore[arg-type]
        only=only,
        cache_dir=cache_dir,
        max_batch=max_batch,
        max_wait_ms=max_wait_ms,
    )


def repo_reward_scorer(
    spec: str | Path | Mapping[str, Any],
    /,
    *,
    task_key: str | None = "task",
    missing: Missing = "unscored",
    only: list[str] | None = None,
    cache_dir: str | Path | None = None,
    max_batch: int = 64,
    max_wait_ms: float = 5.0,
) -> Scorer:
    """The REPO reward of ``spec`` as an inspect_ai scorer (metrics: mean and stderr of the reward).

    Args:
        spec: the reward spec: a YAML path (made absolute here, so the log records where it is)
            or a mapping. Validated now; a bad spec raises ConfigError naming file, line and key.
        task_key: the sample metadata key holding the task (a dict or its JSON text); None: no task.
        missing: the value of a sample without a reward: ``"unscored"`` (NaN, skipped by metrics),
            ``"noanswer"`` (inspect's ``N``, counted 0 by ``mean``) or a number.
        only: run just these sources (the others count as missing), like ``repo-sdk score --only``.
        cache_dir: where sources keep on-disk caches (the judge's answers).
        max_batch: most samples per pipeline call.
        max_wait_ms: how long a batch waits for more concurrent calls.

    Returns:
        A Scorer registered with inspect as ``repo_sdk_inspect/repo_reward_scorer``.
    """
    if isinstance(spec, (str, Path)):
        spec = str(Path(spec).expanduser().resolve())
    elif isinstance(spec, Mapping):
        spec = dict(spec)
    return _repo_reward_scorer(
        config=spec,
        task_key=task_key,
        missing=missing,
        only=only,
        cache_dir=str(cache_dir) if cache_dir is not None else None,
        max_batch=max_batch,
        max_wait_ms=max_wait_ms,
    )
