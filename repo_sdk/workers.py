"""Scoring groups of dialogues in worker processes, results in input order.

``repo-sdk score --workers N`` hands the groups of dialogues to ``N`` worker
processes, each with its own pipeline, and writes the groups' rows to the journal in
input order as they come back: the same rows, the same checkpoints, the same files as
one process (so ``--resume`` works the same), with a bounded number of groups in
flight (memory stays flat).

The main process reads and groups the records as one process would (so the groups,
and the rows of a batch-dependent combiner, are the same) but sends a JSONL record
on as its line, which the worker parses again: a line costs nothing to pickle, a
parsed Dialogue costs more than parsing it. Several consecutive groups travel as one
task (``chunk`` records at least), so the cost of a round trip is spread. Rows come
back as the journal's bytes.

A pipeline of rules alone holds nothing that forking could break (no model, no thread),
so its workers are forked from the main process, pipeline included, and start at once;
any other pipeline's workers start with ``spawn`` (a fresh interpreter: safe with
threads and loaded models) and build their pipeline from the spec, so sources must come
from installed plugins.

Example:
    >>> from functools import partial
    >>> from repo_sdk.pipeline import RewardPipeline
    >>> from repo_sdk.testing import make_dialogue
    >>> factory = partial(RewardPipeline.from_spec, {"sources": {"rules": ["cot_leak"]}})
    >>> d = make_dialogue([("user", "Hi"), ("assistant", "<think>x</think>Hello")], id="d1")
    >>> jobs = [([d], "group 1"), ([d], "group 2")]  # each job's dialogues first
    >>> with WorkerPool(factory, workers=2) as pool:
    ...     [(job[1], turns) for job, (lines, turns) in pool.map(jobs)]
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

from repo_sdk.config import InputSpec
from repo_sdk.io.dialogues import parse_line
from repo_sdk.io.fastjson import dumps_bytes
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.scoring import score_dialogue_batch
from repo_sdk.types import Dialogue

__all__ = ["WorkerPool", "default_workers", "forkable", "score_group"]

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


def score_group(pipeline: RewardPipeline, dialogues: list[Dialogue]) -> tuple[bytes, int]:
    """One group's rows as journal lines (UTF-8), and how many turn rows they hold."""
    rows = score_dialogue_batch(pipeline, dialogues)
    return b"".join([dumps_bytes(r) for r in rows]), sum(r["kind"] == "turn" for r in rows)


def forkable(pipeline: RewardPipeline) -> bool:
    """Whether workers may be forked from this process: a pipeline of rules alone, no other thread."""
    only_rules = all(src.kind == "rules" or src.name == "not_run" for src in pipeline.sources.values())
    return only_rules and threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def _start(factory: Callable[[], RewardPipeline] | None, inherited: RewardPipeline | None = None) -> None:
    global _pipeline
    parent = os.getppid()
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    _pipeline = inherited if inherited is not None else factory()  # type: ignore[misc]


def _exit_with(parent: int) -> None:
    """End this worker when its parent is gone (killed with -9, say): nothing else would tell it."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _ready() -> None:
    """A no-op task: submitting it starts the worker processes."""


def _score(name: str, mapping: InputSpec | None, groups: list[list[Any]]) -> list[tuple[bytes, int]]:
    assert _pipeline is not None, "worker started without a pipeline"
    out = []
    for group in groups:
        dialogues = [
            item if isinstance(item, Dialogue) else parse_line(item[1], name=name, lineno=item[0], mapping=mapping)
            for item in group
        ]
        out.append(score_group(_pipeline, dialogues))
    return out


class WorkerPool:
    """``workers`` processes, each with the pipeline ``factory()`` builds (a picklable callable).

    Args:
        factory: builds the pipeline in a spawned worker.
        workers: how many processes.
        pipeline: the pipeline of this process: workers are forked with it when :func:`forkable` says so.
        chunk: records (at least) handed to a worker at a time (16: some 250 turns of typical logs).
    """

    def __init__(
        self,
        factory: Callable[[], RewardPipeline],
        workers: int,
        pipeline: RewardPipeline | None = None,
        chunk: int = 16,
    ) -> None:
        self.workers, self.chunk = workers, chunk
        fork = pipeline is not None and forkable(pipeline)
        context = multiprocessing.get_context("fork" if fork else "spawn")
        initargs = (None, pipeline) if fork else (factory,)
        self._executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=initargs)
        if fork:  # fork now, while this process has no other thread (a progress bar starts one)
            self._executor.submit(_ready).result()

    def map(
        self, jobs: Iterable[J], name: str = "", mapping: InputSpec | None = None
    ) -> Iterator[tuple[J, tuple[bytes, int]]]:
        """Each job with its group's ``(journal lines, turns)``, in the order of ``jobs``.

        A job's first item is its group: Dialogues, or ``(line number, line)`` of records of
        the JSONL file ``name`` (read with ``mapping``).
        """
        pending: deque[tuple[list[J], Future[list[tuple[bytes, int]]]]] = deque()
        chunk: list[J] = []
        size = 0
        for job in jobs:
            chunk.append(job)
            size += max(1, len(job[0]))  # type: ignore[index]
            if size < self.chunk:
                continue
            pending.append((chunk, self._executor.submit(_score, name, mapping, [j[0] for j in chunk])))  # type: ignore[index]
            chunk, size = [], 0
            if len(pending) >= 2 * self.workers:
                yield from self._done(pending.popleft())
        if chunk:
            pending.append((chunk, self._executor.submit(_score, name, mapping, [j[0] for j in chunk])))  # type: ignore[index]
        while pending:
            yield from self._done(pending.popleft())

    @staticmethod
    def _done(entry: tuple[list[J], Future[list[tuple[bytes, int]]]]) -> Iterator[tuple[J, tuple[bytes, int]]]:
        chunk, future = entry
        yield from zip(chunk, future.result(), strict=True)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
