"""Offline scoring of logged dialogues: dialogues in, one row per assistant turn out.

Samples are batched across dialogues (``batch_size``) so sources see full batches.

Example:
    >>> from repo_sdk import RewardPipeline
    >>> from repo_sdk.testing import make_dialogue
    >>> d = make_dialogue([("user", "Hi"), ("assistant", "<think>x</think>Hello")], id="d1")
    >>> with RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}}) as pipe:
    ...     rows = list(score_dialogues(pipe, [d]))
    >>> rows[0]["dialogue_id"], rows[0]["turn_index"], rows[0]["fired"][0]["rule"]
    ('d1', 1, 'cot_leak')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from repo_sdk.pipeline import RewardPipeline
from repo_sdk.types import Dialogue, RewardResult, Sample

__all__ = ["score_dialogues", "turn_row"]


def turn_row(sample: Sample, result: RewardResult) -> dict[str, Any]:
    """The output row of one scored assistant turn."""
    return {
        "dialogue_id": sample.metadata.get("dialogue_id"),
        "turn_index": sample.metadata.get("turn_index"),
        "reward": result.reward,
        "sources": result.source_values(),
        "fired": [h.model_dump() for h in result.fired],
        "reasons": {name: s.reason for name, s in result.sources.items() if s.reason},
        "combiner": result.details,
    }


def score_dialogues(
    pipeline: RewardPipeline, dialogues: Iterable[Dialogue], *, batch_size: int | None = None
) -> Iterator[dict[str, Any]]:
    """Yield one row per assistant turn, in input order, scoring in batches."""
    size = batch_size or (pipeline.spec.batch_size if pipeline.spec else 64)
    pending: list[Sample] = []
    for dialogue in dialogues:
        pending.extend(dialogue.samples())
        while len(pending) >= size:
            batch, pending = pending[:size], pending[size:]
            yield from (turn_row(s, r) for s, r in zip(batch, pipeline.score(batch)))
    if pending:
        yield from (turn_row(s, r) for s, r in zip(pending, pipeline.score(pending)))
