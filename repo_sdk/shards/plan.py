"""An input cut into blocks of whole records: the unit a sharded run reads, scores, writes and resumes.

A block is a run of consecutive input positions (JSONL lines, Parquet rows), so a
dialogue (one record) is never split. The driver plans the blocks once: for JSONL it
reads the file through, noting each block's byte range and a digest of its bytes (a
resumed run compares them, so the records already scored cannot have changed); for
Parquet it cuts each row group into slices of rows (the digest is the whole file's,
as in a one-process run). A reader then gets a block's records with :func:`read_block`
and :func:`block_records`, anywhere the file is visible, with the same errors (file and
line, or file and row) as :func:`repo_sdk.io.readers.iter_records`.

Example:
    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "logs.jsonl"
    >>> line = json.dumps({"id": "a", "turns": [{"role": "assistant", "content": "Hi"}]})
    >>> _ = p.write_text(f"{line}\\n{line}\\n{{bad\\n")
    >>> blocks = plan_blocks(p, records=2)
    >>> [(b.first, b.last) for b in blocks]
    [(1, 2), (3, 3)]
    >>> [(pos, type(x).__name__) for pos, x in block_records(p, blocks[1], read_block(p, blocks[1]))]
    [(3, 'InputError')]
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from repo_sdk.config import InputSpec
from repo_sdk.errors import InputError, require
from repo_sdk.io import PASS_BUFFER
from repo_sdk.io.digest import file_digest
from repo_sdk.io.readers import Record, input_kind, jsonl_records, row_record

__all__ = ["Block", "block_records", "plan_blocks", "read_block"]


@dataclass(frozen=True)
class Block:
    """Positions ``first``..``last`` of the input (1-based, as in error messages).

    JSONL: ``length`` bytes from byte ``offset``. Parquet: ``length`` rows from row ``offset``
    of row group ``group``. ``records`` counts the non-blank ones; ``digest`` is what resume checks.
    """

    index: int
    first: int
    last: int
    offset: int
    length: int
    records: int
    digest: str
    group: int = -1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_blocks(path: str | Path, records: int) -> list[Block]:
    """The blocks of an input, ``records`` positions each (the last may hold fewer).

    Raises:
        InputError: a saved dataset folder (score its Parquet export), or an unreadable Parquet file.
    """
    p = Path(path)
    kind = input_kind(p)
    if kind == "dataset":
        raise InputError(
            f"{p}: a saved dataset folder; the ray engine reads JSONL or Parquet "
            "(write it with Dataset.to_parquet('logs.parquet') and score that)"
        )
    return _jsonl_blocks(p, records) if kind == "jsonl" else _parquet_blocks(p, records)


def _jsonl_blocks(p: Path, size: int) -> list[Block]:
    blocks: list[Block] = []
    digest, offset, start, lines, nonblank = hashlib.sha256(), 0, 0, 0, 0
    with p.open("rb", buffering=PASS_BUFFER) as fh:
        for line in fh:
            digest.update(line)
            offset += len(line)
            lines += 1
            nonblank += bool(line.strip())
            if lines % size == 0:
                blocks.append(
                    Block(len(blocks), lines - size + 1, lines, start, offset - start, nonblank, digest.hexdigest())
                )
                digest, start, nonblank = hashlib.sha256(), offset, 0
    if lines % size:
        first = lines - lines % size + 1
        blocks.append(Block(len(blocks), first, lines, start, offset - start, nonblank, digest.hexdigest()))
    return blocks


def _parquet_blocks(p: Path, size: int) -> list[Block]:
    meta = _parquet_file(p).metadata
    whole = file_digest(p)
    blocks: list[Block] = []
    position = 0
    for group in range(meta.num_row_groups):
        rows = meta.row_group(group).num_rows
        for offset in range(0, rows, size):
            length = min(size, rows - offset)
            first = position + offset + 1
            blocks.append(Block(len(blocks), first, first + length - 1, offset, length, length, whole, group))
        position += rows
    return blocks


def read_block(path: str | Path, block: Block) -> bytes:
    """A block's bytes as stored: the JSONL lines, or the Parquet rows as an Arrow IPC stream."""
    p = Path(path)
    if block.group < 0:
        with p.open("rb") as fh:
            fh.seek(block.offset)
            return fh.read(block.length)
    pa = require("pyarrow", "pyarrow", "Parquet input")
    table = _row_group(str(p), p.stat().st_mtime_ns, block.group).slice(block.offset, block.length)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:  # type: ignore[attr-defined]
        writer.write_table(table)
    return sink.getvalue()


def block_records(path: str | Path, block: Block, payload: bytes, mapping: InputSpec | None = None) -> Iterator[Record]:
    """The ``(position, Dialogue | InputError)`` pairs of a block read by :func:`read_block`."""
    p = Path(path)
    if block.group < 0:
        yield from jsonl_records(io.BytesIO(payload), p, mapping, first=block.first)
        return
    pa = require("pyarrow", "pyarrow", "Parquet input")
    rows = pa.ipc.open_stream(payload).read_all().to_pylist()  # type: ignore[attr-defined]
    for position, row in enumerate(rows, start=block.first):
        yield position, row_record(p, position, row, mapping)


def _parquet_file(p: Path) -> Any:
    pq = require("pyarrow.parquet", "pyarrow", "Parquet input")
    try:
        return pq.ParquetFile(p)  # type: ignore[attr-defined]
    except Exception as exc:
        raise InputError(f"{p}: not a readable Parquet file ({exc})") from None


@lru_cache(maxsize=1)
def _row_group(path: str, mtime_ns: int, group: int) -> Any:
    """The last row group read, kept: the blocks of a large row group come one after another."""
    try:
        return _parquet_file(Path(path)).read_row_group(group)
    except (OSError, ValueError) as exc:  # pyarrow's errors (a cut or corrupt file) subclass these
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
