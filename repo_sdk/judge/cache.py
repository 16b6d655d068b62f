"""Content-addressed on-disk cache of judge replies (SQLite, shared by processes).

The key is the SHA-256 of everything that decides the judge's answer: scoring
mode, template name, the rendered chat messages, model, sampling parameters and
the sample index (``n_samples > 1`` asks the same prompt several times). The value is the judge's
raw reply text, so a re-run re-parses it with the current parser.

Storage is one SQLite file, ``<dir>/judge-cache.sqlite3``, in WAL mode: any
number of processes (trainer workers, parallel scoring jobs) read and write it at
once; a reader sees a committed entry or none; two writers of one key write the
same content. New entries are buffered in memory (visible to this process at
once) and committed in batches: every ``flush_every`` entries, at the end of each
scored batch, and at exit. A file per entry was the first design; on the
project's VM creating a file took 0.6-1 ms, which capped a cached run at a few
hundred calls per second, where a batched SQLite insert takes a few
microseconds. Keep the cache on a local disk (SQLite over NFS is not safe).

Errors of the cache (unwritable folder, damaged file, a lock held too long)
never fail scoring: the cache turns itself off and says why in ``error``.

Example:
    >>> import tempfile
    >>> cache = JudgeCache(tempfile.mkdtemp())
    >>> key = cache_key("pointwise", [{"role": "user", "content": "hi"}], "m", {"temperature": 0})
    >>> cache.get(key) is None
    True
    >>> cache.put(key, '{"score": 4}'); cache.get(key)
    '{"score": 4}'
    >>> cache.flush(); len(cache)
    1
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["JudgeCache", "KeyMaker", "cache_key", "default_cache_dir"]

CACHE_ENV = "REPO_SDK_CACHE_DIR"
_FORMAT = 2  # 2: keys hold the scoring mode; only readable answers are stored


def default_cache_dir() -> Path:
    """``$REPO_SDK_CACHE_DIR/judge``, else ``$XDG_CACHE_HOME/repo-sdk/judge``, else ``~/.cache/repo-sdk/judge``."""
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root).expanduser() / "judge"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "repo-sdk" / "judge"


def cache_key(
    template: str,
    messages: Sequence[Mapping[str, str]],
    model: str,
    sampling: Mapping[str, Any],
    sample_index: int = 0,
    mode: str = "text",
) -> str:
    """The content address of one judge request (hex SHA-256)."""
    return KeyMaker(template, model, sampling, mode)(messages, sample_index)


class KeyMaker:
    """:func:`cache_key` with the per-source part (template, model, sampling) hashed once.

    Example:
        >>> make = KeyMaker("pointwise", "m", {"temperature": 0})
        >>> make([{"role": "user", "content": "hi"}], 0) == cache_key(
        ...     "pointwise", [{"role": "user", "content": "hi"}], "m", {"temperature": 0})
        True
    """

    def __init__(self, template: str, model: str, sampling: Mapping[str, Any], mode: str = "text") -> None:
        head = {"format": _FORMAT, "mode": mode, "template": template, "model": model, "sampling": dict(sampling)}
        self._prefix = hashlib.sha256(_dumps(head).encode("utf-8"))

    def __call__(self, messages: Sequence[Mapping[str, str]], sample_index: int = 0) -> str:
        h = self._prefix.copy()
        h.update(f"|{sample_index}|".encode())
        h.update(_dumps([[m["role"], m["content"]] for m in messages]).encode("utf-8"))
        return h.hexdigest()

    def of(self, *parts: str) -> str:
        """A key from the per-source part and ``parts`` (already serialised)."""
        h = self._prefix.copy()
        for part in parts:
            h.update(b"\x00" + part.encode("utf-8"))
        return h.hexdigest()


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


class JudgeCache:
    """Judge replies on disk, keyed by content address; safe across processes (see the module docs).

    Args:
        directory: the cache folder (created on first use).
        flush_every: buffered entries that trigger a commit.
    """

    FILENAME = "judge-cache.sqlite3"

    def __init__(self, directory: str | Path, *, flush_every: int = 256) -> None:
        self.directory = Path(directory).expanduser()
        self.path = self.directory / self.FILENAME
        self.flush_every = flush_every
        self.error: str | None = None
        self._pending: dict[str, str] = {}
        self._lock = threading.RLock()
        self._con: sqlite3.Connection | None = None
        self._pid = 0
        _open_caches.add(self)

    def _connection(self) -> sqlite3.Connection | None:
        if self.error is not None:
            return None
        if self._con is not None and self._pid == os.getpid():
            return self._con
        try:  # first use, or a forked child: a connection must not cross a fork
            self.directory.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")  # a cache may lose its last commits in a power cut
            con.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL) WITHOUT ROWID")
        except (OSError, sqlite3.Error) as exc:
            self._disable(exc)
            return None
        self._con, self._pid = con, os.getpid()
        return con

    def _disable(self, exc: BaseException) -> None:
        self.error = f"judge cache at {self.path} turned off: {type(exc).__name__}: {exc}"
        self._con = None
        logging.getLogger(__name__).warning("%s; scoring goes on without it", self.error)

    def get(self, key: str) -> str | None:
        """The cached reply text, or None."""
        with self._lock:
            text = self._pending.get(key)
            if text is not None:
                return text
            con = self._connection()
            if con is None:
                return None
            try:
                row = con.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error as exc:
                self._disable(exc)
                return None
        return row[0] if row is not None else None

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        """The cached replies of those ``keys`` that have one (one query per 500 keys)."""
        with self._lock:
            found = {k: self._pending[k] for k in keys if k in self._pending}
            con = self._connection()
            if con is None:
                return found
            rest = [k for k in keys if k not in found]
            try:
                for i in range(0, len(rest), 500):
                    chunk = rest[i : i + 500]
                    marks = ",".join("?" * len(chunk))
                    found.update(con.execute(f"SELECT key, reply FROM replies WHERE key IN ({marks})", chunk))
            except sqlite3.Error as exc:
                self._disable(exc)
        return found

    def put(self, key: str, text: str) -> None:
        """Store a reply (buffered; committed every ``flush_every`` entries or on :meth:`flush`)."""
        with self._lock:
            self._pending[key] = text
            if len(self._pending) >= self.flush_every:
                self.flush()

    def flush(self) -> None:
        """Commit the buffered entries in one transaction."""
        with self._lock:
            if not self._pending:
                return
            pending, self._pending = self._pending, {}
            con = self._connection()
            if con is None:
                return
            try:
                con.execute("BEGIN IMMEDIATE")
                con.executemany("INSERT OR REPLACE INTO replies (key, reply) VALUES (?, ?)", pending.items())
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                self._disable(exc)

    def close(self) -> None:
        """Commit what is buffered and close the connection."""
        with self._lock:
            self.flush()
            if self._con is not None and self._pid == os.getpid():
                self._con.close()
            self._con = None

    def __len__(self) -> int:
        with self._lock:
            self.flush()
            con = self._connection()
            if con is None:
                return 0
            return int(con.execute("SELECT COUNT(*) FROM replies").fetchone()[0])


_open_caches: weakref.WeakSet[JudgeCache] = weakref.WeakSet()


@atexit.register
def _flush_all() -> None:
    for cache in list(_open_caches):
        cache.close()
