"""Garbage collection once per scored group, not every 700 allocations.

Scoring a group of dialogues allocates tens of thousands of containers (samples,
token lists, hits, rows), nearly all freed by reference counting when the group is
done. Python's cycle collector meanwhile runs every 700 allocations and, every tenth
and hundredth time, walks the older objects too (the pipeline, its compiled patterns
and caches): on long logs a fifth of the rules' time went there (docs/benchmarks.md).
:func:`collected_after` turns the automatic collector off while one group is scored
and collects the youngest generation once when it ends, so the cyclic garbage of a
group is freed with it (memory stays bounded by one group); between groups the
automatic collector runs as usual. Its callers end the block once the group's samples,
results and rows are dropped (:func:`repo_sdk.workers.score_group`, the blocks of the
ray engine): the collection then walks only what outlives the group, not the group.

Example:
    >>> import gc
    >>> with collected_after():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collected_after"]


@contextmanager
def collected_after() -> Iterator[None]:
    """No automatic collection inside the block, one of the youngest generation after it.

    When the collector is already off (the caller manages it), nothing changes.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)
