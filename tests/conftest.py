"""Fixtures every core test may use."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="session")
def vllm_protocol() -> ModuleType:
    """vLLM's ``/classify`` request and response classes, vendored from its wheel (tests/vendor/vllm_protocol.py)."""
    name = "repo_sdk_tests_vllm_protocol"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / "vendor" / "vllm_protocol.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # pydantic resolves the postponed annotations through sys.modules
        spec.loader.exec_module(module)
    return sys.modules[name]
