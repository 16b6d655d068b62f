"""A RewardResult as an inspect_ai Score: the reward, a one-line explanation, the breakdown as metadata.

- ``value``: the combined reward (a float).
- ``explanation``: one line, e.g. ``reward 0.03282 | rm 0.08204, judge 2, rules -35 | E -60, E_judge -25,
  E_rules -35, multiplier 0.4 | fired: max_length -35``.
- ``metadata``: the row ``repo-sdk score`` writes for the turn (:class:`repo_sdk.rows.TurnRow`) without
  the reply: ``reward``, ``sources`` (each source's value), ``fired`` (rule hits with
  points, reason, span and evidence), ``reasons``, ``details``, ``combiner`` (``E``, ``E_judge``,
  ``E_rules``, ``multiplier`` under REPO), ``sample_id``; plus ``spec`` (the reward's name) and
  ``scored`` (what was scored: ``history_turns``, ``reply_chars``, ``tool_calls``).
- ``answer``: the scored reply, clipped to 500 characters.

No reward (the combiner's missing-source policy gave None, or the sample could not be scored) is
never 0 by accident: ``missing`` decides the value, and ``reason`` / ``explanation`` say why.

- ``"unscored"`` (default): ``Score.unscored``, a NaN value that inspect's metrics and reducers skip;
- ``"noanswer"``: inspect's ``NOANSWER`` (``"N"``), which ``mean()`` counts as 0;
- a number: that value.

Example:
    >>> from repo_sdk.types import RewardResult, RuleHit, SourceScore
    >>> hit = RuleHit(rule="cot_leak", points=-10, reason="reasoning block", evidence="<think>")
    >>> r = RewardResult(reward=-0.1, sources={"rules": SourceScore(value=-10, details={"hits": [hit]})},
    ...                  fired=[hit], details={"E": -10.0, "multiplier": 0.9})
    >>> from repo_sdk.testing import make_sample
    >>> s = result_score(make_sample(response="<think>x</think>Hi"), r, name="negotiation")
    >>> s.value, s.explanation
    (-0.1, 'reward -0.1 | rules -10 | E -10, multiplier 0.9 | fired: cot_leak -10')
    >>> s.metadata["sources"], s.metadata["fired"][0]["evidence"]
    ({'rules': -10.0}, '<think>')
    >>> missing_score("rules: not applicable", "unscored").reason
    'no_reward'
"""

from __future__ import annotations

import math
from typing import Any, Literal

from inspect_ai.scorer import NOANSWER, Score

from repo_sdk.scoring import turn_row
from repo_sdk.types import RewardResult, Sample

__all__ = ["Missing", "explanation", "missing_score", "result_score"]

Missing = Literal["unscored", "noanswer"] | float


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.4g}"


def _one_line(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def explanation(result: RewardResult) -> str:
    """One line: reward, each source's value, the combiner's numbers, the rules that fired."""
    parts = [f"reward {_num(result.reward)}"]
    parts.append(", ".join(f"{n} {_num(s.value)}" for n, s in result.sources.items()))
    numbers = [f"{k} {_num(v)}" for k, v in result.details.items() if isinstance(v, (int, float))]
    if numbers:
        parts.append(", ".join(numbers))
    if result.fired:
        parts.append("fired: " + ", ".join(f"{h.rule} {_num(h.points)}" for h in result.fired))
    if result.reward is None:
        reasons = [f"{n}: {s.reason}" for n, s in result.sources.items() if s.value is None and s.reason]
        parts.append("no reward: " + ("; ".join(reasons) or "the combiner gave none"))
    return _one_line(" | ".join(parts), limit=400)


def _value(missing: Missing) -> float | str | None:
    if missing == "unscored":
        return None
    if missing == "noanswer":
        return NOANSWER
    return float(missing)


def missing_score(
    why: str, missing: Missing, *, reason: str = "no_reward", metadata: dict[str, Any] | None = None
) -> Score:
    """The Score of a sample without a reward, valued by the ``missing`` policy."""
    value = _value(missing)
    text = _one_line(why, limit=400)
    if value is None:
        return Score.unscored(reason=reason, explanation=text, metadata=metadata)
    return Score(value=value, reason=reason, explanation=text, metadata=metadata)


def _clip(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... [{len(text) - limit} more characters]"


def result_score(sample: Sample, result: RewardResult, *, name: str, missing: Missing = "unscored") -> Score:
    """The Score of one scored sample (see the module docs)."""
    row = turn_row(sample, result)
    metadata = {k: v for k, v in row.items() if k not in ("kind", "response", "dialogue_id", "turn_index")}
    metadata["spec"] = name
    metadata["scored"] = {
        "history_turns": len(sample.history),
        "reply_chars": len(sample.response),
        **{k: sample.metadata[k] for k in ("tool_calls",) if k in sample.metadata},
    }
    reward = result.reward
    if reward is None or (isinstance(reward, float) and not math.isfinite(reward)):
        score = missing_score(explanation(result), missing, metadata=metadata)
        score.answer = _clip(sample.response)
        return score
    return Score(value=reward, answer=_clip(sample.response), explanation=explanation(result), metadata=metadata)
