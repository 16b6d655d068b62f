"""Token ids of many texts at once, the work split over threads.

A fast (Rust) tokenizer releases the GIL while it encodes, so a batch split into
chunks encodes on several cores at once, even where ``TOKENIZERS_PARALLELISM=false``
(set by trainers once a process has forked) keeps each call on one core. On a GPU
this is most of the RM source's own time: the forward pass of a small RM is faster
than tokenizing its inputs on one core.

The first chunk is encoded on the calling thread: the tokenizer wrapper resets the
backend's truncation and padding settings when they differ from the call's, and after
that first call they never differ, so the chunks encoded in parallel only read them.

Example:
    >>> from repo_sdk.rm.tiny import build_tiny_tokenizer
    >>> tok = build_tiny_tokenizer()
    >>> ids = token_ids(tok, ["hello there"] * 300, add_special_tokens=False)
    >>> len(ids), ids[0] == ids[299]
    (300, True)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["CHUNK", "token_ids", "tokenize_threads"]

#: texts per tokenizer call when a batch is split over threads
CHUNK = 64

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def tokenize_threads() -> int:
    """Threads a batch is split over: the process's cores, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


def _forget_pool() -> None:
    """In a forked child: the pool (and its lock) came along, its threads did not; a new one is made on use."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):  # a trainer's data-loader workers and multiprocessing on Linux fork
    os.register_at_fork(after_in_child=_forget_pool)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=tokenize_threads(), thread_name_prefix="repo-sdk-tokenize")
        return _pool


def token_ids(tokenizer: Any, texts: Sequence[str], *, add_special_tokens: bool) -> list[list[int]]:
    """Each text's token ids, in order, with no truncation or padding.

    Args:
        tokenizer: a transformers tokenizer (fast ones run in parallel; slow ones gain nothing but work).
        texts: the texts.
        add_special_tokens: passed to the tokenizer.
    """

    def encode(chunk: Sequence[str]) -> list[list[int]]:
        out = tokenizer(list(chunk), add_special_tokens=add_special_tokens, truncation=False)
        return [list(ids) for ids in out["input_ids"]]

    threads = tokenize_threads()
    if not texts:
        return []
    if threads == 1 or len(texts) <= CHUNK:
        return encode(texts)
    size = max(CHUNK, -(-len(texts) // (threads * 2)))  # a few chunks per thread evens out long texts
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    first = encode(chunks[0])  # settles the tokenizer's settings before the threads read them
    rest = _executor().map(encode, chunks[1:])
    return first + [ids for part in rest for ids in part]
