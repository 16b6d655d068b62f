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

A pipeline of the built-in rules alone holds nothing that forking could break (no
model, no thread), so its workers are forked from the main process, pipeline included,
and start at once; any other pipeline's workers start with ``spawn`` (a fresh
interpreter: safe with threads and loaded models) and build their pipeline from the
spec, so sources must come from installed plugins (when a worker cannot build it,
`score` says so and scores in its own process).

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

import gc
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

from repo_sdk.config import InputSpec
from repo_sdk.gc_policy import collected_after
from repo_sdk.io.dialogues import parse_line
from repo_sdk.io.fastjson import dumps_bytes
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.run_checks import first_source_error
from repo_sdk.run_summary import group_totals
from repo_sdk.scoring import score_dialogue_batch
from repo_sdk.types import Dialogue, Turn

__all__ = [
    "IN_FLIGHT_PER_WORKER",
    "WorkerPool",
    "WorkerStartError",
    "default_workers",
    "forkable",
    "runs_rules_only",
    "score_group",
    "usable_cores",
    "warm_up",
]

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
    return usable_cores() if runs_rules_only(pipeline) else 1


def runs_rules_only(pipeline: RewardPipeline) -> bool:
    """Whether the built-in rules source is all that runs (cheap, CPU-bound, nothing loaded)."""
    return all(src.name in ("rules", "not_run") for src in pipeline.sources.values())


def forkable(pipeline: RewardPipeline) -> bool:
    """Whether workers may be forked from this process: the built-in rules alone, and no other thread."""
    return (
        runs_rules_only(pipeline)
        and threading.active_count() == 1
        and "fork" in multiprocessing.get_all_start_methods()
    )


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it, else every core).

    Example:
        >>> usable_cores() >= 1
        True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


GroupResult = tuple[bytes, int, "tuple[int, str, str] | None"]

# Chunks handed out and not yet written, per worker. Results are written in input order, so a slow chunk at the
# head (one huge reply: a second or more) holds back those behind it; with a few chunks in flight a worker the
# others keep scoring meanwhile instead of waiting (2 a worker: two workers sped a run up 1.5x, 8: 1.8x).
IN_FLIGHT_PER_WORKER = 8


def score_group(pipeline: RewardPipeline, dialogues: list[Dialogue]) -> GroupResult:
    """One group's rows as journal lines (UTF-8), then the line of their totals (what the run's totals
    add up: :func:`repo_sdk.run_summary.group_totals`); how many turn rows they hold; and its first source
    error as (index of the dialogue in ``dialogues``, where in it, the error) or None.

    The automatic garbage collector is off while the group is scored, and its youngest generation is
    collected once after, when the group's samples, results and rows are gone (:mod:`repo_sdk.gc_policy`).
    """
    with collected_after():
        return _group_lines(pipeline, dialogues)  # (its objects are freed on return, before the collection)


def _group_lines(pipeline: RewardPipeline, dialogues: list[Dialogue]) -> GroupResult:
    rows = score_dialogue_batch(pipeline, dialogues)
    failed = first_source_error(rows, range(len(dialogues)))
    totals = group_totals([r for r in rows if r["kind"] == "turn"])
    lines = [dumps_bytes(r) for r in rows]
    lines.append(dumps_bytes({"kind": "totals", **totals}))
    return b"".join(lines), totals["turns"], failed


def warm_up(pipeline: RewardPipeline) -> None:
    """Score one made-up dialogue, so that what the rules build on first use is built in this process:
    workers forked after it inherit it instead of each building it again (compiled patterns, the search
    for the rules' words, numpy for comparing many sentences at once where the C part is not built: about 0.2 s of CPU a
    worker).

    The rows do not change: every cache is keyed by the text it holds, and dialogue state is per dialogue.

    Example:
        >>> warm_up(RewardPipeline.from_spec({"sources": {"rules": ["repetition"]}}))
    """
    turns = []
    for k in range(4):  # each reply's 8 new sentences against the 8 k earlier ones: the many-at-once comparison
        words = [f"w{k}{i}{j}" for i in range(8) for j in range(8)]  # (words of its own: no reply repeats another)
        pitch = " ".join(f"The room {' '.join(words[8 * i : 8 * i + 8])} costs {80 + i} EUR." for i in range(8))
        pitch += " Спасибо, 谢谢." if k == 0 else ""  # (other scripts: their expressions are compiled on first use)
        turns += [Turn(role="user", content="Tell me more."), Turn(role="assistant", content=pitch)]
    try:
        score_dialogue_batch(pipeline, [Dialogue(id="warm-up", turns=turns)])
    except Exception:  # only a head start: a source that fails here fails on the logs too, and says so there
        pass


