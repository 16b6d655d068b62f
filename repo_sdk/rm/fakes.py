"""A fake RM server on loopback: vLLM's ``POST /classify`` and OpenRLHF's ``POST /get_reward``.

For tests and benchmarks of the remote RM. A ``scorer`` gives each prompt's raw
reward; with a ``tokenizer`` the server turns text into token ids as vLLM does (the
chat template for ``messages``, ``add_special_tokens`` as asked, ``truncate_prompt_tokens``
from the side asked) and as OpenRLHF's ``serve_rm`` does (no special tokens added, cut
on the right at ``max_model_len``), so a scorer that runs a real model gives the
numbers those servers would. ``max_model_len`` makes an over-long vLLM request fail
with HTTP 400, as vLLM does. ``validate(kind, body)`` checks request and response
bodies (tests pass vLLM's own pydantic classes); raising ``ValueError`` answers 400.
``script(body, seen) -> fault`` injects ``error_500``, ``error_400``, ``timeout``,
``bad_body``, ``wrong_count`` or ``disconnect``; ``labels`` sets how many values each
input gets (a classifier that is no reward model).

Example:
    >>> import httpx
    >>> with FakeRMServer(scorer=lambda prompt: len(prompt) / 10) as server:
    ...     r = httpx.post(server.url + "/classify", json={"input": ["abc", "abcdef"], "use_activation": False})
    >>> [d["probs"] for d in r.json()["data"]]
    [[0.3], [0.6]]
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from repo_sdk.remote.loopback import LoopbackServer, write_response

__all__ = ["FakeRMServer", "hash_scorer"]

Scorer = Callable[[Any], float]


def hash_scorer(prompt: Any) -> float:
    """A stable reward in [-3, 3] from the prompt's content (text or token ids)."""
    digest = hashlib.sha256(json.dumps(prompt).encode("utf-8")).digest()
    return round(int.from_bytes(digest[:4], "big") / 2**32 * 6 - 3, 6)


