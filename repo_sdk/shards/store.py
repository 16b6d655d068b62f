"""The work folder of a sharded run: one Parquet shard per finished block, and a manifest of them.

Beside the output ``out.jsonl`` a run keeps ``.out.jsonl.shards/``::

    manifest.jsonl          {"kind": "header", "fingerprint", "block_records", "input"}, then one
                            {"kind": "block", "block", "first", "last", "digest", counts...} per finished block
    block-000017.parquet    the block's journal events: columns kind, position, line (the event as
                            one JSON line, exactly as a one-process run journals it)

A shard is written atomically before its manifest line, so a block is either listed with its
whole shard or not at all: a killed run resumes by scoring the blocks not listed (a shard left
by a block that was not listed is written again), and the outputs are assembled from the listed
shards in block order, each row once. Resuming checks the header against the spec and the
listed blocks' digests against the input as it is now.

Example:
    >>> import tempfile, pathlib
    >>> from repo_sdk.shards.plan import Block
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> plan = [Block(0, 1, 2, 0, 10, 2, "abc")]
    >>> store = ShardStore.open(d / ".out.jsonl.shards", {"fingerprint": "f"}, plan, resume=False)
    >>> store.write_shard(0, [("turn", 1, b'{"kind":"turn"}')])
    >>> store.record({"block": 0, "first": 1, "last": 2, "digest": "abc"})
    >>> store.close()
    >>> again = ShardStore.open(d / ".out.jsonl.shards", {"fingerprint": "f"}, plan, resume=True)
    >>> sorted(again.finished), list(again.lines())
    ([0], [b'{"kind":"turn"}\\n'])
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from repo_sdk.errors import InputError, require
from repo_sdk.io.atomic import atomic_write
from repo_sdk.io.fastjson import dumps_line
from repo_sdk.shards.plan import Block

__all__ = ["ShardStore", "clear", "shard_file", "shards_path", "write_shard"]

MANIFEST = "manifest.jsonl"


def shards_path(output: Path) -> Path:
    """Where a sharded run keeps its work: ``out.jsonl`` -> ``.out.jsonl.shards/``."""
    return output.with_name(f".{output.name}.shards")


class ShardStore:
    """The work folder; :meth:`open` it, :meth:`write_shard` and :meth:`record` each block, read :meth:`lines`."""

    def __init__(self, folder: Path, finished: dict[int, dict[str, Any]], manifest: IO[str], header: dict) -> None:
        self.folder = folder
        self.finished = finished
        self.header = header
        self._manifest = manifest
        self._synced = time.monotonic()

    @staticmethod
    def recorded(folder: Path) -> dict[str, Any] | None:
        """The header of the run kept in ``folder``, or None (a resumed run plans its blocks as it did)."""
        path = folder / MANIFEST
        return _read_manifest(path)[0] if path.exists() else None

    @classmethod
    def open(
        cls, folder: Path, header: dict[str, Any], plan: Sequence[Block], *, resume: bool, source: Path = Path("input")
    ) -> ShardStore:
        """Start a run in ``folder`` (clearing an earlier one), or, with ``resume``, go on with the blocks listed.

        Raises:
            InputError: resuming a run of another spec or block size, or whose scored records (of the
                input ``source``) changed since.
        """
        path = folder / MANIFEST
        if resume and path.exists():
            recorded, finished = _read_manifest(path)
            _check_resume(folder, header, recorded, finished, plan, source)
            finished = {i: e for i, e in finished.items() if shard_file(folder, i).exists()}
            manifest = path.open("a", encoding="utf-8")
            return cls(folder, finished, manifest, recorded)
        clear(folder)
        folder.mkdir(parents=True)
        manifest = path.open("w", encoding="utf-8")
        manifest.write(dumps_line({"kind": "header", **header}))
        manifest.flush()
        return cls(folder, {}, manifest, header)

    def write_shard(self, index: int, events: Sequence[tuple[str, int, bytes]]) -> None:
        """Write a block's shard atomically: ``(kind, input position, JSON line)`` per event, in order."""
        write_shard(shard_file(self.folder, index), events)

    def record(self, entry: dict[str, Any]) -> None:
        """List a block as finished (after its shard is written); fsynced at most once a second."""
        self._manifest.write(dumps_line({"kind": "block", **entry}))
        self._manifest.flush()
        now = time.monotonic()
        if now - self._synced >= 1.0:
            os.fsync(self._manifest.fileno())
            self._synced = now
        self.finished[entry["block"]] = entry

    def lines(self) -> Iterator[bytes]:
        """The journal lines of the finished shards (UTF-8, newline-ended), in input order."""
        pa = require("pyarrow", "pyarrow", "the ray engine's shards")
        pq = require("pyarrow.parquet", "pyarrow", "the ray engine's shards")
        for index in sorted(self.finished):
            column = pq.read_table(shard_file(self.folder, index), columns=["line"])["line"]  # type: ignore[attr-defined]
            for line in column.cast(pa.large_binary()).to_pylist():  # type: ignore[attr-defined]
                yield line + b"\n"

    def close(self) -> None:
        self._manifest.close()

    def remove(self) -> None:
        """Delete the work folder (once the outputs are written)."""
        self.close()
        clear(self.folder)


