"""Chain-of-thought leakage: think tags and reasoning preambles in a chat reply."""

from __future__ import annotations

import re
from typing import ClassVar

from repo_sdk.interfaces import Rule
from repo_sdk.types import RuleHit, Sample

__all__ = ["CotLeak"]


class CotLeak(Rule):
    """Reasoning that leaked into the reply (``<think>`` blocks, "Let me think step by step").

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> [h.evidence for h in CotLeak().check(make_sample(response="<think>x</think>Hi"))]
        ['<think>x</think>']
    """

    name: ClassVar[str] = "cot_leak"
    description: ClassVar[str] = "chain-of-thought leaked into the reply (think tags, reasoning preambles)"

    _TAGS = re.compile(r"<\s*(think|thinking|reasoning|scratchpad)\s*>.*?(<\s*/\s*\1\s*>|$)", re.I | re.S)

    def check(self, sample: Sample) -> list[RuleHit]:
        return [
            self.hit("reasoning block in the reply", span=m.span(), evidence=m.group(0))
            for m in self._TAGS.finditer(sample.response)
        ]
