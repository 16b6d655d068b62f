"""Offline scoring of logged dialogues: dialogues in, turn rows and dialogue rows out.

A batch of dialogues is scored in two pipeline steps, turns then dialogues
(:meth:`~repo_sdk.RewardPipeline.ascore` of their samples, then
:meth:`~repo_sdk.RewardPipeline.ascore_dialogues`), and the rows are formatted from the
results (:mod:`repo_sdk.rows`, where the row contract lives).

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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

from repo_sdk.pipeline import RewardPipeline
from repo_sdk.rows import DialogueRow, HitRow, SkippedRow, TurnRow
from repo_sdk.score_steps import hits_of, run_sync
from repo_sdk.types import Dialogue, RewardResult, RuleHit, Sample, SourceScore

__all__ = [
    "agent_turns",
    "ascore_dialogue_batch",
    "dialogue_row",
    "group_by_samples",
    "hit_row",
    "score_dialogue_batch",
    "score_dialogues",
    "skipped_row",
    "turn_row",
]

T = TypeVar("T")
Row = TurnRow | DialogueRow


def hit_row(hit: RuleHit) -> HitRow:
    """A rule hit as a row field: ``hit.model_dump()``, without pydantic's cost per call."""
    return {
        "rule": hit.rule,
        "points": hit.points,
        "reason": hit.reason,
        "span": hit.span,
        "evidence": hit.evidence,
        "turn_index": hit.turn_index,
    }


def turn_row(sample: Sample, result: RewardResult) -> TurnRow:
    """The row of one scored assistant turn."""
    metadata, sources = sample.metadata, result.sources  # (a model's field read is a call: each read once)
    return {
        "kind": "turn",
        "dialogue_id": metadata.get("dialogue_id"),
        "turn_index": metadata.get("turn_index"),
        "sample_id": sample.id,
        "response": sample.response,
        "reward": result.reward,
        "sources": result.source_values(),
        "fired": [hit_row(h) for h in result.fired],
        "reasons": {name: s.reason for name, s in sources.items() if s.reason},
        "details": {
            name: {k: v for k, v in details.items() if k != "hits"}
            for name, s in sources.items()
            if len(details := s.details) > ("hits" in details)  # a detail besides the hits
        },
        "combiner": result.details,
    }


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def dialogue_row(dialogue: Dialogue, turns: Sequence[TurnRow], scores: Mapping[str, SourceScore]) -> DialogueRow:
    """The row of a dialogue from its turn rows and its dialogue-level ``scores`` (source name -> score)."""
    rewards = [r["reward"] for r in turns if r["reward"] is not None]
    names = sorted({n for r in turns for n in r["sources"]})
    dialogue_hits = [hit_row(h) for s in scores.values() for h in hits_of(s)]
    counts: Counter[str] = Counter()
    points: dict[str, float] = {}
    for h in [h for r in turns for h in r["fired"]] + dialogue_hits:
        counts[h["rule"]] += 1
        points[h["rule"]] = points.get(h["rule"], 0) + h["points"]
    return {
        "kind": "dialogue",
        "dialogue_id": dialogue.id,
        "turns": len(turns),
        "reward_mean": _mean(rewards),
        "reward_min": min(rewards) if rewards else None,
        "sources_mean": {n: _mean([v for r in turns if (v := r["sources"].get(n)) is not None]) for n in names},
        "fired_count": sum(counts.values()),
        "worst_rule": min(points, key=lambda k: (points[k], k)) if points else None,
        "rule_counts": dict(sorted(counts.items())),
        "dialogue_sources": {n: s.value for n, s in scores.items()},
        "dialogue_fired": dialogue_hits,
        "dialogue_errors": {n: str(s.details["error"]) for n, s in scores.items() if "error" in s.details},
        "task": dialogue.task,
        "context": [
            {"turn_index": i, "role": t.role, "content": t.content}
            for i, t in enumerate(dialogue.turns)
            if t.role != "assistant"
        ],
    }


def skipped_row(position: int, reason: str) -> SkippedRow:
    """The journal's event of an input record that could not be read."""
    return {"kind": "skipped", "position": position, "reason": reason}


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


def score_dialogue_batch(pipeline: RewardPipeline, dialogues: list[Dialogue]) -> list[Row]:
    """Score a group of dialogues in one call per step; rows in input order, each dialogue's turn
    rows followed by its dialogue row.

    With synchronous sources alone (rules) both steps run right here; otherwise on an event loop
    (:meth:`ascore_dialogue_batch` by :func:`~repo_sdk.score_steps.run_sync`).
    """
    if not pipeline.runs_sync:
        return run_sync(ascore_dialogue_batch(pipeline, dialogues))
    per_dialogue = [d.samples() for d in dialogues]
    results = pipeline.score([s for group in per_dialogue for s in group])
    return _rows(dialogues, per_dialogue, results, pipeline.score_dialogues(dialogues))


async def ascore_dialogue_batch(pipeline: RewardPipeline, dialogues: list[Dialogue]) -> list[Row]:
    """:func:`score_dialogue_batch` for async code: the turns' step, then the dialogues' step.

    Example:
        >>> import asyncio
        >>> from repo_sdk.testing import make_dialogue
        >>> d = make_dialogue([("user", "Hi"), ("assistant", "<think>x</think>Hello")], id="d1")
        >>> pipe = RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}})
        >>> rows = asyncio.run(ascore_dialogue_batch(pipe, [d]))
        >>> [r["kind"] for r in rows], rows[-1]["rule_counts"]
        (['turn', 'dialogue'], {'cot_leak': 1})
    """
    per_dialogue = [d.samples() for d in dialogues]
    results = await pipeline.ascore([s for group in per_dialogue for s in group])
    return _rows(dialogues, per_dialogue, results, await pipeline.ascore_dialogues(dialogues))


def _rows(
    dialogues: list[Dialogue],
    per_dialogue: list[list[Sample]],
    results: list[RewardResult],
    dialogue_scores: list[dict[str, SourceScore]],
) -> list[Row]:
    """The rows of a scored batch: formatting only."""
    rows: list[Row] = []
    done = iter(results)
    for d, samples, scores in zip(dialogues, per_dialogue, dialogue_scores, strict=True):
        turns = [turn_row(s, next(done)) for s in samples]
        rows.extend(turns)
        rows.append(dialogue_row(d, turns, scores))
    return rows


def score_dialogues(
    pipeline: RewardPipeline, dialogues: Iterable[Dialogue], *, batch_size: int | None = None
) -> Iterator[Row]:
    """Yield turn and dialogue rows in input order, scoring about ``batch_size`` samples at a time."""
    size = batch_size or (pipeline.spec.batch_size if pipeline.spec else 64)
    for group in group_by_samples(dialogues, size, agent_turns):
        yield from score_dialogue_batch(pipeline, group)
