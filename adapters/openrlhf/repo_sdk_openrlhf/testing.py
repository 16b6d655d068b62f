"""Test helpers for driving OpenRLHF's real agent executors on a CPU.

vLLM does not run on a CPU, so tests of the reward file, the server and the agent
replace only the generation engine: :class:`ScriptedEngine` "generates" scripted
replies through the policy tokenizer and returns what vLLM's engine returns
(token ids, text, a finish reason). Everything else is OpenRLHF's own code.

Example:
    >>> import asyncio
    >>> from repo_sdk.rm.tiny import build_tiny_tokenizer
    >>> engine = ScriptedEngine(build_tiny_tokenizer(), ["Could you do 80?"])
    >>> out = asyncio.run(engine.generate([1, 2], sampling_params=None))
    >>> out.outputs[0].text, out.outputs[0].finish_reason, engine.calls
    ('Could you do 80?', 'stop', 1)
"""

from __future__ import annotations

from itertools import cycle
from types import SimpleNamespace
from typing import Any

__all__ = ["ScriptedEngine"]


class ScriptedEngine:
    """Stands in for vLLM's AsyncLLMEngine: replies come from a script, in order (cycling)."""

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
