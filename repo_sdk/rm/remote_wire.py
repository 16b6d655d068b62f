"""The remote RM's wire formats: vLLM's ``POST /classify`` and OpenRLHF's ``POST /get_reward``.

vLLM (checked against the request and response classes of vLLM 0.33, vendored in
tests/vendor/vllm_protocol.py) takes a batch of prompts as token ids or text::

    {"model": "...", "input": [[1, 2, ...], ...] | ["text", ...], "use_activation": false,
     "add_special_tokens": false, "truncate_prompt_tokens": 1024, "truncation_side": "left"}

or one conversation that it renders with the served model's chat template::

    {"model": "...", "messages": [{"role": "user", "content": "..."}, ...], "use_activation": false}

and answers ``{"data": [{"index": 0, "probs": [<score>], "num_classes": 1, ...}, ...]}``.
``use_activation: false`` returns the classifier's raw output (a reward model's
reward); vLLM's default applies a sigmoid to a one-label model. Fields vLLM removed
(``normalize``, the ``score`` task) are not sent.

OpenRLHF's reward server (``openrlhf.cli.serve_rm``, the ``--reward.remote_url`` of
its trainer) takes ``{"query": ["<prompt + response as text>", ...]}`` and answers
``{"rewards": [...], "scores": [...], "extra_logs": {...}}``; ``labels`` carries each
sample's task as ``{"task": {...}}`` JSON, which a repo-sdk reward server reads.

A reader returns one float per prompt, or the problem with that prompt's value as
a string; a body that breaks the protocol raises :class:`~repo_sdk.remote.client.Unreadable`
(the client retries it).

Example:
    >>> wire = Wire("vllm", "tokens", model="rm", use_activation=False)
    >>> wire.url("http://gpu-box:8000/v1")
    'http://gpu-box:8000/classify'
    >>> wire.body([Prompt(ids=[1, 2, 3])])
    {'model': 'rm', 'input': [[1, 2, 3]], 'use_activation': False, 'add_special_tokens': False}
    >>> wire.read(b'{"data": [{"index": 0, "probs": [0.25], "num_classes": 1}]}', 1)
    [0.25]
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from repo_sdk.remote.client import Unreadable, snippet

__all__ = ["Prompt", "Wire"]


@dataclass
class Prompt:
    """What is sent for one sample: token ids, text, or chat messages (by the wire's input)."""

    ids: list[int] | None = None
    text: str | None = None
    messages: list[dict[str, str]] | None = None
    task: dict[str, Any] = field(default_factory=dict)


class Wire:
    """Request bodies and answer readers of one protocol and input.

    Args:
        protocol: ``vllm`` or ``openrlhf``.
        input: ``tokens``, ``text`` or ``messages``.
        model: the model name vLLM is asked for (None: the one it serves).
        use_activation: vLLM's ``use_activation``.
        add_special_tokens: whether vLLM adds the tokenizer's special tokens to text (not to a
            chat template's rendering, which carries its own).
        truncate_to: ask vLLM to keep the last N tokens of longer prompts (None: the prompts are cut here).
    """

    def __init__(
        self,
        protocol: Literal["vllm", "openrlhf"],
        input: Literal["tokens", "text", "messages"],
        *,
        model: str | None = None,
        use_activation: bool = False,
        add_special_tokens: bool = False,
        truncate_to: int | None = None,
    ) -> None:
        self.protocol, self.input, self.model = protocol, input, model
        self.use_activation, self.add_special_tokens, self.truncate_to = use_activation, add_special_tokens, truncate_to

    @property
    def one_per_request(self) -> bool:
        """vLLM's chat form takes one conversation per request."""
        return self.input == "messages"

    def url(self, base_url: str) -> str:
        """The endpoint: ``<server root>/classify`` (vLLM serves it outside ``/v1``) or ``.../get_reward``."""
        url = base_url.rstrip("/")
        path = "/classify" if self.protocol == "vllm" else "/get_reward"
        if url.endswith(path):
            return url
        if self.protocol == "vllm" and url.endswith("/v1"):
            url = url[: -len("/v1")]
        return url + path

    def body(self, prompts: list[Prompt]) -> dict[str, Any]:
        """The request body for these prompts (one, in the messages form)."""
        if self.protocol == "openrlhf":
            return {"query": [p.text for p in prompts], "labels": [json.dumps({"task": p.task}) for p in prompts]}
        body: dict[str, Any] = {"model": self.model} if self.model else {}
        if self.input == "messages":
            (prompt,) = prompts
            body["messages"] = prompt.messages
        else:
            body["input"] = [p.ids for p in prompts] if self.input == "tokens" else [p.text for p in prompts]
            body["add_special_tokens"] = self.add_special_tokens if self.input == "text" else False
        body["use_activation"] = self.use_activation
        body = {k: body[k] for k in ("model", "input", "messages", "use_activation", "add_special_tokens") if k in body}
        if self.truncate_to is not None:
            body |= {"truncate_prompt_tokens": self.truncate_to, "truncation_side": "left"}
        return body

    def read(self, raw: bytes, n: int) -> list[float | str]:
        """One value (or the problem with it) per prompt, in order."""
        try:
            answer = json.loads(raw)
        except ValueError:
            raise Unreadable(f"not JSON: {snippet(raw)}") from None
        values = _vllm_values(answer) if self.protocol == "vllm" else _openrlhf_values(answer)
        if len(values) != n:
            raise Unreadable(f"{len(values)} values for {n} prompts: {snippet(raw)}")
        return values


def _vllm_values(answer: Any) -> list[float | str]:
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise Unreadable(f"no data list in {snippet(json.dumps(answer).encode())}")
    try:
        data = sorted(data, key=lambda d: int(d["index"]))
    except (KeyError, TypeError, ValueError):
        raise Unreadable("a data item without an integer index") from None
    if [int(d["index"]) for d in data] != list(range(len(data))):
        raise Unreadable("data indices are not 0..n-1")
    out: list[float | str] = []
    for item in data:
        probs = item.get("probs")
        if not isinstance(probs, list) or len(probs) != 1:
            size = len(probs) if isinstance(probs, list) else probs
            out.append(f"the served model gives {size!r} values per input; a reward model gives one (num_labels=1)")
            continue
        out.append(_number(probs[0]))
    return out


def _openrlhf_values(answer: Any) -> list[float | str]:
    rewards = answer.get("rewards") if isinstance(answer, dict) else None
    if not isinstance(rewards, list):
        raise Unreadable(f"no rewards list in {snippet(json.dumps(answer).encode())}")
    # a value head may answer [r] per query instead of r
    return [_number(r[0] if isinstance(r, list) and len(r) == 1 else r) for r in rewards]


def _number(value: Any) -> float | str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"the server returned {value!r} as a reward"
    value = float(value)
    if math.isnan(value):
        return "reward model returned NaN"
    if math.isinf(value):
        return f"reward model returned {value}"
    return value
