"""Output rows on disk: JSONL, or Parquet with nested fields stored as JSON text.

Turn rows go to the output path; dialogue rows to ``<stem>.dialogues<suffix>``
beside it (:mod:`repo_sdk.rows` holds the row contract). Reading rows back checks
each against it: a bad row is an :class:`~repo_sdk.errors.InputError` naming the
file, the line (JSONL) or row (Parquet), the key and the bad value.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rows.jsonl"
    >>> write_rows(p, [{"kind": "skipped", "position": 3, "reason": "logs.jsonl:3: malformed JSON"}])
    1
    >>> list(read_rows(p))
    [{'kind': 'skipped', 'position': 3, 'reason': 'logs.jsonl:3: malformed JSON'}]
    >>> _ = p.write_text('{"kind": "skipped", "position": "3", "reason": "?"}\\n')
    >>> list(read_rows(p))
    Traceback (most recent call last):
    repo_sdk.errors.InputError: ...rows.jsonl:1: skipped row: position: input should be a valid integer (got '3')
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from repo_sdk.errors import InputError, require
from repo_sdk.io import PASS_BUFFER
from repo_sdk.io.atomic import atomic_write
from repo_sdk.io.fastjson import dumps_line, loads
from repo_sdk.rows import row_problem

__all__ = ["dialogue_path", "is_parquet", "read_rows", "write_rows"]


def is_parquet(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (".parquet", ".pq")


def dialogue_path(path: str | Path) -> Path:
    """Where the dialogue rows of an output go: ``out.jsonl`` -> ``out.dialogues.jsonl``."""
    p = Path(path)
    return p.with_name(f"{p.stem}.dialogues{p.suffix}")


# Parquet column types of the scalar fields; every other field is stored as JSON text.
_SCALARS = {
    "kind": "string",
    "dialogue_id": "string",
    "turn_index": "int64",
    "sample_id": "string",
    "response": "string",
    "reward": "float64",
    "turns": "int64",
    "reward_mean": "float64",
    "reward_min": "float64",
    "fired_count": "int64",
    "worst_rule": "string",
    "position": "int64",
    "reason": "string",
}


def write_rows(path: str | Path, rows: Iterable[Mapping[str, Any]], chunk: int = 4096) -> int:
    """Stream rows atomically into JSONL or Parquet (by suffix); returns the row count.

    Parquet is written in chunks with a fixed schema, so memory stays flat.
    """
    n = 0
    if not is_parquet(path):
        with atomic_write(path) as fh:
            for row in rows:
                fh.write(dumps_line(row))
                n += 1
        return n
    pa: Any = require("pyarrow", "pyarrow", "Parquet output")
    pq: Any = require("pyarrow.parquet", "pyarrow", "Parquet output")
    writer = None
    schema = None
    buf: list[Mapping[str, Any]] = []

    def flush(fh: Any) -> None:
        nonlocal writer, schema
        if not buf:
            return
        if schema is None:
            names = list(dict.fromkeys(k for r in buf for k in r))
            schema = pa.schema([(k, getattr(pa, _SCALARS.get(k, "string"))()) for k in names])
            writer = pq.ParquetWriter(fh, schema)
        cols = {
            f.name: [
                r.get(f.name) if f.name in _SCALARS else json.dumps(r.get(f.name), ensure_ascii=False) for r in buf
            ]
            for f in schema
        }
        writer.write_table(pa.table(cols, schema=schema))
        buf.clear()

    with atomic_write(path, "wb") as fh:
        for row in rows:
            buf.append(row)
            n += 1
            if len(buf) >= chunk:
                flush(fh)
        flush(fh)
        if writer is not None:
            writer.close()
        else:
            pq.write_table(pa.table({}), fh)
    return n


def read_rows(path: str | Path, *, check: bool = True) -> Iterator[dict[str, Any]]:
    """Read rows written by :func:`write_rows` (JSONL or Parquet), each checked against the row
    contract unless ``check`` is False (the skipped list, whose rows have no ``kind``).

    Raises:
        InputError: no such file, a folder, unreadable JSON or Parquet, or a row that is no turn,
            dialogue or skipped row (:func:`repo_sdk.rows.row_problem` says why).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a folder; give the rows file `repo-sdk score` wrote")
    if is_parquet(p):
        for i, row in enumerate(_parquet_rows(p), start=1):
            yield _checked(row, f"{p}: row {i}") if check else row
        return
    with p.open("rb", buffering=PASS_BUFFER) as fh:
        for lineno, raw in enumerate(fh, start=1):
            if raw.strip():
                row = _json_row(raw[3:] if lineno == 1 and raw.startswith(_BOM) else raw, p, lineno)
                yield _checked(row, f"{p}:{lineno}") if check else row


def _checked(row: Any, where: str) -> Any:
    if (problem := row_problem(row)) is not None:
        raise InputError(f"{where}: {problem}")
    return row


_BOM = b"\xef\xbb\xbf"


def _json_row(raw: bytes, p: Path, lineno: int) -> Any:
    try:
        return loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}:{lineno}: not UTF-8 text (invalid byte at column {exc.start + 1})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}:{lineno}: malformed JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise InputError(f"{p}:{lineno}: JSON nested too deeply to read") from None


def _parquet_rows(p: Path) -> Iterator[dict[str, Any]]:
    pq: Any = require("pyarrow.parquet", "pyarrow", "Parquet input")
    try:
        for batch in pq.ParquetFile(p).iter_batches():
            for r in batch.to_pylist():
                yield {k: v if k in _SCALARS or v is None else json.loads(v) for k, v in r.items()}
    except (OSError, ValueError) as exc:  # pyarrow's errors subclass these; so does a bad JSON cell
        raise InputError(f"{p}: not a readable Parquet file of rows ({str(exc).splitlines()[0]})") from None
