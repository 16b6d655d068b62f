"""Fixtures of the inspect adapter's tests: a fake judge server, a real tiny RM, and two specs
(rules only; RM x judge x rules combined by REPO)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")

NAME = "negotiation"
RULES: list[Any] = ["cot_leak", {"name": "max_length", "max_chars": 60, "points": -35}]


@pytest.fixture(scope="session")
def judge() -> Iterator[Any]:
    from repo_sdk.judge.fakes import FakeJudgeServer

    with FakeJudgeServer() as server:  # its verdict is a hash of the whole judge prompt
        yield server


def _write(path: Path, spec: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def rules_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = {"name": NAME, "sources": {"rules": RULES}, "combiner": {"type": "repo", "n": 100}}
    return _write(tmp_path_factory.mktemp("rules-spec") / "rules.yaml", spec)


@pytest.fixture(scope="session")
def full_spec(tmp_path_factory: pytest.TempPathFactory, judge: Any) -> Path:
    """RM (a real tiny sequence classifier) x judge (the fake server) x rules, combined by REPO."""
    from repo_sdk.rm.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("full-spec")
    build_tiny_model(root / "rm")
    spec = {
        "name": NAME,
        "sources": {
            "rm": {"type": "rm", "path": "rm", "device": "cpu"},
            "judge": {"type": "judge", "base_url": judge.base_url, "model": "fake", "cache": False, "max_retries": 0},
            "rules": RULES,
        },
        "combiner": {"type": "repo", "n": 100},
    }
    return _write(root / "full.yaml", spec)