def _start(factory: Callable[[], RewardPipeline] | None, parent: int, inherited: RewardPipeline | None = None) -> None:
    global _pipeline
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    if inherited is not None:  # forked: the main process's pipeline came along
        _pipeline = inherited
        return
    try:
        assert factory is not None, "a spawned worker builds its own pipeline"
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


def _score(name: str, mapping: InputSpec | None, groups: list[list[Any]]) -> list[GroupResult]:
    if _pipeline is None:
        raise WorkerStartError(_start_error)
    out = []
    for group in groups:
        dialogues = [
            item if isinstance(item, Dialogue) else parse_line(item[1], name=name, lineno=item[0], mapping=mapping)
            for item in group
        ]
        out.append(score_group(_pipeline, dialogues))
    return out


class WorkerStartError(RuntimeError):
    """A worker process could not build the pipeline (a source registered at run time, not installed)."""


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
        initargs = (None, os.getpid(), pipeline) if fork else (factory, os.getpid())
        self._executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=initargs)
        if fork:
            assert pipeline is not None
            warm_up(pipeline)
            gc.freeze()  # what the workers inherit stays out of their collections, so its pages stay shared
        try:
            # starts the workers (forked now, while this process has no other thread: a progress bar starts one)
            error = self._executor.submit(_ready).result()
        finally:
            if fork:
                gc.unfreeze()
        if error:
            self.close()
            raise WorkerStartError(error)

    def map(
        self,
        dialogues_of: Callable[[J], list[Any]],
        jobs: Iterable[J],
        name: str = "",
        mapping: InputSpec | None = None,
    ) -> Iterator[tuple[J, GroupResult]]:
        """Each job with its group's :func:`score_group` result, in the order of ``jobs``.

        A group holds Dialogues, or ``(line number, line)`` of records of the JSONL file
        ``name`` (read with ``mapping``), parsed in the worker.
        """
        pending: deque[tuple[list[J], Future[list[GroupResult]]]] = deque()
        chunk: list[J] = []
        size = 0
        upcoming = iter(jobs)
        while True:
            try:
                job = next(upcoming)
            except StopIteration:
                break
            except Exception:  # a bad record ends the run: the groups before it are still written first
                if chunk:
                    pending.append((chunk, self._submit(dialogues_of, chunk, name, mapping)))
                while pending:
                    yield from self._done(pending.popleft())
                raise
            chunk.append(job)
            size += max(1, len(dialogues_of(job)))
            if size < self.chunk:
                continue
            pending.append((chunk, self._submit(dialogues_of, chunk, name, mapping)))
            chunk, size = [], 0
            if len(pending) >= IN_FLIGHT_PER_WORKER * self.workers:
                yield from self._done(pending.popleft())
        if chunk:
            pending.append((chunk, self._submit(dialogues_of, chunk, name, mapping)))
        while pending:
            yield from self._done(pending.popleft())

    def _submit(
        self, dialogues_of: Callable[[J], list[Any]], chunk: list[J], name: str, mapping: InputSpec | None
    ) -> Future[list[GroupResult]]:
        return self._executor.submit(_score, name, mapping, [dialogues_of(job) for job in chunk])

    @staticmethod
    def _done(entry: tuple[list[J], Future[list[GroupResult]]]) -> Iterator[tuple[J, GroupResult]]:
        chunk, future = entry
        yield from zip(chunk, future.result(), strict=True)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
