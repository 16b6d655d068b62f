"""What runs inside Ray for ``score --engine ray``: the read task and the scoring actor.

Both take and return one row per block (``batch_size=1``), so Ray Data never splits or
merges a block. The read task adds the block's bytes to its row; the actor builds the
pipeline once, scores each block (:func:`repo_sdk.shards.score.score_block`), writes its
shard atomically and answers one JSON row: the manifest entry or the failure, plus the
actor's telemetry. Nothing raises through Ray: an error (a pipeline that cannot be built
in the actor, an unreadable input, a full disk) comes back as ``{"error": "one line"}``
for the driver to report.

Example:
    >>> import json, tempfile, pathlib
    >>> import pyarrow as pa
    >>> from functools import partial
    >>> from repo_sdk import RewardPipeline
    >>> from repo_sdk.shards.plan import plan_blocks
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> turns = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    >>> _ = (d / "logs.jsonl").write_text(json.dumps({"id": "a", "turns": turns}) + "\\n")
    >>> rows = pa.Table.from_pylist([b.as_dict() for b in plan_blocks(d / "logs.jsonl", records=10)])
    >>> factory = partial(RewardPipeline.from_spec, {"sources": {"rules": ["cot_leak"]}})
    >>> actor = BlockScorer(factory, str(d / "logs.jsonl"), str(d / "shards"), None, "fail", None)
    >>> answer = json.loads(actor(read_payloads(rows, str(d / "logs.jsonl")))["result"][0].as_py())
    >>> answer["entry"]["turns"], answer["failure"], (d / "shards" / "block-000000.parquet").exists()
    (1, None, True)
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

from repo_sdk.config import InputSpec
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.shards.plan import Block, read_block
from repo_sdk.shards.score import score_block
from repo_sdk.shards.store import shard_file, write_shard

__all__ = ["BlockScorer", "merge_telemetry", "read_payloads"]

_BLOCK_FIELDS = ("index", "first", "last", "offset", "length", "records", "digest", "group")


def read_payloads(batch: Any, source: str) -> Any:
    """Ray Data read step: each block row (a ``pyarrow.Table``) gets its bytes, or why they could not be read."""
    import pyarrow as pa

    payloads, errors = [], []
    for row in batch.select(list(_BLOCK_FIELDS)).to_pylist():
        try:
            payloads.append(read_block(source, Block(**row)))
            errors.append("")
        except Exception as exc:  # a vanished or unreadable input: told to the driver in one line
            payloads.append(b"")
            errors.append(f"{source}: records {row['first']}-{row['last']}: {_one_line(exc)}")
    batch = batch.append_column("payload", pa.array(payloads, pa.large_binary()))
    return batch.append_column("read_error", pa.array(errors, pa.string()))


class BlockScorer:
    """The scoring actor: one pipeline (``factory()``), block after block into ``folder``'s shards."""

    def __init__(
        self,
        factory: Callable[[], RewardPipeline],
        source: str,
        folder: str,
        mapping: InputSpec | None,
        on_error: Literal["fail", "skip"],
        batch_size: int | None,
    ) -> None:
        self.source, self.folder = Path(source), Path(folder)
        self.mapping, self.on_error, self.batch_size = mapping, on_error, batch_size
        self.actor = f"{socket.gethostname()}:{os.getpid()}"
        self.pipeline: RewardPipeline | None = None
        self.start_error = ""
        try:
            self.pipeline = factory()
        except Exception as exc:  # answered per block, so the driver prints it as one line
            self.start_error = _one_line(exc)

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        answers = [self._score(row) for row in batch.to_pylist()]
        return pa.table({"result": pa.array(answers, pa.string())})

    def _score(self, row: dict[str, Any]) -> str:
        if self.pipeline is None:
            return json.dumps(
                {
                    "error": f"an actor on {self.actor} could not build the spec ({self.start_error}); "
                    "its sources must come from plugins installed where the actors run"
                }
            )
        if row["read_error"]:
            return json.dumps({"error": row["read_error"]})
        block = Block(**{k: row[k] for k in _BLOCK_FIELDS})
        try:
            result = score_block(
                self.pipeline,
                self.source,
                block,
                row["payload"],
                mapping=self.mapping,
                on_error=self.on_error,
                batch_size=self.batch_size,
            )
            if result.failure is None:
                write_shard(shard_file(self.folder, block.index), result.events)
        except Exception as exc:  # not a record's fault (those are isolated): a full disk, a bug
            where = f"records {block.first}-{block.last} on {self.actor}"
            return json.dumps({"error": f"{self.source}: {where}: {_one_line(exc)}"})
        telemetry = self.pipeline.telemetry()
        answer = {"entry": result.entry, "failure": result.failure, "actor": self.actor, "telemetry": telemetry}
        return json.dumps(answer)


def merge_telemetry(snapshots: Iterable[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """The actors' telemetry as one: counters summed per source; rates, means and fractions averaged.

    Example:
        >>> one, two = {"judge": {"calls": 2, "latency_mean_s": 0.2}}, {"judge": {"calls": 3, "latency_mean_s": 0.4}}
        >>> merge_telemetry([one, two])
        {'judge': {'calls': 5.0, 'latency_mean_s': 0.3}}
    """
    values: dict[str, dict[str, list[float]]] = {}
    for snapshot in snapshots:
        for name, counters in snapshot.items():
            for key, value in counters.items():
                values.setdefault(name, {}).setdefault(key, []).append(float(value))
    averaged = ("rate", "mean", "p95", "fraction")
    return {
        name: {
            key: round(sum(v) / len(v), 6) if any(a in key for a in averaged) else float(sum(v))
            for key, v in counters.items()
        }
        for name, counters in values.items()
    }


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())
