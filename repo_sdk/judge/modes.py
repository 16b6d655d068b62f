"""How the judge is asked for its verdict, per scoring mode: what ends the prompt and how the answer is read.

Templates hold the rubric and the fenced data; the mode adds the question at the
end of the user message (after the data, so it is the last thing the judge reads)
and, in the probability modes, the start of the judge's answer:

- ``text``: "Answer with one JSON object ..."; the judge writes a JSON verdict
  (constrained by the verdict's JSON schema by default), read by
  :mod:`repo_sdk.judge.verdict`.
- ``logprobs``: "Answer with the score only ..."; the judge's answer is prefilled
  with ``Score: `` so the score is the next token it writes, one token is
  generated, and the value is the expected score under the probabilities the
  server returns for the allowed score tokens (``top_logprobs``). No sampling
  noise, no parsing, and a graded value even from a model whose greedy answer is
  always the same digit.
- ``checklist``: one yes/no question per rubric item ("Does the reply break this
  rubric item?"), read the same way from the probabilities of ``yes`` and ``no``;
  the score is the top of the scale minus the expected share of items broken.

Example:
    >>> from repo_sdk.judge.templates import load_template
    >>> from repo_sdk.templates_builtin import templates_dir
    >>> t = load_template(templates_dir() / "judges" / "pointwise.j2")
    >>> [q.prefill for q in questions(t, "logprobs", t.parameters({}))]
    ['Score: ']
    >>> read_logprobs([["5", -0.4], [" 4", -1.2], ["The", -3.0]], score_labels((1, 5))).value
    4.69
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from repo_sdk.judge.templates import JudgeTemplate
from repo_sdk.judge.verdict import VerdictError

__all__ = [
    "MIN_MASS",
    "Distribution",
    "Mode",
    "Question",
    "checklist_items",
    "questions",
    "read_logprobs",
    "score_labels",
]

Mode = Literal["text", "logprobs", "checklist"]

#: below this share of the next-token probability on the allowed answers, the answer is unreadable
MIN_MASS = 0.05
TOP_LOGPROBS = 20  # the most vLLM and OpenAI return by default

YES_NO = {"yes": 1.0, "no": 0.0}
_POINTWISE_JSON = (
    'Answer with one JSON object and nothing else: {{"score": <{what} from {lo:g} (worst) to {hi:g} (best)>, '
    '"deductions": [{{"criterion": "<rubric item>", "points": <number>, "reason": "<why, quoting the reply>"}}], '
    '"reason": "<one sentence>"}}'
)
_PAIRWISE_JSON = (
    'Answer with one JSON object and nothing else: {"winner": "A", "B" or "tie", "reason": "<one sentence>"}'
)


@dataclass(frozen=True)
class Question:
    """The end of one judge prompt: the instruction after the data, the answer's start, the readable answers."""

    instruction: str
    prefill: str | None = None
    labels: Mapping[str, float] | None = None  # probability modes: answer token (stripped, lower case) -> value
    item: str | None = None  # checklist: the rubric item asked about

    def apply(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        """``messages`` with the instruction appended to the last user message and the prefill after it."""
        out = [dict(m) for m in messages]
        out[-1]["content"] = f"{out[-1]['content']}\n\n{self.instruction}".strip()
        if self.prefill is not None:
            out.append({"role": "assistant", "content": self.prefill})
        return out


def score_labels(scale: tuple[float, float]) -> dict[str, float]:
    """The score tokens of a scale: one digit per whole score (the logprobs mode needs 0-9).

    Raises:
        ValueError: the scale is not whole numbers within 0-9 (``10`` is two tokens in most vocabularies).
    """
    lo, hi = scale
    if not (float(lo).is_integer() and float(hi).is_integer() and 0 <= lo < hi <= 9):
        raise ValueError(f"mode logprobs needs a scale of whole numbers within 0-9 (got [{lo:g}, {hi:g}])")
    return {str(i): float(i) for i in range(int(lo), int(hi) + 1)}


def checklist_items(params: Mapping[str, Any]) -> list[str]:
    """The rubric items of the ``criteria`` parameter (a mapping name -> description, or a list).

    Raises:
        ValueError: the template has no usable ``criteria`` parameter.
    """
    criteria = params.get("criteria")
    if isinstance(criteria, Mapping) and criteria:
        return [f"{name}: {what}" for name, what in criteria.items()]
    if isinstance(criteria, Sequence) and not isinstance(criteria, str) and criteria:
        return [str(c) for c in criteria]
    raise ValueError("mode checklist needs the template's rubric items in a 'criteria' parameter (a list or a mapping)")


def questions(template: JudgeTemplate, mode: Mode, params: Mapping[str, Any]) -> list[Question]:
    """The questions one item is asked in ``mode`` (one, or one per rubric item in ``checklist``).

    Raises:
        ValueError: the mode does not fit the template (pairwise with a probability mode, a scale
            that is not single digits, no rubric items for a checklist).
    """
    if template.kind == "pairwise":
        if mode != "text":
            raise ValueError(f"mode {mode} needs a pointwise template ({template.name!r} is pairwise)")
        return [Question(_PAIRWISE_JSON)]
    lo, hi = template.scale
    if mode == "text":
        whole = float(lo).is_integer() and float(hi).is_integer()
        return [Question(_POINTWISE_JSON.format(what="a whole number" if whole else "a number", lo=lo, hi=hi))]
    if mode == "logprobs":
        instruction = f"Answer with the score only: one digit from {lo:g} (worst) to {hi:g} (best)."
        return [Question(instruction, "Score: ", score_labels(template.scale))]
    return [
        Question(f"Rubric item: {item}\nDoes the reply break this rubric item? Answer yes or no.", "Answer:",
                 YES_NO, item)
        for item in checklist_items(params)
    ]  # fmt: skip


@dataclass(frozen=True)
class Distribution:
    """What the judge's next-token probabilities say: the expected value and the probability mass read."""

    value: float
    mass: float
    probs: dict[str, float]


def read_logprobs(top: Sequence[Sequence[Any]], labels: Mapping[str, float]) -> Distribution:
    """The expected value of ``labels`` under the next-token ``top`` logprobs ``[[token, logprob], ...]``.

    Tokens are matched after stripping whitespace and lower-casing (``" 5"`` and ``"5"``,
    ``" Yes"`` and ``"yes"`` are one answer); probabilities are renormalised over the answers.

    Raises:
        VerdictError: no logprobs, or less than :data:`MIN_MASS` of the probability on the answers.
    """
    mass: dict[str, float] = {}
    for token, logprob in top:
        key = str(token).strip().lower()
        if key in labels:
            mass[key] = mass.get(key, 0.0) + math.exp(float(logprob))
    total = sum(mass.values())
    if total < MIN_MASS:
        shown = ", ".join(f"{t!r}" for t, _ in list(top)[:5]) or "none"
        raise VerdictError(
            f"the judge put {total:.0%} of its next-token probability on the allowed answers "
            f"{sorted(labels)} (its top tokens: {shown})"
        )
    value = sum(labels[k] * p for k, p in mass.items()) / total
    return Distribution(round(value, 4), round(total, 4), {k: round(p / total, 4) for k, p in sorted(mass.items())})


def encode_top(top: Sequence[Sequence[Any]]) -> str:
    """The answer text stored for a probability-mode request (its top logprobs as JSON)."""
    return json.dumps({"top_logprobs": [[str(t), float(lp)] for t, lp in top]}, ensure_ascii=False)


def decode_top(text: str) -> list[list[Any]]:
    """The top logprobs stored by :func:`encode_top`.

    Raises:
        VerdictError: the text is not such an answer.
    """
    try:
        top = json.loads(text)["top_logprobs"]
        return [[str(t), float(lp)] for t, lp in top]
    except (ValueError, KeyError, TypeError) as exc:
        raise VerdictError(f"no next-token logprobs in the judge's answer ({type(exc).__name__})") from None
