"""The short examples in the core's docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "repo_sdk", "repo_sdk.types", "repo_sdk.errors", "repo_sdk.interfaces", "repo_sdk.plugins",
    "repo_sdk.config", "repo_sdk.schema", "repo_sdk.pipeline", "repo_sdk.scoring", "repo_sdk.score_run",
    "repo_sdk.testing", "repo_sdk.train_spec", "repo_sdk.sources.rules_source", "repo_sdk.io.atomic",
    "repo_sdk.io.dialogues", "repo_sdk.io.readers", "repo_sdk.io.rows", "repo_sdk.combiners.repo",
    "repo_sdk.combiners.weighted_sum", "repo_sdk.combiners.minimum", "repo_sdk.combiners.normalize",
    "repo_sdk.combiners.rm_scale", "repo_sdk.fidelity", "repo_sdk.rm.normalize", "repo_sdk.rm.augment",
    "repo_sdk.rm.pairs", "repo_sdk.degenerate",
    "repo_sdk.degenerate", "repo_sdk.plugin_checks", "repo_sdk.breakdown",
    "repo_sdk.rm.deps",
    "repo_sdk.rules.views", "repo_sdk.rules.context", "repo_sdk.rules.similar", "repo_sdk.rules.prefilter",
    "repo_sdk.io.fastjson", "repo_sdk.workers",
    "repo_sdk.remote", "repo_sdk.remote.client", "repo_sdk.remote.limits", "repo_sdk.remote.file_limit",
    "repo_sdk.remote.ray_limit", "repo_sdk.remote.probe", "repo_sdk.remote.loopback", "repo_sdk.remote.transport",
    "repo_sdk.rm.remote", "repo_sdk.rm.remote_config", "repo_sdk.rm.remote_wire", "repo_sdk.rm.fakes",
    "repo_sdk.io.digest", "repo_sdk.io.paths", "repo_sdk.run_checks", "repo_sdk.spec_check", "repo_sdk.spec_yaml",
    "repo_sdk.cli.serve_cmd",
    "repo_sdk.report", "repo_sdk.report.stats", "repo_sdk.report.svg", "repo_sdk.report.sections",
    "repo_sdk.report.explain", "repo_sdk.report.cards", "repo_sdk.report.agreement", "repo_sdk.report.per_rule",
    "repo_sdk.report.compare", "repo_sdk.report.eval_section", "repo_sdk.cli.progress", "repo_sdk.cli.init_cmd",
    "repo_sdk.shards.plan", "repo_sdk.shards.store", "repo_sdk.shards.score", "repo_sdk.shards.ray_actor",
    "repo_sdk.shards.ray_engine",
    "repo_sdk.rows", "repo_sdk.score_steps", "repo_sdk.building",
]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
