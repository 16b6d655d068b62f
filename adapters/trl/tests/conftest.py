"""Fixtures of the TRL adapter's tests: a tiny policy, spec files, and a fake RM source.

The fake RM is a real plugin registered for one test (repo_sdk.testing.register_plugin):
its value depends on the task, the history and the response, so any loss of
information on the way from a trainer batch to a Sample changes the reward.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from repo_sdk import testing

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def echo_rm() -> Iterator[None]:
    """Registers the ``echo_rm`` stand-in RM (``repo_sdk.testing.EchoRM``) for the test."""
    with testing.echo_rm(name="trl-test-echo-rm"):
        yield


@pytest.fixture(scope="session")
def tiny_policy(tmp_path_factory: pytest.TempPathFactory) -> str:
    from repo_sdk.rm.tiny import build_tiny_model

    return str(build_tiny_model(tmp_path_factory.mktemp("policy"), head="causal-lm"))


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    def write(data: dict[str, Any], name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write
