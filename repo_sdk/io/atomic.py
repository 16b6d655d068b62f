"""Atomic output: write to a temporary file (or folder) beside the target, rename on success.

A crash or an error leaves the target as it was (absent, or the previous version).

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "rows.jsonl"
    >>> with atomic_write(out) as fh:
    ...     _ = fh.write("{}\\n")
    >>> out.read_text()
    '{}\\n'
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_dir", "atomic_write"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(
    path: str | Path, mode: str = "w", encoding: str | None = "utf-8", buffering: int = -1
) -> Iterator[IO]:
    """Open a temporary sibling of ``path`` (``buffering`` as :func:`open` takes it); on clean exit fsync and
    rename it into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, mode, buffering, encoding=None if "b" in mode else encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_dir(target: str | Path, write: Callable[[Path], object], *, overwrite: bool = True) -> Path:
    """Have ``write(folder)`` fill a fresh folder beside ``target``, then put it in place of ``target``.

    A crash or an error inside ``write`` leaves ``target`` as it was and no folder behind.

    Raises:
        FileExistsError: ``target`` exists and ``overwrite`` is false.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "model"
        >>> _ = atomic_dir(out, lambda d: (d / "weights.bin").write_bytes(b"w"))
        >>> sorted(p.name for p in out.iterdir())
        ['weights.bin']
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not overwrite:
        raise FileExistsError(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        write(staging)
        staging.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; outputs get the usual mode
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target
