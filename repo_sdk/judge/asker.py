"""The judge's answer to one item, from the first of three places that has it: memo, cache, call.

1. **memo**: the item's final answer, stored by an earlier run under a key made of
   everything its prompt is rendered from (template text, rubric parameters, mode,
   task, shown history, response, reference, sample index, order): a re-run of the
   same logs reads it without rendering or hashing the prompt (:meth:`Asker.memo`,
   looked up for a whole batch in one query).
2. **cache**: each request's answer, keyed by scoring mode, template, rendered
   messages, model, sampling and sample index (the content address); a re-ask is a
   request of its own (the messages grow by the unreadable answer and the re-ask),
   so a replay makes no calls at all.
3. **call**: the judge server, with retries; an unreadable text answer is re-asked.

Steps 2 and 3 are one loop per question (:meth:`Asker.ask`): each attempt reads
the cache and calls only on a miss, so one answer comes from one path whether it
was cached or not. Both layers live in the same
:class:`~repo_sdk.judge.cache.JudgeCache`, and only readable answers are stored in
either: an unreadable answer (and a call failure) is asked again on the next run,
never replayed.

A slot asks one question (``text``, ``logprobs``) or one per rubric item
(``checklist``); see :mod:`repo_sdk.judge.modes`. Text answers that do not parse
are re-asked; the probability modes have nothing to re-ask (their answer is the
distribution, not a sample).

Example:
    >>> from repo_sdk.judge.templates import load_template
    >>> from repo_sdk.templates_builtin import templates_dir
    >>> asker = Asker(load_template(templates_dir() / "judges" / "pointwise.j2"), reask=1)
    >>> asker.parse('{"score": 5, "reason": "fine"}').score
    5.0
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from repo_sdk.judge.aggregate import Answer
from repo_sdk.judge.cache import JudgeCache, KeyMaker
from repo_sdk.judge.client import ChatClient, JudgeCallError
from repo_sdk.judge.modes import Mode, Question, decode_top, encode_top, questions, read_logprobs
from repo_sdk.judge.prompts import Messages
from repo_sdk.judge.telemetry import CallStats, Telemetry
from repo_sdk.judge.templates import JudgeTemplate
from repo_sdk.judge.verdict import (
    Deduction,
    PairwiseVerdict,
    PointwiseVerdict,
    VerdictError,
    parse_pairwise,
    parse_pointwise,
)

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
        reask: re-asks after an unreadable answer (text mode).
        mode: the scoring mode (part of every cache key).
        params: the rubric parameters (the checklist's items).
        model: model name, part of every cache key.
        sampling: request fields besides model and messages, part of every cache key.
        seed: base seed; sample ``k`` is sent ``seed + k``.
        cache: the on-disk cache, or None.
        telemetry: counters of the source.
        item_salt: everything else that shapes the rendered prompt (rubric parameters, ...).
    """

    def __init__(
        self,
        template: JudgeTemplate,
        *,
        reask: int = 1,
        mode: Mode = "text",
        params: dict[str, Any] | None = None,
        model: str = "",
        sampling: dict[str, Any] | None = None,
        seed: int | None = None,
        cache: JudgeCache | None = None,
        telemetry: Telemetry | None = None,
        item_salt: str = "",
    ) -> None:
        self.template = template
        self.mode = mode
        self.questions = questions(template, mode, params if params is not None else template.parameters({}))
        self.reask = reask if mode == "text" else 0
        self.model = model
        self.sampling = sampling or {}
        self.seed = seed if seed is not None else self.sampling.get("seed")
        self.cache = cache
        self.tel = telemetry or Telemetry()
        self.request_key = KeyMaker(template.name, model, self.sampling, mode)
        # the request body is the same but for messages and seed: encode the rest once
        self._head = '{"model": ' + json.dumps(model) + ', "messages": '
        self._tail = "".join(f", {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in self.sampling.items()
                             if k != "seed")  # fmt: skip
        self.item_key = KeyMaker(f"item:{template.name}", model, {**self.sampling, "salt": item_salt,
                                 "source": template.source, "reask": reask, "seed": seed}, mode)  # fmt: skip

    def parse(self, text: str, question: Question | None = None) -> PointwiseVerdict | PairwiseVerdict:
        """The verdict in one answer to ``question`` (default: the first); raises VerdictError."""
        question = question or self.questions[0]
        if question.labels is not None:
            dist = read_logprobs(decode_top(text), question.labels)
            shown = ", ".join(f"{k}: {p:.2f}" for k, p in dist.probs.items())
            return PointwiseVerdict(score=dist.value, reason=f"expected score; P({shown})", method="logprobs")
        if self.template.kind == "pointwise":
            return parse_pointwise(text, self.template.scale)
        return parse_pairwise(text)

    def combine(self, texts: Sequence[str]) -> PointwiseVerdict | PairwiseVerdict:
        """The verdict of a slot from its answers (one per question); raises VerdictError."""
        if self.mode != "checklist":
            return self.parse(texts[0])
        lo, hi = self.template.scale
        broken = [_p_yes(self.parse(t, q)) for t, q in zip(texts, self.questions, strict=True)]
        share = (hi - lo) / len(broken)
        deductions = [Deduction(criterion=q.item or "", points=round(p * share, 4), reason=f"P(breaks) = {p:.2f}")
                      for q, p in zip(self.questions, broken, strict=True) if p * share >= 0.005]  # fmt: skip
        score = round(hi - sum(p * share for p in broken), 4)
        return PointwiseVerdict(score=score, deductions=deductions, reason="checklist: top of the scale minus the "
                                "expected share of rubric items broken", method="checklist")  # fmt: skip

    def memo(self, item_key: str, stats: CallStats, entry: str | None = None) -> Answer | None:
        """The final answer stored for an item request (``entry``, if already fetched), or None.

        An entry that no longer reads (the parser grew stricter) counts as a miss: it is asked again.
        """
        assert self.cache is not None
        entry = self.cache.get(item_key) if entry is None else entry
        if entry is None:
            return None
        _, _, text = entry.partition("\n")  # "<re-asks>\n<answer>"
        try:
            texts = json.loads(text)["answers"] if self.mode == "checklist" else [text]
            verdict = self.combine(texts)
        except (VerdictError, ValueError, KeyError, TypeError):
            return None
        stats.requests += len(texts)
        stats.cache_hits += len(texts)
        return Answer(verdict, raw=text)

    async def ask(
        self, requests: Sequence[Messages], k: int, stats: CallStats, client: ChatClient, item_key: str | None = None
    ) -> Answer:
        """One slot to its end: each question from the cache or a call (steps 2 and 3), read, re-asked.

        Args:
            requests: the slot's rendered messages, one per question.
            k: the sample index (its seed and part of the cache key).
            stats: the item's counters.
            client: the chat client, called on a cache miss only.
            item_key: where to store the slot's final answer (the memo), or None.

        Returns:
            The slot's answer; a failed call or an unreadable answer is an Answer without a verdict
            (never raised).
        """
        if len(requests) == 1:
            answers = [await self._ask_one(requests[0], k, stats, self.questions[0], client)]
        else:
            asked = zip(requests, self.questions, strict=True)
            answers = list(await asyncio.gather(*(self._ask_one(m, k, stats, q, client) for m, q in asked)))
        if failed := next((a for a in answers if a.verdict is None), None):
            return failed
        texts = [a.raw for a in answers]
        try:
            verdict = self.combine(texts)
        except VerdictError as exc:  # pragma: no cover - each answer was read already
            return _unreadable(texts[0], 0, exc)
        raw = texts[0] if len(texts) == 1 else json.dumps({"answers": texts}, ensure_ascii=False)
        if self.cache is not None and item_key is not None:
            self.cache.put(item_key, f"{stats.reasks}\n{raw}")
        return Answer(verdict, raw=raw)

    async def _ask_one(
        self, messages: Messages, k: int, stats: CallStats, question: Question, client: ChatClient
    ) -> Answer:
        """One question: cache, else call with retries; parse; re-ask; readable answers alone are cached."""
        for attempt in range(self.reask + 1):
            key = self.request_key(messages, k) if self.cache is not None else ""
            text = self.cache.get(key) if self.cache is not None else None
            stats.requests += 1
            if text is not None:
                stats.cache_hits += 1
            else:
                try:
                    result = await client.complete(self.payload(messages, k))
                except JudgeCallError as exc:
                    stats.calls += exc.calls
                    stats.retries += exc.retries
                    self.tel.errors += 1
                    return Answer(None, f"judge call failed: {exc.reason}", exc.kind)
                stats.calls += result.calls
                stats.retries += result.retries
                stats.latency_s += result.latency_s
                if question.labels is not None:
                    if result.top_logprobs is None:
                        stats.parse_failures += 1
                        why = f"the judge server returned no logprobs (mode {self.mode} needs top_logprobs)"
                        return Answer(None, why, "parse")
                    text = encode_top(result.top_logprobs)
                else:
                    text = result.text
                    stats.truncated += result.finish_reason == "length"
            try:
                verdict = self.parse(text, question)
            except VerdictError as exc:
                stats.parse_failures += 1
                if attempt >= self.reask:
                    return _unreadable(text, attempt, exc)
                reask = _REASK.format(error=exc, example=_EXAMPLES[self.template.kind])
                messages = [*messages, {"role": "assistant", "content": text}, {"role": "user", "content": reask}]
                continue
            if self.cache is not None:
                self.cache.put(key, text)
            stats.reasks += attempt
            return Answer(verdict, raw=text)
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


def _p_yes(verdict: PointwiseVerdict | PairwiseVerdict) -> float:
    """A checklist question's answer: P(yes), read as a pointwise verdict by :meth:`Asker.parse`."""
    assert isinstance(verdict, PointwiseVerdict), "checklist questions are read by their labels"
    return verdict.score
