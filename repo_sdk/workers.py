"""Scoring groups of dialogues in worker processes, results in input order.

``repo-sdk score --workers N`` hands each group of dialogues to one of ``N`` worker
processes, each with its own pipeline built from the spec, and writes the groups'
rows to the journal in input order as they come back: the same rows, the same
checkpoints, the same files as one process (so ``--resume`` works the same), with
at most ``2 * N`` groups in flight (memory stays flat).

Workers start with ``spawn`` (a fresh interpreter: safe with threads and loaded
models) and build their pipeline once, so sources must come from installed plugins.

Example:
    >>> from functools import partial
    >>> from repo_sdk.pipeline import RewardPipeline
    >>> from repo_sdk.testing import make_dialogue
    >>> factory = partial(RewardPipeline.from_spec, {"sources": {"rules": ["cot_leak"]}})
    >>> d = make_dialogue([("user", "Hi"), ("assistant", "<think>x</think>Hello")], id="d1")
    >>> with WorkerPool(factory, workers=2) as pool:  # jobs, and how to get each job's dialogues
    ...     [(job, turns) for job, (lines, turns) in pool.map(lambda job: [d], ["group 1", "group 2"])]
    [('group 1', 1), ('group 2', 1)]
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

from repo_sdk.io.fastjson import dumps_line
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.scoring import score_dialogue_batch
from repo_sdk.types import Dialogue

__all__ = ["WorkerPool", "default_workers", "score_group"]

J = TypeVar("J")
_pipeline: RewardPipeline | None = None  # the worker process's own pipeline


def default_workers(pipeline: RewardPipeline) -> int:
    """The default ``--workers``: every core when only rules (cheap, CPU-bound, nothing loaded) run,
    else 1, so that an in-process RM or an embedded judge is loaded once, not once per core.

    Example:
        >>> default_workers(RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}})) >= 1
        True
    """
    only_rules = all(src.kind == "rules" or src.name == "not_run" for src in pipeline.sources.values())
    return _cores() if only_rules else 1


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def score_group(pipeline: RewardPipeline, dialogues: list[Dialogue]) -> tuple[str, int]:
    """One group's rows as journal lines, and how many turn rows they hold."""
    rows = score_dialogue_batch(pipeline, dialogues)
    return "".join(dumps_line(r) for r in rows), sum(r["kind"] == "turn" for r in rows)


def _start(factory: Callable[[], RewardPipeline]) -> None:
    global _pipeline
    parent = os.getppid()
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    _pipeline = factory()


def _exit_with(parent: int) -> None:
    """End this worker when its parent is gone (killed with -9, say): nothing else would tell it."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _score(dialogues: list[Dialogue]) -> tuple[str, int]:
    assert _pipeline is not None, "worker started without a pipeline"
    return score_group(_pipeline, dialogues)


class WorkerPool:
    """``workers`` processes, each with the pipeline ``factory()`` builds (a picklable callable)."""

    def __init__(self, factory: Callable[[], RewardPipeline], workers: int) -> None:
        self.workers = workers
        context = multiprocessing.get_context("spawn")
        self._executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=(factory,))

    def map(
        self, dialogues_of: Callable[[J], list[Dialogue]], jobs: Iterable[J]
    ) -> Iterator[tuple[J, tuple[str, int]]]:
        """Each job with its group's ``(journal lines, turns)``, in the order of ``jobs``."""
        pending: deque[tuple[J, Future[tuple[str, int]]]] = deque()
        for job in jobs:
            pending.append((job, self._executor.submit(_score, dialogues_of(job))))
            if len(pending) >= 2 * self.workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
