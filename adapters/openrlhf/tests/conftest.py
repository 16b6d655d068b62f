"""Fixtures of the OpenRLHF adapter's tests.

OpenRLHF's executors are the real ones (``openrlhf.utils.agent``); only the vLLM
engine is replaced (vLLM does not run on CPU) by one that "generates" scripted
replies through the policy tokenizer, returning what vLLM returns: token ids,
text and a finish reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from itertools import cycle
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from repo_sdk import RewardSource, SourceScore, hookimpl
from repo_sdk.testing import register_plugin

os.environ.setdefault("HF_HUB_OFFLINE", "1")


class EchoRM(RewardSource):
    """A deterministic stand-in RM whose value depends on task, history and response."""

    name = "echo_rm"
    kind = "rm"

    def score(self, samples):
        out = []
        for s in samples:
            value = (len(s.response) % 7 - 3) + float(s.task.get("target_price", 0)) / 100 + 0.1 * len(s.history)
            value += 0.01 * sum(len(t.content) for t in s.history) + (0.5 if s.history[0].role == "system" else 0)
            out.append(SourceScore(value=value))
        return out


class _Plugin:
    @hookimpl
    def register_sources(self, register: Any) -> None:
        register(EchoRM)


@pytest.fixture
def echo_rm() -> Iterator[None]:
    with register_plugin(_Plugin(), name="openrlhf-test-echo-rm"):
        yield


class ScriptedEngine:
    """Stands in for vLLM's AsyncLLMEngine: replies come from a script, in order."""

    def __init__(self, tokenizer: Any, replies: list[str]) -> None:
        self.tokenizer = tokenizer
        self.replies = cycle(replies)
        self.calls = 0

    async def generate(self, prompt_token_ids: list[int], sampling_params: Any, multi_modal_data: Any = None) -> Any:
        self.calls += 1
        text = next(self.replies)
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"] + [self.tokenizer.eos_token_id]
        out = SimpleNamespace(token_ids=ids, text=text, finish_reason="stop", logprobs=None)
        return SimpleNamespace(outputs=[out])


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