class FakeRMServer(LoopbackServer):
    """The fake RM server (see the module docs). ``stats`` counts requests and faults; ``bodies`` keeps them."""

    def __init__(
        self,
        scorer: Scorer = hash_scorer,
        *,
        tokenizer: Any = None,
        max_model_len: int | None = None,
        labels: int = 1,
        latency_s: float = 0.0,
        validate: Callable[[str, dict[str, Any]], None] | None = None,
        script: Callable[[dict[str, Any], int], str | None] | None = None,
        model_name: str = "fake-rm",
    ) -> None:
        super().__init__()
        self.scorer, self.tokenizer, self.max_model_len, self.labels = scorer, tokenizer, max_model_len, labels
        self.latency_s, self.validate, self.script, self.model_name = latency_s, validate, script, model_name
        self.stats: Counter[str] = Counter()
        self.bodies: deque[dict[str, Any]] = deque(maxlen=1000)
        self.headers: deque[dict[str, str]] = deque(maxlen=1000)
        self._seen: Counter[bytes] = Counter()

    async def answer(
        self, writer: asyncio.StreamWriter, method: str, path: str, raw: bytes, headers: dict[str, str]
    ) -> bool:
        path = path.rstrip("/")
        if method == "GET" and path in ("/health", "/v1/models"):
            return await write_response(writer, 200, json.dumps({"data": [{"id": self.model_name}]}).encode())
        if method != "POST" or path not in ("/classify", "/get_reward"):
            return await write_response(writer, 404, b'{"detail": "Not Found"}')
        self.stats["requests"] += 1
        self.headers.append(headers)
        digest = hashlib.blake2b(raw, digest_size=16).digest()
        seen = self._seen[digest]
        self._seen[digest] += 1
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return await _error(writer, 400, "request body is not JSON")
        self.bodies.append(body)
        fault = self.script(body, seen) if self.script else None
        if fault:
            self.stats[fault] += 1
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if fault == "timeout":
            await asyncio.sleep(3600)
        if fault == "disconnect":
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"da')
            await writer.drain()
            return False
        if fault in ("error_500", "error_400"):
            return await _error(writer, int(fault[-3:]), f"injected {fault}")
        if fault == "bad_body":
            return await write_response(writer, 200, b"<html>502 Bad Gateway</html>")
        try:
            if self.validate is not None:
                self.validate(path.lstrip("/"), body)
            answer = self._classify(body) if path == "/classify" else self._get_reward(body)
            if self.validate is not None and path == "/classify":
                self.validate("classify_response", answer)
        except ValueError as exc:
            return await _error(writer, 400, str(exc))
        if fault == "wrong_count":
            key = "data" if path == "/classify" else "rewards"
            answer[key] = answer[key][:-1]
        return await write_response(writer, 200, json.dumps(answer).encode())

    # -- vLLM ------------------------------------------------------------------------------------

    def _classify(self, body: dict[str, Any]) -> dict[str, Any]:
        if "normalize" in body:
            raise ValueError("Parameter `normalize` was removed; use `use_activation` instead.")
        if "messages" in body:
            prompts = [self._render(body["messages"], body.get("add_special_tokens", False))]
        else:
            items = body.get("input")
            if isinstance(items, str) or (isinstance(items, list) and items and isinstance(items[0], int)):
                items = [items]
            if not isinstance(items, list) or not items:
                raise ValueError("input must be text, token ids or a list of them")
            prompts = [self._tokens(p, body.get("add_special_tokens", True)) for p in items]
        keep, side = body.get("truncate_prompt_tokens"), body.get("truncation_side") or "right"
        if keep is not None and keep >= 0:
            prompts = [p[-keep:] if side == "left" else p[:keep] for p in prompts]
        for p in prompts:
            if self.max_model_len is not None and len(p) > self.max_model_len:
                raise ValueError(f"This model's maximum context length is {self.max_model_len} tokens. However, "
                                 f"your request has {len(p)} input tokens.")  # fmt: skip
        raw = [self.scorer(p) for p in prompts]
        activate = body.get("use_activation") is not False  # vLLM's default applies the activation
        data = []
        for index, value in enumerate(raw):
            probs = [value + k for k in range(self.labels)]
            probs = [_sigmoid(v) for v in probs] if activate else probs
            data.append({"index": index, "label": "LABEL_0", "probs": probs, "num_classes": len(probs)})
        tokens = sum(len(p) for p in prompts)
        return {
            "id": f"classify-{self.stats['requests']}", "object": "list", "created": int(time.time()),
            "model": body.get("model") or self.model_name, "data": data,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens, "completion_tokens": 0,
                      "prompt_tokens_details": None, "completion_tokens_details": None},
        }  # fmt: skip

    def _render(self, messages: list[dict[str, Any]], add_special_tokens: bool) -> Any:
        if self.tokenizer is not None and getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
            return self._tokens(text, add_special_tokens)
        return self._tokens("\n".join(f"{m['role']}: {m['content']}" for m in messages), True)

    def _tokens(self, prompt: Any, add_special_tokens: bool) -> Any:
        """Token ids as the server sees them (text stays text without a tokenizer)."""
        if isinstance(prompt, str) and self.tokenizer is not None:
            return list(self.tokenizer(prompt, add_special_tokens=add_special_tokens)["input_ids"])
        return prompt

    # -- OpenRLHF --------------------------------------------------------------------------------

    def _get_reward(self, body: dict[str, Any]) -> dict[str, Any]:
        queries = body.get("query")
        if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
            raise ValueError("query must be a list of strings")
        prompts = [self._tokens(q, False) for q in queries]  # serve_rm: add_special_tokens=False
        if self.max_model_len is not None:  # ... truncation=True on the right at --data.max_len
            prompts = [p[: self.max_model_len] for p in prompts]
        rewards = [self.scorer(p) for p in prompts]
        return {"rewards": rewards, "scores": rewards, "extra_logs": {"dummy_scores": rewards}}


async def _error(writer: asyncio.StreamWriter, status: int, message: str) -> bool:
    """vLLM's error body (ErrorResponse)."""
    body = {"error": {"message": message, "type": "BadRequestError" if status < 500 else "InternalServerError",
                      "param": None, "code": status}}  # fmt: skip
    return await write_response(writer, status, json.dumps(body).encode())


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
