"""What the fake judge answers: a deterministic default responder, the completion body, faults.

The default responder answers like a well-behaved judge:

- pointwise: a score drawn from a hash of the prompt, inside the range of the
  request's JSON schema (``response_format``) or 1..5, with a deduction per point
  lost;
- pairwise (the prompt holds ``<reply_A>`` and ``<reply_B>``): the longer reply
  wins, equal lengths tie, so swapping positions gives consistent verdicts;
- a request for ``logprobs`` (the probability modes): next-token logprobs over the
  digits 1-5 (after a ``Score:`` prefill) or ``yes`` / ``no``, peaked on a digit or
  answer drawn from a hash of the prompt.

A responder returns the reply text, or a mapping ``{token: logprob}`` that the
completion carries as the first token's ``top_logprobs`` (its most likely token is
the reply text).

Example:
    >>> body = {"messages": [{"role": "user", "content": "<reply_A>hi</reply_A><reply_B>hello</reply_B>"}]}
    >>> default_responder(body)
    '{"winner": "B", "reason": "fake judge: the longer reply wins"}'
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FAULTS", "FaultPlan", "completion_body", "default_responder", "prompt_text", "schema_range", "unit"]

FAULTS = ("timeout", "error_500", "rate_limit", "malformed", "truncated", "bad_body", "disconnect", "slow")
_REPLY = re.compile(r"<reply_(A|B)>\n?(.*?)\n?</reply_\1>", re.DOTALL)


def prompt_text(body: dict[str, Any]) -> str:
    """All message contents of a chat request, joined."""
    return "\n".join(str(m.get("content", "")) for m in body.get("messages", []) if isinstance(m, dict))


def schema_range(body: dict[str, Any]) -> tuple[int, int]:
    """The score range the request's JSON schema allows (1..5 when it gives none)."""
    fmt = body.get("response_format") or {}
    schema = fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema") or {}
    score = (schema.get("properties") or {}).get("score") or {}
    return int(score.get("minimum", 1)), int(score.get("maximum", 5))


def default_responder(body: dict[str, Any]) -> str | dict[str, float]:
    """A deterministic, well-formed verdict for a chat request (see the module docs)."""
    text = prompt_text(body)
    users = [m for m in body.get("messages", []) if isinstance(m, dict) and m.get("role") == "user"]
    user = str(users[-1].get("content", "")) if users else text  # the system message names the fences too
    if body.get("logprobs"):
        messages = body.get("messages") or [{}]
        prefill = str(messages[-1].get("content", "")) if messages[-1].get("role") == "assistant" else ""
        labels = [" yes", " no"] if prefill.rstrip().endswith("Answer:") else [str(i) for i in range(1, 6)]
        digest = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
        peak = labels[digest % len(labels)]
        return {token: (-0.2 if token == peak else -2.5) for token in labels} | {"The": -4.0}
    replies = dict(_REPLY.findall(user))
    if "A" in replies and "B" in replies:
        a, b = len(replies["A"]), len(replies["B"])
        winner = "A" if a > b else "B" if b > a else "tie"
        return json.dumps({"winner": winner, "reason": "fake judge: the longer reply wins"})
    lo, hi = schema_range(body)
    digest = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
    score = lo + digest % (hi - lo + 1)
    deductions = [{"criterion": "fake criterion", "points": hi - score, "reason": "fake"}] if score < hi else []
    return json.dumps({"score": score, "deductions": deductions, "reason": "fake judge"})


def completion_body(request: dict[str, Any], answer: str | dict[str, float]) -> bytes:
    """An OpenAI ``chat.completion`` response body carrying ``answer`` (text, or next-token logprobs)."""
    choice: dict[str, Any] = {"index": 0, "finish_reason": "stop"}
    if isinstance(answer, dict):
        top = sorted(answer.items(), key=lambda kv: -kv[1])[: int(request.get("top_logprobs") or 20)]
        text = top[0][0] if top else ""
        first = {"token": text, "logprob": top[0][1] if top else 0.0,
                 "top_logprobs": [{"token": t, "logprob": lp} for t, lp in top]}  # fmt: skip
        choice["logprobs"] = {"content": [first]}
        choice["finish_reason"] = "length"
    else:
        text = answer
    choice["message"] = {"role": "assistant", "content": text}
    return json.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": request.get("model") or "fake-judge",
            "choices": [choice],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }
    ).encode()


class FaultPlan(BaseModel):
    """Fractions of requests that get each fault (the rest are answered normally).

    ``permanent`` is the fraction of distinct prompts that always get HTTP 500, so
    some items must end as None after their retries.
    """

    model_config = ConfigDict(extra="forbid")

    timeout: float = Field(0.0, ge=0, le=1, description="hang for hang_s, past the client's timeout")
    error_500: float = Field(0.0, ge=0, le=1)
    rate_limit: float = Field(0.0, ge=0, le=1, description="429 with Retry-After: retry_after_s")
    malformed: float = Field(0.0, ge=0, le=1, description="a reply with no verdict in it")
    truncated: float = Field(0.0, ge=0, le=1, description="the verdict JSON cut short")
    bad_body: float = Field(0.0, ge=0, le=1, description="HTTP 200 with a body that is not JSON")
    disconnect: float = Field(0.0, ge=0, le=1, description="the connection dropped mid-response")
    slow: float = Field(0.0, ge=0, le=1, description="a valid answer after slow_s")
    permanent: float = Field(0.0, ge=0, le=1)
    hang_s: float = 30.0
    slow_s: float = 0.5
    retry_after_s: float = 0.05
    seed: int = 0

    def draw(self, digest: bytes, attempt: int) -> str | None:
        """The fault for this request (body digest, n-th time seen), or None."""
        if self.permanent and unit(self.seed, digest, -1) < self.permanent:
            return "error_500"
        u, edge = unit(self.seed, digest, attempt), 0.0
        for name in FAULTS:
            edge += getattr(self, name)
            if u < edge:
                return name
        return None


def unit(seed: int, digest: bytes, n: int) -> float:
    """A reproducible number in [0, 1) from a request digest and a counter."""
    h = hashlib.blake2b(digest + f"|{seed}|{n}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2**64
