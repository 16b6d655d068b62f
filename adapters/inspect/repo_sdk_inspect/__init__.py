"""repo-sdk-inspect: the REPO reward as an inspect_ai scorer.

Example:
    >>> from repo_sdk_inspect import repo_reward_scorer
    >>> score = repo_reward_scorer({"name": "negotiation", "sources": {"rules": ["cot_leak"]}})
    >>> from inspect_ai._util.registry import registry_info
    >>> registry_info(score).name
    'repo_sdk_inspect/repo_reward_scorer'
"""

from __future__ import annotations

from repo_sdk_inspect.batcher import MicroBatcher
from repo_sdk_inspect.samples import history_and_reply, message_turn, state_to_sample, task_of
from repo_sdk_inspect.scorer import RepoRewardScorer, repo_reward_scorer
from repo_sdk_inspect.scores import explanation, missing_score, result_score

__all__ = [
    "MicroBatcher",
    "RepoRewardScorer",
    "explanation",
    "history_and_reply",
    "message_turn",
    "missing_score",
    "repo_reward_scorer",
    "result_score",
    "state_to_sample",
    "task_of",
]