def shard_file(folder: Path, index: int) -> Path:
    """Block ``index``'s shard in the work folder ``folder``."""
    return folder / f"block-{index:06d}.parquet"


def write_shard(path: Path, events: Sequence[tuple[str, int, bytes]]) -> None:
    """Write a shard atomically: ``(kind, input position, JSON line as UTF-8)`` per event, in order."""
    pa = require("pyarrow", "pyarrow", "the ray engine's shards")
    pq = require("pyarrow.parquet", "pyarrow", "the ray engine's shards")
    kinds, positions, lines = zip(*events, strict=True) if events else ((), (), ())
    table = pa.table(  # type: ignore[attr-defined]
        {"kind": list(kinds), "position": list(positions), "line": list(lines)},
        schema=pa.schema([("kind", pa.string()), ("position", pa.int64()), ("line", pa.large_string())]),  # type: ignore[attr-defined]
    )
    with atomic_write(path, "wb") as fh:
        pq.write_table(table, fh, compression="zstd")  # type: ignore[attr-defined]


def clear(folder: Path) -> None:
    """Remove a work folder: the manifest, shards and temporary shards only, then the folder itself.

    Raises:
        InputError: the folder holds other files (it is not one this module made).
    """
    if not folder.exists():
        return
    for entry in folder.iterdir():
        if entry.is_file() and (entry.name == MANIFEST or _is_shard(entry.name)):
            entry.unlink()
    try:
        folder.rmdir()
    except OSError:
        left = sorted(p.name for p in folder.iterdir())[:3]
        raise InputError(f"{folder}: holds files the run did not write ({', '.join(left)}); move them") from None


def _is_shard(name: str) -> bool:
    return name.startswith(("block-", ".block-")) and (name.endswith(".parquet") or name.endswith(".tmp"))


def _read_manifest(path: Path) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    header: dict[str, Any] = {}
    finished: dict[int, dict[str, Any]] = {}
    with path.open("rb") as fh:
        for raw in fh:
            try:
                event = json.loads(raw)
            except json.JSONDecodeError:
                break  # a line cut by the kill: the block it named is scored again
            if event.get("kind") == "header":
                header = {k: v for k, v in event.items() if k != "kind"}
            elif event.get("kind") == "block":
                finished[int(event["block"])] = {k: v for k, v in event.items() if k != "kind"}
    return header, finished


def _check_resume(
    folder: Path, header: dict, recorded: dict, finished: dict[int, dict], plan: Sequence[Block], source: Path
) -> None:
    if recorded.get("fingerprint") != header.get("fingerprint"):
        raise InputError(
            f"{folder}: the interrupted run was for another spec (or its templates, --only or the judges "
            "set aside changed); rerun without --resume"
        )
    for key in ("block_records", "input"):
        if recorded.get(key) != header.get(key):
            raise InputError(
                f"{folder}: the interrupted run had {key} {recorded.get(key)!r}, this one {header.get(key)!r}; "
                "rerun without --resume"
            )
    for index, entry in finished.items():
        block = plan[index] if index < len(plan) else None
        if block is None or (entry["first"], entry["last"], entry["digest"]) != (block.first, block.last, block.digest):
            raise InputError(
                f"{source}: records {entry['first']}-{entry['last']} changed since the interrupted run scored "
                "them; rerun without --resume"
            )
