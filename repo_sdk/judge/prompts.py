"""What the judge is asked: request fields, rendered messages and item digests per sample.

Each item (sample) is asked in *slots*: ``(k, order)`` for ``k`` in
``range(n_samples)`` and, for pairwise templates, each order (``candidate_first``,
and ``reference_first`` when ``swap`` is on). Pointwise items have one order, None.
A slot is one question, or one per rubric item in the ``checklist`` mode
(:mod:`repo_sdk.judge.modes`): the template is rendered once and each question
appended to it.

Example:
    >>> from repo_sdk.judge.config import JudgeConfig
    >>> from repo_sdk.judge.templates import load_template
    >>> from repo_sdk.templates_builtin import templates_dir
    >>> t = load_template(templates_dir() / "judges" / "pairwise.j2")
    >>> Prompts(t, JudgeConfig(template="pairwise", n_samples=2, temperature=1), t.parameters({})).slots
    [(0, 'candidate_first'), (1, 'candidate_first'), (0, 'reference_first'), (1, 'reference_first')]
"""

from __future__ import annotations

import json
from typing import Any

from repo_sdk.judge.aggregate import ORDERS
from repo_sdk.judge.cache import KeyMaker
from repo_sdk.judge.config import JudgeConfig
from repo_sdk.judge.modes import TOP_LOGPROBS, Question, questions
from repo_sdk.judge.templates import JudgeTemplate
from repo_sdk.judge.verdict import pairwise_schema, pointwise_schema
from repo_sdk.types import Sample, Turn

__all__ = ["Messages", "NoReference", "Prompts", "sampling_params"]

Messages = list[dict[str, str]]


class NoReference(ValueError):
    """A pairwise item without its reference reply."""


#: text mode's default reply budget: more tokens than the longest verdict the schema allows has
#: characters (a 120-character reason, two deductions of 40 + 60 characters, keys and punctuation:
#: under 500), so a whole verdict fits even at one token per character; 128 cut off 77 of 102
#: verdicts of the embedded judge
TEXT_MAX_TOKENS = 600


def sampling_params(cfg: JudgeConfig, template: JudgeTemplate) -> dict[str, Any]:
    """The request fields besides model, messages and seed (part of every cache key).

    The probability modes generate one token, greedily, and ask for the next-token
    ``top_logprobs``; the prefilled answer is continued (``continue_final_message``,
    which vLLM needs and llama.cpp's server accepts).
    """
    if cfg.scoring_for(template.kind) != "text":
        greedy: dict[str, Any] = {"temperature": 0.0, "max_tokens": 1, "logprobs": True, "top_logprobs": TOP_LOGPROBS,
               "continue_final_message": True, "add_generation_prompt": False}  # fmt: skip
        return greedy | cfg.extra_body
    max_tokens = cfg.max_tokens or TEXT_MAX_TOKENS
    out: dict[str, Any] = {"temperature": cfg.temperature, "max_tokens": max_tokens}
    if cfg.top_p is not None:
        out["top_p"] = cfg.top_p
    if cfg.stop:
        out["stop"] = cfg.stop
    if cfg.json_mode == "schema":
        schema = pointwise_schema(template.scale) if template.kind == "pointwise" else pairwise_schema()
        out["response_format"] = {"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema}}
    elif cfg.json_mode == "object":
        out["response_format"] = {"type": "json_object"}
    return out | cfg.extra_body


class Prompts:
    """Renders a sample's judge requests and digests what they are rendered from.

    Args:
        template: the judge template.
        cfg: the source's config (history window, n_samples, pairwise options).
        params: the rubric parameters, defaults applied.
    """

    def __init__(self, template: JudgeTemplate, cfg: JudgeConfig, params: dict[str, Any]) -> None:
        self.template = template
        self.cfg = cfg
        self.params = params
        orders: tuple[str | None, ...] = (None,)
        if template.kind == "pairwise":
            orders = ORDERS if cfg.pairwise.swap else ORDERS[:1]
        self.slots: list[tuple[int, str | None]] = [(k, o) for o in orders for k in range(cfg.n_samples)]
        #: what each slot asks at the end of the rendered template
        self.questions: list[Question] = questions(template, cfg.scoring_for(template.kind), params)
        #: everything besides the sample that shapes the rendered prompt (for item cache keys)
        self.salt = _dumps([params, cfg.history_turns, cfg.pairwise.model_dump(), cfg.scoring_for(template.kind)])

    def window(self, sample: Sample) -> list[dict[str, Any]]:
        """The last ``history_turns`` turns of the history, as plain dicts.

        Each has ``role`` and ``content``; a tool turn adds ``name`` (the tool) and an
        assistant turn its ``tool_calls`` (``[{"name", "arguments"}]``, empty for none), so
        a template can fence tool output apart from what the agent said.
        """
        n = self.cfg.history_turns
        turns = sample.history if n is None else sample.history[len(sample.history) - n :] if n else []
        return [_turn_dict(t) for t in turns]

    def reference(self, sample: Sample) -> str | None:
        """The reference reply of a pairwise item (None for pointwise templates)."""
        if self.template.kind == "pointwise":
            return None
        key = self.cfg.pairwise.reference_key
        reference = sample.metadata.get(key)
        if not isinstance(reference, str):
            raise NoReference(f"no reference reply in sample.metadata[{key!r}] for the pairwise judge")
        return reference

    def requests(self, sample: Sample) -> list[list[Messages]]:
        """The rendered messages of each slot's questions.

        Raises:
            TemplateRenderError: the template failed on this sample.
            NoReference: a pairwise sample without its reference reply.
        """
        variables = {**self.params, "task": sample.task, "history": self.window(sample), "response": sample.response}
        reference = self.reference(sample)
        rendered: dict[str | None, Messages] = {}
        out = []
        for _, order in self.slots:
            if order not in rendered:
                if order is None:
                    rendered[order] = self.template.render(variables)
                else:
                    a, b = (sample.response, reference) if order == "candidate_first" else (reference, sample.response)
                    rendered[order] = self.template.render({**variables, "response_a": a, "response_b": b})
            out.append([q.apply(rendered[order]) for q in self.questions])
        return out

    def item_keys(self, sample: Sample, keys: KeyMaker) -> list[str]:
        """Item-level cache keys of each slot: a digest of what the prompt is rendered from."""
        try:
            reference = self.reference(sample)
        except NoReference:
            reference = None
        # a plain turn digests as [role, content] (as before tool turns existed: caches stay valid)
        window = [[t["role"], t["content"], *_tool_part(t)] for t in self.window(sample)]
        digest = _dumps([sample.task, window, sample.response, reference])
        return [keys.of(digest, str(k), order or "") for k, order in self.slots]


def _turn_dict(turn: Turn) -> dict[str, Any]:
    calls = [{"name": c.name, "arguments": c.arguments} for c in turn.tool_calls]
    return {"role": turn.role, "content": turn.content, "name": turn.name or "", "tool_calls": calls}


def _tool_part(turn: dict[str, Any]) -> list[Any]:
    return [turn["name"], turn["tool_calls"]] if turn["name"] or turn["tool_calls"] else []


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
