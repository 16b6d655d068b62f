"""Scoring groups of dialogues in worker processes, results in input order.

``repo-sdk score --workers N`` hands each group of dialogues to one of ``N`` worker
processes, each with its own pipeline built from the spec, and writes the groups'
rows to the journal in input order as they come back: the same rows, the same
checkpoints, the same files as one process (so ``--resume`` works the same), with
at most ``2 * N`` groups in flight (memory stays flat).

Workers start with ``spawn`` (a fresh interpreter: safe with threads and loaded
models) and build their pipeline once, so sources must come from installed plugins (when a worker
cannot build it, `score` says so and scores in its own process).

Example:
    >>> from functools import partial
    >>> from repo_sdk.pipeline import RewardPipeline
    >>> from repo_sdk.testing import make_dialogue
    >>> factory = partial(RewardPipeline.from_spec, {"sources": {"rules": ["cot_leak"]}})
    >>> d = make_dialogue([("user", "Hi"), ("assistant", "<think>x</think>Hello")], id="d1")
    >>> with WorkerPool(factory, workers=2) as pool:  # jobs, and how to get each job's dialogues
    ...     [(job, turns) for job, (lines, turns, failed) in pool.map(lambda job: [d], ["group 1", "group 2"])]
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
from repo_sdk.run_checks import first_source_error
from repo_sdk.scoring import score_dialogue_batch
from repo_sdk.types import Dialogue

__all__ = ["WorkerPool", "WorkerStartError", "default_workers", "score_group"]

J = TypeVar("J")
_pipeline: RewardPipeline | None = None  # the worker process's own pipeline
_start_error = ""  # why it could not be built


def default_workers(pipeline: RewardPipeline) -> int:
    """The default ``--workers``: every core when only the built-in rules source runs (cheap, CPU-bound,
    nothing loaded), else 1, so that an RM or an embedded judge is loaded once, not once per core.

    Example:
        >>> default_workers(RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}})) >= 1
        True
    """
    only_rules = all(src.name in ("rules", "not_run") for src in pipeline.sources.values())
    return _cores() if only_rules else 1


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


GroupResult = tuple[str, int, "tuple[int, str, str] | None"]


def score_group(pipeline: RewardPipeline, dialogues: list[Dialogue]) -> GroupResult:
    """One group's rows as journal lines, how many turn rows they hold, and its first source error
    as (index of the dialogue in ``dialogues``, where in it, the error) or None."""
    rows = score_dialogue_batch(pipeline, dialogues)
    failed = first_source_error(rows, range(len(dialogues)))
    return "".join(dumps_line(r) for r in rows), sum(r["kind"] == "turn" for r in rows), failed


def _start(factory: Callable[[], RewardPipeline], parent: int) -> None:
    global _pipeline
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    try:
        _pipeline = factory()
    except Exception as exc:  # told to the parent by _ready, not printed as a traceback here
        global _start_error
        _start_error = f"{type(exc).__name__}: {exc}"


def _exit_with(parent: int) -> None:
    """End this worker when its parent is gone (killed with -9, say): nothing else would tell it."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _ready() -> str:
    """Empty when this worker built its pipeline, else why it could not."""
    return _start_error


def _score(dialogues: list[Dialogue]) -> GroupResult:
    if _pipeline is None:
        raise WorkerStartError(_start_error)
    return score_group(_pipeline, dialogues)


class WorkerStartError(RuntimeError):
    """A worker process could not build the pipeline (a source registered at run time, not installed)."""


class WorkerPool:
    """``workers`` processes, each with the pipeline ``factory()`` builds (a picklable callable)."""

    def __init__(self, factory: Callable[[], RewardPipeline], workers: int) -> None:
        self.workers = workers
        context = multiprocessing.get_context("spawn")
        self._executor = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start, initargs=(factory, os.getpid())
        )
        if error := self._executor.submit(_ready).result():
            self.close()
            raise WorkerStartError(error)

    def map(self, dialogues_of: Callable[[J], list[Dialogue]], jobs: Iterable[J]) -> Iterator[tuple[J, GroupResult]]:
        """Each job with its group's :func:`score_group` result, in the order of ``jobs``."""
        pending: deque[tuple[J, Future[GroupResult]]] = deque()
        upcoming = iter(jobs)
        while True:
            try:
                job = next(upcoming)
            except StopIteration:
                break
            except Exception:  # a bad record ends the run: the groups before it are still written first
                while pending:
                    done, future = pending.popleft()
                    yield done, future.result()
                raise
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
