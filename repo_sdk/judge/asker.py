"""One judge request from prompt to verdict: cache, call (with retries), parse, re-ask.

Two cache layers, both in the same :class:`~repo_sdk.judge.cache.JudgeCache`:

- **requests** are keyed by template, rendered messages, model, sampling and sample
  index (the content address); a re-ask is a request of its own (the messages grow
  by the unreadable answer and the re-ask), so a replay makes no calls at all;
- **items** are keyed by everything the rendered messages are made from (template
  text, rubric parameters, task, shown history, response, reference, sample index,
  order) and hold the final answer, so a re-run of the same logs skips rendering
  and hashing the prompt. Only final answers are stored there (a verdict, or a
  verdict that stayed unreadable after the re-asks), never call failures, which
  are retried on the next run.

Example:
    >>> from repo_sdk.judge.templates import load_template
    >>> from repo_sdk.templates_builtin import templates_dir
    >>> asker = Asker(load_template(templates_dir() / "judges" / "pointwise.j2"), reask=1)
    >>> asker.parse('{"score": 5, "reason": "fine"}').score
    5.0
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from repo_sdk.judge.aggregate import Answer
from repo_sdk.judge.cache import JudgeCache, KeyMaker
from repo_sdk.judge.client import ChatClient, JudgeCallError
from repo_sdk.judge.prompts import Messages
from repo_sdk.judge.telemetry import CallStats, Telemetry
from repo_sdk.judge.templates import JudgeTemplate
from repo_sdk.judge.verdict import PairwiseVerdict, PointwiseVerdict, VerdictError, parse_pairwise, parse_pointwise

__all__ = ["Asker"]
_REASK = "Your answer could not be read ({error}). Reply with only the JSON object, like: {example}"
_EXAMPLES = {
    "pointwise": '{"score": 3, "reason": "...", "deductions": [{"criterion": "...", "points": 1, "reason": "..."}]}',
    "pairwise": '{"winner": "A", "reason": "..."}',
}


class Asker:
    """Runs judge requests to their end for one source (see the module docs).

    Args:
        template: the judge template (its kind and scale decide the parser).
        reask: re-asks after an unreadable answer.
        model: model name, part of every cache key.
        sampling: request fields besides model and messages, part of every cache key.
        seed: base seed; sample ``k`` is sent ``seed + k``.
        cache: the on-disk cache, or None.
        client: returns the chat client (called only when a request misses the cache).
        telemetry: counters of the source.
        item_salt: everything else that shapes the rendered prompt (rubric parameters, ...).
    """

    def __init__(
        self,
        template: JudgeTemplate,
        *,
        reask: int = 1,
        model: str = "",
        sampling: dict[str, Any] | None = None,
        seed: int | None = None,
        cache: JudgeCache | None = None,
        client: Callable[[], ChatClient] | None = None,
        telemetry: Telemetry | None = None,
        item_salt: str = "",
    ) -> None:
        self.template = template
        self.reask = reask
        self.model = model
        self.sampling = sampling or {}
        self.seed = seed if seed is not None else self.sampling.get("seed")
        self.cache = cache
        self.client = client
        self.tel = telemetry or Telemetry()
        self.request_key = KeyMaker(template.name, model, self.sampling)
        # the request body is the same but for messages and seed: encode the rest once
        self._head = '{"model": ' + json.dumps(model) + ', "messages": '
        self._tail = "".join(f", {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in self.sampling.items()
                             if k != "seed")  # fmt: skip
        self.item_key = KeyMaker(f"item:{template.name}", model, {**self.sampling, "salt": item_salt,
                                 "source": template.source, "reask": reask, "seed": seed})  # fmt: skip

    def parse(self, text: str) -> PointwiseVerdict | PairwiseVerdict:
        """The verdict in a judge reply; raises VerdictError."""
        if self.template.kind == "pointwise":
            return parse_pointwise(text, self.template.scale)
        return parse_pairwise(text)

    def _read(self, text: str, messages: Messages, attempt: int, stats: CallStats) -> tuple[Answer | None, Messages]:
        """Parse a reply; on failure give up (last attempt) or return the re-ask messages."""
        try:
            return Answer(self.parse(text), raw=text), messages
        except VerdictError as exc:
            stats.parse_failures += 1
            if attempt >= self.reask:
                return _unreadable(text, attempt, exc), messages
            reask = _REASK.format(error=exc, example=_EXAMPLES[self.template.kind])
            return None, [*messages, {"role": "assistant", "content": text}, {"role": "user", "content": reask}]

    def memo(self, item_key: str, stats: CallStats, entry: str | None = None) -> Answer | None:
        """The final answer stored for an item request (``entry``, if already fetched), or None."""
        assert self.cache is not None
        entry = self.cache.get(item_key) if entry is None else entry
        if entry is None:
            return None
        attempt, _, text = entry.partition("\n")
        stats.requests += 1
        stats.cache_hits += 1
        try:
            return Answer(self.parse(text), raw=text)
        except VerdictError as exc:
            stats.parse_failures += 1
            return _unreadable(text, int(attempt or 0), exc)

    def cached(self, messages: Messages, k: int, stats: CallStats) -> Answer | None:
        """The answer if the whole exchange (re-asks included) is in the request cache, else None."""
        assert self.cache is not None
        for attempt in range(self.reask + 1):
            text = self.cache.get(self.request_key(messages, k))
            if text is None:
                return None
            stats.cache_hits += 1
            stats.requests += 1
            answer, messages = self._read(text, messages, attempt, stats)
            if answer is not None:
                stats.reasks += attempt
                return answer
        return None  # pragma: no cover - _read answers on the last attempt

    async def ask(self, messages: Messages, k: int, stats: CallStats, item_key: str | None = None) -> Answer:
        """One request to its end: cache, call with retries, parse, re-ask; never raises for a bad call."""
        for attempt in range(self.reask + 1):
            key = self.request_key(messages, k) if self.cache is not None else ""
            text = self.cache.get(key) if self.cache is not None else None
            stats.requests += 1
            if text is not None:
                stats.cache_hits += 1
            else:
                assert self.client is not None, "no client to call on a cache miss"
                try:
                    result = await self.client().complete(self.payload(messages, k))
                except JudgeCallError as exc:
                    stats.calls += exc.calls
                    stats.retries += exc.retries
                    self.tel.errors += 1
                    return Answer(None, f"judge call failed: {exc.reason}", exc.kind)
                stats.calls += result.calls
                stats.retries += result.retries
                stats.latency_s += result.latency_s
                text = result.text
                if self.cache is not None:
                    self.cache.put(key, text)
            answer, messages = self._read(text, messages, attempt, stats)
            if answer is not None:
                stats.reasks += attempt
                if self.cache is not None and item_key is not None:
                    self.cache.put(item_key, f"{attempt}\n{text}")
                return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def payload(self, messages: Messages, k: int) -> bytes:
        """The chat-completion request body, JSON-encoded.

        Example:
            >>> import json
            >>> from repo_sdk.judge.templates import load_template
            >>> from repo_sdk.templates_builtin import templates_dir
            >>> t = load_template(templates_dir() / "judges" / "pointwise.j2")
            >>> body = Asker(t, model="m", sampling={"temperature": 0}, seed=7).payload([], 2)
            >>> json.loads(body)
            {'model': 'm', 'messages': [], 'temperature': 0, 'seed': 9}
        """
        seed = "" if self.seed is None else f', "seed": {self.seed + k}'
        body = self._head + json.dumps(messages, ensure_ascii=False) + self._tail + seed + "}"
        return body.encode("utf-8")


def _unreadable(text: str, attempt: int, exc: VerdictError) -> Answer:
    tries = f" after {attempt} re-ask(s)" if attempt else ""
    return Answer(None, f"unparseable verdict{tries}: {exc}", "parse", text)
