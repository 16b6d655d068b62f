"""Offline scoring of logged dialogues: dialogues in, turn rows and dialogue rows out.

Row contract (what ``repo-sdk score`` writes, and what ``report`` and ``eval`` read):

turn row (one per assistant turn)::

    {"kind": "turn", "dialogue_id", "turn_index", "sample_id", "response",
     "reward", "sources": {name: value|None}, "fired": [RuleHit...],
     "reasons": {name: reason}, "details": {name: source details without hits},
     "combiner": {E, multiplier, ...}}

dialogue row (one per dialogue, after its turns)::

    {"kind": "dialogue", "dialogue_id", "turns", "reward_mean", "reward_min",
     "sources_mean": {name: mean|None}, "fired_count", "worst_rule",
     "rule_counts": {rule: n}, "dialogue_sources": {name: value},
     "dialogue_fired": [RuleHit...], "dialogue_errors": {name: error},
     "task": {...}, "context": [{"turn_index", "role", "content"}...]}

``context`` holds the dialogue's turns that are not scored replies (the other side's,
system turns), so a report can show what came before a reply without repeating the
history in every turn row.

Example:
    >>> from repo_sdk import RewardPipeline
    >>> from repo_sdk.testing import make_dialogue
    >>> d = make_dialogue([("user", "Hi"), ("assistant", "<think>x</think>Hello")], id="d1")
    >>> with RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}}) as pipe:
    ...     rows = list(score_dialogues(pipe, [d]))
    >>> [(r["kind"], r["dialogue_id"]) for r in rows], rows[0]["fired"][0]["rule"]
    ([('turn', 'd1'), ('dialogue', 'd1')], 'cot_leak')
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from repo_sdk.pipeline import RewardPipeline, hits_of
from repo_sdk.types import Dialogue, RewardResult, RuleHit, Sample

__all__ = [
    "agent_turns",
    "dialogue_row",
    "group_by_samples",
    "hit_row",
    "score_dialogue_batch",
    "score_dialogues",
    "turn_row",
]

T = TypeVar("T")


def turn_row(sample: Sample, result: RewardResult) -> dict[str, Any]:
    """The output row of one scored assistant turn."""
    return {
        "kind": "turn",
        "dialogue_id": sample.metadata.get("dialogue_id"),
        "turn_index": sample.metadata.get("turn_index"),
        "sample_id": sample.id,
        "response": sample.response,
        "reward": result.reward,
        "sources": result.source_values(),
        "fired": [hit_row(h) for h in result.fired],
        "reasons": {name: s.reason for name, s in result.sources.items() if s.reason},
        "details": {
            name: {k: v for k, v in s.details.items() if k != "hits"}
            for name, s in result.sources.items()
            if any(k != "hits" for k in s.details)
        },
        "combiner": result.details,
    }


def hit_row(hit: RuleHit) -> dict[str, Any]:
    """A rule hit as a row field: ``hit.model_dump()``, without pydantic's cost per call."""
    return {
        "rule": hit.rule,
        "points": hit.points,
        "reason": hit.reason,
        "span": hit.span,
        "evidence": hit.evidence,
        "turn_index": hit.turn_index,
    }


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def dialogue_row(dialogue: Dialogue, turns: list[dict[str, Any]], pipeline: RewardPipeline) -> dict[str, Any]:
    """Aggregates of a dialogue's turn rows plus its dialogue-level scores."""
    rewards = [r["reward"] for r in turns if r["reward"] is not None]
    names = sorted({n for r in turns for n in r["sources"]})
    counts: Counter[str] = Counter()
    points: Counter[str] = Counter()
    for r in turns:
        for h in r["fired"]:
            counts[h["rule"]] += 1
            points[h["rule"]] += h["points"]
    dialogue_scores = pipeline.score_dialogue(dialogue)
    dialogue_hits = [hit_row(h) for s in dialogue_scores.values() for h in hits_of(s)]
    for h in dialogue_hits:
        counts[h["rule"]] += 1
        points[h["rule"]] += h["points"]
    return {
        "kind": "dialogue",
        "dialogue_id": dialogue.id,
        "turns": len(turns),
        "reward_mean": _mean(rewards),
        "reward_min": min(rewards) if rewards else None,
        "sources_mean": {n: _mean([r["sources"][n] for r in turns if r["sources"].get(n) is not None]) for n in names},
        "fired_count": sum(counts.values()),
        "worst_rule": min(points, key=lambda k: (points[k], k)) if points else None,
        "rule_counts": dict(sorted(counts.items())),
        "dialogue_sources": {n: s.value for n, s in dialogue_scores.items()},
        "dialogue_fired": dialogue_hits,
        "dialogue_errors": {n: s.details["error"] for n, s in dialogue_scores.items() if "error" in s.details},
        "task": dialogue.task,
        "context": [
            {"turn_index": i, "role": t.role, "content": t.content}
            for i, t in enumerate(dialogue.turns)
            if t.role != "assistant"
        ],
    }


def agent_turns(dialogue: Dialogue) -> int:
    """How many Samples a dialogue expands into (its assistant turns)."""
    return sum(t.role == "assistant" for t in dialogue.turns)


def group_by_samples(items: Iterable[T], size: int, count: Callable[[T], int]) -> Iterator[list[T]]:
    """Consecutive items, grouped until their sample count reaches ``size`` (the last may be smaller).

    Example:
        >>> list(group_by_samples([2, 1, 3, 1], 3, count=lambda n: n))
        [[2, 1], [3], [1]]
    """
    group: list[T] = []
    n = 0
    for item in items:
        group.append(item)
        n += count(item)
        if n >= size:
            yield group
            group, n = [], 0
    if group:
        yield group


def score_dialogue_batch(pipeline: RewardPipeline, dialogues: list[Dialogue]) -> list[dict[str, Any]]:
    """Score a group of dialogues in one source call; rows in input order."""
    per_dialogue = [d.samples() for d in dialogues]
    samples = [s for group in per_dialogue for s in group]
    results = iter(pipeline.score(samples) if samples else [])
    rows: list[dict[str, Any]] = []
    for d, group in zip(dialogues, per_dialogue, strict=True):
        turns = [turn_row(s, next(results)) for s in group]
        rows.extend(turns)
        rows.append(dialogue_row(d, turns, pipeline))
    return rows


def score_dialogues(
    pipeline: RewardPipeline, dialogues: Iterable[Dialogue], *, batch_size: int | None = None
) -> Iterator[dict[str, Any]]:
    """Yield turn and dialogue rows in input order, scoring about ``batch_size`` samples at a time."""
    size = batch_size or (pipeline.spec.batch_size if pipeline.spec else 64)
    for group in group_by_samples(dialogues, size, agent_turns):
        yield from score_dialogue_batch(pipeline, group)
