"""Content digests of an input, so a resumed run can tell whether the part already scored changed.

A checkpoint of ``repo-sdk score`` stores the digest of the input's first N records
(JSONL: the bytes of lines 1..N; Parquet or a dataset: the whole input). ``--resume``
recomputes it on the input as it is now: a different digest means the rows kept in the
journal no longer match the input, and the run is refused. Lines after the checkpoint
may change (a bad record fixed after a failed run) without refusing anything.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "logs.jsonl"
    >>> _ = p.write_text('{"a": 1}\\n{"b": 2}\\n')
    >>> first = InputDigest(p).upto(1)
    >>> _ = p.write_text('{"a": 1}\\n{"b": 3}\\n')  # line 2 changed, line 1 did not
    >>> InputDigest(p).upto(1) == first, InputDigest(p).upto(2) == InputDigest(p).upto(1)
    (True, False)
"""

from __future__ import annotations

import hashlib
from functools import partial
from pathlib import Path
from typing import IO

from repo_sdk.io import PASS_BUFFER
from repo_sdk.io.readers import input_kind

__all__ = ["InputDigest", "file_digest"]


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, or of every file under a folder (names and bytes, in name order)."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode() + b"\0")
        with f.open("rb") as fh:
            for chunk in iter(partial(fh.read, PASS_BUFFER), b""):
                h.update(chunk)
    return h.hexdigest()


class InputDigest:
    """Digests of an input's prefixes, read forward once (positions must not go back).

    Args:
        path: the input (JSONL file, Parquet file, or a saved dataset folder).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.kind = input_kind(self.path)
        self._hash = hashlib.sha256()
        self._line = 0
        self._fh: IO[bytes] | None = None
        self._whole: str | None = None

    def upto(self, position: int) -> str:
        """Digest of records 1..``position`` (JSONL lines); of the whole input for other kinds."""
        if self.kind != "jsonl":
            if self._whole is None:
                self._whole = file_digest(self.path)
            return self._whole
        if position < self._line:
            raise ValueError(f"position {position} is before {self._line}, where this digest already is")
        if self._fh is None:
            self._fh = self.path.open("rb", buffering=PASS_BUFFER)
        while self._line < position:
            line = self._fh.readline()
            if not line:
                break  # the input is shorter now: the digest differs from the one recorded
            self._hash.update(line)
            self._line += 1
        return f"{self._line}:{self._hash.copy().hexdigest()}"

    def __enter__(self) -> InputDigest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
