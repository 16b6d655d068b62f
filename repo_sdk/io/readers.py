"""Input readers for logged dialogues: JSONL, Parquet, or a saved Hugging Face dataset.

Every reader streams ``(position, Dialogue | InputError)`` pairs so a caller can
fail on the first bad record or skip it and list it; the error names the file and
line (JSONL) or row (Parquet, dataset). Blank JSONL lines are ignored.

Example:
    >>> import tempfile, pathlib, json
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "logs.jsonl"
    >>> _ = p.write_text(json.dumps({"id": 1, "turns": [{"role": "user", "content": "hi"}]}) + "\\n{bad\\n")
    >>> [(pos, type(x).__name__) for pos, x in iter_records(p)]
    [(1, 'Dialogue'), (2, 'InputError')]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from repo_sdk.errors import InputError, require
from repo_sdk.io import PASS_BUFFER
from repo_sdk.io.dialogues import parse_line, record_to_dialogue
from repo_sdk.io.input_spec import InputSpec
from repo_sdk.types import Dialogue

__all__ = [
    "Record",
    "count_records",
    "input_kind",
    "iter_records",
    "jsonl_lines",
    "jsonl_records",
    "read_dialogues",
    "row_record",
]

Record = tuple[int, "Dialogue | InputError"]


def input_kind(path: Path) -> str:
    """``jsonl``, ``parquet`` or ``dataset`` (a directory saved with ``Dataset.save_to_disk``)."""
    if path.is_dir():
        return "dataset"
    if path.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    return "jsonl"


def iter_records(path: str | Path, mapping: InputSpec | None = None, *, start: int = 0) -> Iterator[Record]:
    """Stream records after position ``start`` (1-based positions: lines or rows)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    kind = input_kind(p)
    if kind == "jsonl":
        yield from _jsonl(p, mapping, start)
    else:
        rows = _parquet_rows(p) if kind == "parquet" else _dataset_rows(p)
        for pos, row in enumerate(rows, start=1):
            if pos > start:
                yield pos, row_record(p, pos, row, mapping)


def row_record(path: Path, position: int, row: Any, mapping: InputSpec | None = None) -> Dialogue | InputError:
    """One Parquet or dataset row as a Dialogue, or the error naming its file and row.

    Example:
        >>> row_record(Path("logs.parquet"), 3, {"id": "a"})
        InputError("logs.parquet: row 3: missing field 'turns'")
    """
    try:
        return record_to_dialogue(row, mapping)
    except ValueError as exc:
        return InputError(f"{path}: row {position}: {exc}")


def read_dialogues(path: str | Path, mapping: InputSpec | None = None) -> list[Dialogue]:
    """All dialogues of an input (JSONL, Parquet or dataset); the first bad record raises.

    Use :func:`iter_records` to stream, or to skip bad records.
    """
    out = []
    for _, item in iter_records(path, mapping):
        if isinstance(item, InputError):
            raise item
        out.append(item)
    return out


def _jsonl(p: Path, mapping: InputSpec | None, start: int) -> Iterator[Record]:
    for lineno, _, item in jsonl_lines(p, mapping, start=start):
        yield lineno, item


def jsonl_lines(
    path: str | Path, mapping: InputSpec | None = None, *, start: int = 0
) -> Iterator[tuple[int, bytes, Dialogue | InputError]]:
    """:func:`iter_records` of a JSONL file with each record's line as read (to hand on unparsed)."""
    p = Path(path)
    with p.open("rb", buffering=PASS_BUFFER) as fh:
        yield from _numbered(fh, p, mapping, first=1, start=start)


def jsonl_records(
    lines: Iterable[bytes], path: Path, mapping: InputSpec | None = None, *, first: int = 1, start: int = 0
) -> Iterator[Record]:
    """Records of JSONL lines numbered from ``first``, after line ``start``; blank lines are not records.

    Example:
        >>> [(n, type(x).__name__) for n, x in jsonl_records([b"\\n", b"{bad\\n"], Path("x.jsonl"), first=7)]
        [(8, 'InputError')]
    """
    for lineno, _, item in _numbered(lines, path, mapping, first=first, start=start):
        yield lineno, item


def _numbered(
    lines: Iterable[bytes], path: Path, mapping: InputSpec | None, *, first: int, start: int
) -> Iterator[tuple[int, bytes, Dialogue | InputError]]:
    for lineno, raw in enumerate(lines, start=first):
        if lineno <= start or not raw.strip():
            continue
        try:
            yield lineno, raw, parse_line(raw, name=str(path), lineno=lineno, mapping=mapping)
        except InputError as exc:
            yield lineno, raw, exc


def _parquet_rows(p: Path) -> Iterator[dict[str, Any]]:
    pq: Any = require("pyarrow.parquet", "pyarrow", "Parquet input")
    try:
        pf = pq.ParquetFile(p)
    except Exception as exc:
        raise InputError(f"{p}: not a readable Parquet file ({exc})") from None
    try:
        for batch in pf.iter_batches(batch_size=1024):
            yield from batch.to_pylist()
    except (OSError, ValueError) as exc:  # pyarrow's errors (a cut or corrupt file) subclass these
        raise InputError(f"{p}: not a readable Parquet file ({exc})") from None


def _dataset_rows(p: Path) -> Iterator[dict[str, Any]]:
    datasets: Any = require("datasets", "datasets", "reading a saved Hugging Face dataset")
    try:
        ds = datasets.load_from_disk(str(p))
    except Exception as exc:
        raise InputError(f"{p}: not a saved Hugging Face dataset ({exc})") from None
    if hasattr(ds, "keys") and not hasattr(ds, "features"):  # a DatasetDict
        splits = list(ds.keys())
        if len(splits) != 1:
            raise InputError(f"{p}: dataset has splits {splits}; save the split to score on its own")
        ds = ds[splits[0]]
    yield from iter(ds)


def count_records(path: str | Path) -> int | None:
    """How many records the input holds (for the progress bar), or None if unknown."""
    p = Path(path)
    kind = input_kind(p)
    try:
        if kind == "jsonl":
            with p.open("rb", buffering=PASS_BUFFER) as fh:
                return sum(1 for line in fh if line.strip())
        if kind == "parquet":
            pq: Any = require("pyarrow.parquet", "pyarrow", "Parquet input")
            return int(pq.ParquetFile(p).metadata.num_rows)
    except (OSError, InputError):
        return None
    except Exception:  # an unreadable Parquet file is reported when it is read
        return None
    return None
