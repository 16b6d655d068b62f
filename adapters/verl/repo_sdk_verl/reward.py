"""The REPO reward as verl's custom reward function: ``pkg://repo_sdk_verl.reward``.

In a verl config (0.9)::

    reward.custom_reward_function.path=pkg://repo_sdk_verl.reward
    reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.spec=/abs/path/spec.yaml

verl's reward loop (managers ``naive``, ``dapo``, ``rate_limited``, ... on Ray reward
workers) awaits :func:`compute_score` once per sample. Each worker process builds
the spec's pipeline once; the calls it has in flight are scored together in one
pipeline call (:mod:`repo_sdk_verl.runtime`). The Sample is rebuilt from the row's
``extra_info`` (task and dialogue history, as ``repo-sdk verl prepare`` writes them)
plus ``solution_str``, so rules, judge and RM see what ``repo-sdk score`` shows them.

The answer is ``{"score": reward, ...}`` with the same keys for every sample
(:mod:`repo_sdk_verl.extras`). A sample without a reward, or one that cannot be
scored, gets ``missing_reward`` (default 0.0), flagged in ``<name>/missing`` and
``<name>/error``; it never raises into verl (unless ``on_error: raise``). A bad spec
or bad ``reward_kwargs`` does raise, at the first call, so a misconfigured run stops
instead of training on fallbacks.

:func:`compute_score_sync` is the same reward for callers that need a plain function
(verl's ``remote`` reward manager refuses async ones): ``custom_reward_function.name=compute_score_sync``.

Example:
    >>> import asyncio
    >>> spec = {"name": "r", "sources": {"guard": ["cot_leak"]}}
    >>> out = asyncio.run(compute_score("repo", "<think>x</think>80?", "", {"task": "{}"}, spec=spec))
    >>> out["score"], out["r/fired/cot_leak"], out["r/missing"]
    (-0.1, 1.0, 0.0)
"""

from __future__ import annotations

from typing import Any

from repo_sdk.types import Sample
from repo_sdk_verl.runtime import RewardOptions, runtime_for
from repo_sdk_verl.samples import sample_from_call

__all__ = ["compute_score", "compute_score_sync"]


def _sample(solution_str: Any, extra_info: Any) -> Sample | ValueError:
    try:
        return sample_from_call(solution_str, extra_info)
    except ValueError as exc:
        return exc


async def compute_score(
    data_source: Any = None,
    solution_str: Any = None,
    ground_truth: Any = None,
    extra_info: Any = None,
    **reward_kwargs: Any,
) -> dict[str, Any]:
    """verl's reward call for one sample; concurrent calls in a process are scored as one batch.

    Args:
        data_source: the row's ``data_source`` (not used: the spec decides the reward).
        solution_str: the decoded reply.
        ground_truth: the row's ``reward_model.ground_truth`` (not used).
        extra_info: the row's ``extra_info``: ``task``, ``history``, ``id``, ``metadata``.
        **reward_kwargs: ``custom_reward_function.reward_kwargs``: ``spec`` and the options of
            :class:`repo_sdk_verl.runtime.RewardOptions`.
    """
    runtime = runtime_for(RewardOptions.from_kwargs(reward_kwargs))
    return await runtime.ascore(_sample(solution_str, extra_info))


def compute_score_sync(
    data_source: Any = None,
    solution_str: Any = None,
    ground_truth: Any = None,
    extra_info: Any = None,
    **reward_kwargs: Any,
) -> dict[str, Any]:
    """:func:`compute_score` as a plain function (blocks until the sample's batch is scored).

    Example:
        >>> compute_score_sync("repo", "Deal!", None, None, spec={"sources": {"g": ["cot_leak"]}})["score"]
        0.0
    """
    runtime = runtime_for(RewardOptions.from_kwargs(reward_kwargs))
    return runtime.score_sync(_sample(solution_str, extra_info))
