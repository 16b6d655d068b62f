"""repo-sdk-verl: the REPO reward inside verl's reward loop, its data layout, and the launcher.

verl loads the reward from ``pkg://repo_sdk_verl.reward`` (:func:`compute_score`);
nothing here imports verl.

Example:
    >>> import asyncio
    >>> out = asyncio.run(compute_score("repo", "Deal!", None, {}, spec={"sources": {"g": ["cot_leak"]}}))
    >>> out["score"], out["repo_reward/missing"]
    (0.0, 0.0)
"""

from __future__ import annotations

from repo_sdk_verl.data import PrepareSummary, prepare_dialogues, prepare_prompts
from repo_sdk_verl.extras import ExtraKeys
from repo_sdk_verl.reward import compute_score, compute_score_sync
from repo_sdk_verl.runtime import RewardOptions, RewardRuntime
from repo_sdk_verl.samples import extra_info_of, row_of, sample_from_call

__all__ = [
    "ExtraKeys",
    "PrepareSummary",
    "RewardOptions",
    "RewardRuntime",
    "compute_score",
    "compute_score_sync",
    "extra_info_of",
    "prepare_dialogues",
    "prepare_prompts",
    "row_of",
    "sample_from_call",
]
