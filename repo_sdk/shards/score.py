"""One block of a sharded run scored into its shard's events, by the code a one-process run uses.

The block's records are grouped as ``score_file`` groups them (:func:`repo_sdk.score_run.group_jobs`),
each group is scored by :func:`repo_sdk.scoring.score_dialogue_batch`, and the events are the
journal's: a group's skipped records, then its turn and dialogue rows. With ``on_error="fail"``
the first bad record or source error in the block ends it with the one-process run's message
(file and line, where in the record, the error) and no shard.

Example:
    >>> import json, tempfile, pathlib
    >>> from repo_sdk import RewardPipeline
    >>> from repo_sdk.shards.plan import plan_blocks, read_block
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "logs.jsonl"
    >>> turns = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "<think>x</think>Hello"}]
    >>> _ = p.write_text(json.dumps({"id": "a", "turns": turns}) + "\\n{bad\\n")
    >>> block = plan_blocks(p, records=10)[0]
    >>> with RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}}) as pipe:
    ...     done = score_block(pipe, p, block, read_block(p, block), on_error="skip")
    ...     failed = score_block(pipe, p, block, read_block(p, block), on_error="fail")
    >>> [(kind, pos) for kind, pos, _ in done.events], done.entry["turns"], done.entry["skipped"]
    ([('skipped', 2), ('turn', 1), ('dialogue', 1)], 1, 1)
    >>> failed.failure.startswith(f"{p}:2: malformed JSON"), failed.events
    (True, [])
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from repo_sdk.config import InputSpec
from repo_sdk.errors import InputError
from repo_sdk.gc_policy import collected_after
from repo_sdk.io.fastjson import dumps_bytes
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.rows import DialogueRow, SkippedRow, TurnRow
from repo_sdk.run_checks import first_source_error
from repo_sdk.score_run import Job, group_jobs
from repo_sdk.scoring import score_dialogue_batch
from repo_sdk.shards.plan import Block, block_records

__all__ = ["BlockResult", "score_block"]


@dataclass
class BlockResult:
    """A scored block: its shard's events ``(kind, input position, JSON line)``, its manifest entry (positions,
    digest, counts, wall and CPU seconds spent scoring), or the failure that ends the run (``on_error="fail"``)."""

    events: list[tuple[str, int, bytes]] = field(default_factory=list)
    entry: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None


def score_block(
    pipeline: RewardPipeline,
    source: Path,
    block: Block,
    payload: bytes,
    *,
    mapping: InputSpec | None = None,
    on_error: Literal["fail", "skip"] = "fail",
    batch_size: int | None = None,
) -> BlockResult:
    """Score the records of ``block`` (its bytes in ``payload``, as :func:`read_block` gives them)."""
    entry: dict[str, Any] = {
        "block": block.index,
        "first": block.first,
        "last": block.last,
        "digest": block.digest,
        "records": block.records,
    }
    if block.group < 0 and hashlib.sha256(payload).hexdigest() != block.digest:
        return BlockResult(entry=entry, failure=f"{source}: records {block.first}-{block.last} changed during the run")
    size = batch_size or (pipeline.spec.batch_size if pipeline.spec else 64)
    started, cpu = time.perf_counter(), time.process_time()
    result = BlockResult(entry=entry)
    counts = {"dialogues": 0, "turns": 0, "skipped": 0}
    first_skip = ""
    try:
        records = ((pos, item, item) for pos, item in block_records(source, block, payload, mapping))
        for job in group_jobs(records, size, on_error):
            with collected_after():  # one collection a group, once its rows are lines (repo_sdk.gc_policy)
                turns, failed = _add_events(pipeline, job, result, stop=on_error == "fail")
            if failed is not None:
                position, where, error = failed
                return BlockResult(entry=entry, failure=f"{source}:{position}: {where}: {error}")
            first_skip = first_skip or next((e["reason"] for e in job.skipped), "")
            counts["dialogues"] += len(job.dialogues)
            counts["turns"] += turns
            counts["skipped"] += len(job.skipped)
    except InputError as exc:  # a bad record, with on_error="fail"
        return BlockResult(entry=entry, failure=str(exc))
    entry.update(counts, first_skip=first_skip)
    entry.update(seconds=round(time.perf_counter() - started, 4), cpu_seconds=round(time.process_time() - cpu, 4))
    return result


def _add_events(
    pipeline: RewardPipeline, job: Job, result: BlockResult, stop: bool
) -> tuple[int, tuple[int, str, str] | None]:
    """Score one group into ``result``'s events (its skipped records first): its turn count, and with ``stop``
    its first source error as (position, where, error), then no events (else None). The group's samples and
    rows are freed on return."""
    rows = score_dialogue_batch(pipeline, job.dialogues)
    failed = first_source_error(rows, job.positions) if stop else None
    if failed is not None:
        return 0, failed
    for event in job.skipped:
        result.events.append(("skipped", event["position"], _line(event)))
    k = 0
    for row in rows:
        result.events.append((row["kind"], job.positions[k], _line(row)))
        k += row["kind"] == "dialogue"
    return len(rows) - len(job.dialogues), None


def _line(event: TurnRow | DialogueRow | SkippedRow) -> bytes:
    return dumps_bytes(event)[:-1]  # the journal's line (UTF-8), without its newline
