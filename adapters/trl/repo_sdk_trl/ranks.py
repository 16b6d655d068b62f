"""Whole groups for group-aware combiners when TRL runs on several processes.

TRL (through accelerate) hands each process its share of the completions, and a GRPO
group (the completions of one prompt) may straddle two processes. A combiner that
reads a sample's group (``normalize_then_sum`` z-scores each source within it) would
then see a part of the group on each process. The reward function scores its own
samples with every source, and :func:`gather` collects the per-source scores of every
process (``torch.distributed.all_gather_object``, on a CPU ``gloo`` group made once, so
it neither needs nor disturbs a GPU), so each process combines the whole batch and keeps
its own share.

Example:
    >>> world() is None  # one process: nothing to gather
    True
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["gather", "world"]

_group: Any = None
_group_lock = threading.Lock()


def world() -> tuple[int, int] | None:
    """``(rank, world size)`` of an initialised ``torch.distributed`` run of several processes, else None."""
    try:
        import torch.distributed as dist
    except ImportError:
        return None
    if not dist.is_available() or not dist.is_initialized():
        return None
    size = dist.get_world_size()
    return (dist.get_rank(), size) if size > 1 else None


def _cpu_group() -> Any:
    """A gloo group over every process (the default one when it is gloo already), made once.

    Objects are pickled into CPU tensors: on NCCL they would go through the GPU this thread
    happens to see as current, which in TRL's reward thread is not the process's own.
    """
    global _group
    import torch.distributed as dist

    with _group_lock:
        if _group is None:
            _group = dist.group.WORLD if dist.get_backend() == "gloo" else dist.new_group(backend="gloo")
        return _group


def gather(obj: Any) -> list[Any]:
    """``obj`` of every process, in rank order (every process must call this, in the same order).

    Example:
        >>> gather("x") if world() is not None else ["x"]
        ['x']
    """
    import torch.distributed as dist

    size = dist.get_world_size()
    out: list[Any] = [None] * size
    dist.all_gather_object(out, obj, group=_cpu_group())
    return out
