"""repo-sdk-trl: the REPO reward inside TRL's GRPOTrainer and RLOOTrainer.

Example:
    >>> from repo_sdk_trl import repo_reward_func
    >>> fn = repo_reward_func({"name": "negotiation", "sources": {"rules": ["cot_leak"]}})
    >>> fn.__name__
    'negotiation'
"""

from __future__ import annotations

from repo_sdk.train_spec import LoraSpec, TrainSpec, parse_train_spec
from repo_sdk_trl.reward_func import RepoRewardFunction, SourceRewardFunction, repo_reward_func, source_reward_funcs
from repo_sdk_trl.samples import batch_to_samples

__all__ = [
    "LoraSpec",
    "RepoRewardFunction",
    "SourceRewardFunction",
    "TrainSpec",
    "batch_to_samples",
    "parse_train_spec",
    "repo_reward_func",
    "source_reward_funcs",
]
