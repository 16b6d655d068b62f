"""repo-sdk-openrlhf: the REPO reward for OpenRLHF: reward file, HTTP reward server, multi-turn agent, PPO launcher.

The multi-turn agent (:mod:`repo_sdk_openrlhf.agent`) imports OpenRLHF itself and
is not imported here.

Example:
    >>> from repo_sdk_openrlhf import RewardService, PlainSplitter
    >>> svc = RewardService.from_spec({"sources": {"rules": ["cot_leak"]}}, splitter=PlainSplitter())
    >>> svc.answer(["Q: ok"], ["Q:"])["rewards"]
    [0.0]
"""

from __future__ import annotations

from repo_sdk_openrlhf.chat import ChatSplitter, PlainSplitter
from repo_sdk_openrlhf.labels import Label, parse_label
from repo_sdk_openrlhf.reward_file import RewardFunc, export_reward_file, render_reward_file
from repo_sdk_openrlhf.service import RequestError, RewardService
from repo_sdk_openrlhf.tokenizer import load_splitter, load_tokenizer

__all__ = [
    "ChatSplitter",
    "Label",
    "PlainSplitter",
    "RequestError",
    "RewardFunc",
    "RewardService",
    "export_reward_file",
    "load_splitter",
    "load_tokenizer",
    "parse_label",
    "render_reward_file",
]
