"""Fixtures of the OpenRLHF adapter's tests.

OpenRLHF's executors are the real ones (``openrlhf.utils.agent``); only the vLLM
engine is replaced (vLLM does not run on CPU) by one that "generates" scripted
replies through the policy tokenizer, returning what vLLM returns: token ids,
text and a finish reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from repo_sdk_openrlhf.testing import ScriptedEngine

from repo_sdk import testing

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def echo_rm() -> Iterator[None]:
    """Registers the ``echo_rm`` stand-in RM (``repo_sdk.testing.EchoRM``) for the test."""
    with testing.echo_rm(name="openrlhf-test-echo-rm"):
        yield


@pytest.fixture
def engine() -> type[ScriptedEngine]:
    return ScriptedEngine


@pytest.fixture
def sampling() -> Callable[[], Any]:
    return lambda: SimpleNamespace(max_tokens=64, logprobs=None)


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    from repo_sdk.rm.tiny import build_tiny_tokenizer

    path = tmp_path_factory.mktemp("tok")
    build_tiny_tokenizer().save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_tokenizer_dir: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_tokenizer_dir)


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    def write(data: dict[str, Any], name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write
