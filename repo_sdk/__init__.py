"""repo-sdk: compose heterogeneous rewards (RM, LLM judge, rules) the REPO way.

Example:
    >>> from repo_sdk import RewardPipeline
    >>> from repo_sdk.testing import make_sample
    >>> with RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}}) as pipe:
    ...     pipe.score([make_sample(response="Sure, 80 EUR works.")])[0].reward
    0.0
"""

from __future__ import annotations

from repo_sdk.config import LoadedSpec, RewardSpec, load_spec
from repo_sdk.errors import ConfigError, InputError, MissingDependencyError, PluginError, RepoSdkError, SpecError
from repo_sdk.hookspecs import hookimpl
from repo_sdk.interfaces import BuildContext, Combined, Combiner, PointsMap, RewardSource, Rule, SOPModel
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.plugin_config import NoConfig, PluginRef, validate_config, validate_plugin
from repo_sdk.plugins import Registry, get_registry
from repo_sdk.rows import DialogueRow, TurnRow
from repo_sdk.types import Dialogue, RewardResult, RuleHit, Sample, SourceScore, Turn

__version__ = "0.1.0"

__all__ = [
    "BuildContext",
    "Combined",
    "Combiner",
    "ConfigError",
    "Dialogue",
    "DialogueRow",
    "InputError",
    "LoadedSpec",
    "MissingDependencyError",
    "NoConfig",
    "PluginError",
    "PluginRef",
    "PointsMap",
    "Registry",
    "RepoSdkError",
    "RewardPipeline",
    "RewardSource",
    "RewardResult",
    "RewardSpec",
    "Rule",
    "RuleHit",
    "SOPModel",
    "Sample",
    "SourceScore",
    "SpecError",
    "Turn",
    "TurnRow",
    "__version__",
    "get_registry",
    "hookimpl",
    "load_spec",
    "validate_config",
    "validate_plugin",
]
