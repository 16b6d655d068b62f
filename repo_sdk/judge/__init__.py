"""The LLM-as-a-judge reward source (RJ): templates, client, parsing, cache, embedded server.

Spec example (no endpoint: the embedded SmolLM2 judge on loopback)::

    sources:
      judge:
        type: judge
        template: negotiation
        n_samples: 1

Modules: :mod:`~repo_sdk.judge.templates` (headers, sandboxed rendering),
:mod:`~repo_sdk.judge.verdict` (parsing), :mod:`~repo_sdk.judge.client` (the endpoint or the
embedded server, async HTTP with retries over :mod:`repo_sdk.remote`), :mod:`~repo_sdk.judge.asker`
(an item's answer: memo, cache, call),
:mod:`~repo_sdk.judge.cache`, :mod:`~repo_sdk.judge.embedded`,
:mod:`~repo_sdk.judge.source`, :mod:`~repo_sdk.judge.fakes` (test servers).

Example:
    >>> from repo_sdk.judge import JudgeSource
    >>> JudgeSource.build(template="pointwise", cache=False).template.scale
    (1.0, 5.0)
"""

from __future__ import annotations

from typing import Any

from repo_sdk.hookspecs import hookimpl
from repo_sdk.judge.cache import JudgeCache, cache_key
from repo_sdk.judge.client import ChatClient, JudgeCallError, RetryPolicy
from repo_sdk.judge.config import EmbeddedOptions, JudgeConfig, PairwiseOptions
from repo_sdk.judge.embedded import get_embedded_server, stop_embedded_servers
from repo_sdk.judge.source import JudgeSource
from repo_sdk.judge.telemetry import Telemetry
from repo_sdk.judge.templates import JudgeTemplate, TemplateError, TemplateRenderError, load_template
from repo_sdk.judge.verdict import PairwiseVerdict, PointwiseVerdict, VerdictError, parse_pairwise, parse_pointwise

__all__ = [
    "ChatClient",
    "EmbeddedOptions",
    "JudgeCache",
    "JudgeCallError",
    "JudgeConfig",
    "JudgeSource",
    "JudgeTemplate",
    "PairwiseOptions",
    "PairwiseVerdict",
    "PointwiseVerdict",
    "RetryPolicy",
    "Telemetry",
    "TemplateError",
    "TemplateRenderError",
    "VerdictError",
    "cache_key",
    "get_embedded_server",
    "load_template",
    "parse_pairwise",
    "parse_pointwise",
    "stop_embedded_servers",
]


@hookimpl
def register_sources(register: Any) -> None:
    """Registers the judge source (spec type ``judge``)."""
    register(JudgeSource)
