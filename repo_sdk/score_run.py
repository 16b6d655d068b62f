"""A resumable, streaming scoring run: input file -> turn rows, dialogue rows, skipped list.

Rows are appended to a hidden journal beside the output (``.OUT.partial``) with a
checkpoint after every scored group, and fsynced; the outputs appear atomically
only when the run completes. ``resume=True`` continues a killed (or failed) run from
the last checkpoint, dropping anything after it, so the final rows are exactly those
of an uninterrupted run; each checkpoint records a digest of the input up to it, so a
resume refuses an input whose scored part changed. Memory stays flat: one group of
dialogues at a time.

Example:
    >>> import json, tempfile, pathlib
    >>> from repo_sdk import RewardPipeline
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "logs.jsonl").write_text(json.dumps({"id": "a", "turns": [
    ...     {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}) + "\\n")
    >>> with RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}}) as pipe:
    ...     summary = score_file(pipe, d / "logs.jsonl", d / "out.jsonl", progress=False)
    >>> summary.turns, summary.dialogues, (d / "out.dialogues.jsonl").exists()
    (1, 1, True)
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, cast

from repo_sdk.config import InputSpec
from repo_sdk.errors import InputError
from repo_sdk.io import PASS_BUFFER
from repo_sdk.io.atomic import atomic_write
from repo_sdk.io.digest import InputDigest
from repo_sdk.io.fastjson import dumps_bytes, loads
from repo_sdk.io.readers import count_records, input_kind, iter_records, jsonl_lines
from repo_sdk.io.rows import dialogue_path, is_parquet, write_rows
from repo_sdk.pipeline import NotRun, RewardPipeline
from repo_sdk.progress import Heartbeat, StepLines
from repo_sdk.rows import SkippedRow, TurnRow
from repo_sdk.run_summary import ScoreSummary
from repo_sdk.scoring import agent_turns, group_by_samples, skipped_row
from repo_sdk.types import Dialogue
from repo_sdk.workers import score_group

__all__ = [
    "Job",
    "ProgressMode",
    "ScoreSummary",
    "fingerprint",
    "group_jobs",
    "journal_path",
    "nothing_read",
    "progress_bar",
    "score_file",
    "skipped_path",
    "write_outputs",
]

ProgressMode = bool | Literal["lines"]  # a bar, nothing, or plain lines (a log, a pipe: stderr not a terminal)
LINES_EVERY = 10.0  # seconds between two progress lines; a run shorter than this prints none
RATE_EVERY = 0.5  # seconds between two updates of the bar's rate


def journal_path(output: Path) -> Path:
    return output.with_name(f".{output.name}.partial")


def skipped_path(output: Path) -> Path:
    """Where skipped input records are listed: ``out.jsonl`` -> ``out.skipped.jsonl``."""
    return output.with_name(f"{output.stem}.skipped.jsonl")


def fingerprint(pipeline: RewardPipeline) -> str:
    """What the rows depend on besides the input: the spec's content, the judge templates' text, and
    which sources are left out or set aside. The input is checked by content at each checkpoint instead."""
    spec = pipeline.spec.model_dump(mode="json") if pipeline.spec else {}
    texts = {n: t.source for n, s in pipeline.sources.items() if (t := getattr(s, "template", None)) is not None}
    not_run = sorted(n for n, s in pipeline.sources.items() if isinstance(s, NotRun))
    key = json.dumps({"spec": spec, "templates": texts, "not_run": not_run}, sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _open_journal(path: Path, fingerprint: str, resume: bool, digest: InputDigest) -> tuple[IO[bytes], int]:
    """Open the journal for appending (binary: rows go in as the UTF-8 bytes they were encoded to);
    returns (handle, input position to continue after).

    Raises:
        InputError: resuming, but the spec or the input records already scored changed since.
    """
    if resume and path.exists():
        keep_bytes, position, seen = 0, 0, ""
        with path.open("rb") as fh:
            try:
                header = json.loads(fh.readline() or b"{}")
            except json.JSONDecodeError:
                header = {}
            if header.get("fingerprint") != fingerprint:
                raise InputError(
                    f"{path}: the interrupted run was for another spec (or its templates, --only or the judges "
                    "set aside changed); rerun without --resume"
                )
            keep_bytes = fh.tell()
            for line in iter(fh.readline, b""):
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    break  # a line cut by the kill: everything after the last checkpoint goes
                if event.get("kind") == "checkpoint":
                    keep_bytes, position, seen = fh.tell(), event["position"], event.get("input", "")
        if position and digest.upto(position) != seen:
            raise InputError(
                f"{digest.path}: records 1-{position} changed since the interrupted run scored them; "
                "rerun without --resume"
            )
        with path.open("r+b") as fh:
            fh.truncate(keep_bytes)
        return path.open("ab"), position
    handle = path.open("wb")
    # (totals: each group's turns are counted from its totals line, not by parsing its rows again)
    handle.write((json.dumps({"kind": "header", "fingerprint": fingerprint, "totals": True}) + "\n").encode())
    handle.flush()
    return handle, 0


def score_file(
    pipeline: RewardPipeline,
    input_path: str | Path,
    output: str | Path,
    *,
    mapping: InputSpec | None = None,
    resume: bool = False,
    on_error: Literal["fail", "skip"] = "fail",
    progress: ProgressMode = True,
    batch_size: int | None = None,
    workers: int = 1,
) -> ScoreSummary:
    """Score an input file into ``output`` (JSONL or Parquet) and its sibling files.

    ``workers > 1`` scores the groups in that many worker processes (:mod:`repo_sdk.workers`);
    the outputs are the same as with one. ``progress``: a bar on stderr (True), plain lines
    (``"lines"``, for a log), or nothing (False).

    Raises:
        InputError: on the first bad record, or source error, when ``on_error="fail"``; on an
            input with no records (or none readable); when resuming, if the spec or the records
            already scored changed. No output is written; the journal is kept when it holds
            scored records, so ``resume=True`` goes on after the fix.
    """
    src, out = Path(input_path), Path(output)
    size = batch_size or (pipeline.spec.batch_size if pipeline.spec else 64)
    out.parent.mkdir(parents=True, exist_ok=True)
    journal = journal_path(out)
    digest = InputDigest(src)
    fh, start = _open_journal(journal, fingerprint(pipeline), resume, digest)
    total = count_records(src) if progress else None
    done, seen, first_skip = start, Counter[str](), ""
    synced = time.monotonic()
    try:
        with fh, digest, ExitStack() as stack:
            pool = _pool(pipeline, workers, stack)  # before the progress bar's thread: workers may be forked
            with progress_bar(progress, total) as advance:
                if start:
                    advance(sum(1 for _ in _positions_upto(src, mapping, start)), 0)
                jobs = group_jobs(_records(src, mapping, start, raw=pool is not None), size, on_error)
                for job, (rows, turns, failed) in _scored(pipeline, jobs, pool, src, mapping):
                    if failed is not None and on_error == "fail":
                        index, where, error = failed
                        raise InputError(f"{src}:{job.positions[index]}: {where}: {error}")
                    checkpoint = {"kind": "checkpoint", "position": job.last, "input": digest.upto(job.last)}
                    fh.write(b"".join([*(dumps_bytes(event) for event in job.skipped), rows, dumps_bytes(checkpoint)]))
                    fh.flush()
                    synced = _sync(fh, synced)
                    done = job.last
                    seen.update(dialogue=len(job.dialogues), skipped=len(job.skipped))
                    first_skip = first_skip or next((e["reason"] for e in job.skipped), "")
                    advance(job.records, turns)
    except BaseException as exc:
        raise _keep_for_resume(exc, journal, done) from None
    if not start and (error := nothing_read(src, seen["dialogue"], seen["skipped"], first_skip)):
        journal.unlink(missing_ok=True)
        raise error
    summary = _finalize(journal, out)
    summary.resumed_from = start
    summary.telemetry = pipeline.telemetry()
    return summary


def _sync(fh: IO[bytes], last: float, every: float = 1.0) -> float:
    """fsync the journal at most once a second: a killed process loses nothing written (the
    kernel has it), and after a power cut resume keeps what reached the disk up to its last
    whole checkpoint. Syncing every group cost more than scoring it."""
    now = time.monotonic()
    if now - last < every:
        return last
    os.fsync(fh.fileno())
    return now


def _keep_for_resume(exc: BaseException, journal: Path, done: int) -> BaseException:
    """A failed run keeps its journal when it holds scored records, so ``--resume`` goes on after the fix."""
    if not done:
        journal.unlink(missing_ok=True)
        return exc
    if isinstance(exc, InputError):
        return InputError(f"{exc} (records 1-{done} are scored and kept: fix this and rerun with --resume)")
    return exc


def nothing_read(src: Path, dialogues: int, skipped: int, first_skip: str) -> InputError | None:
    """The error of an input with no records, or none readable (not an empty success); None when one was scored.

    Example:
        >>> nothing_read(Path("logs.jsonl"), 0, 2, "logs.jsonl:1: malformed JSON")
        InputError('logs.jsonl: none of its 2 records could be read (the first: logs.jsonl:1: malformed JSON)')
    """
    if dialogues:
        return None
    if not skipped:
        return InputError(f"{src}: no records to score (the input is empty)")
    return InputError(f"{src}: none of its {skipped} records could be read (the first: {first_skip})")


def _positions_upto(src: Path, mapping: InputSpec | None, start: int) -> Iterator[int]:
    for pos, _ in iter_records(src, mapping):
        if pos > start:
            return
        yield pos


@dataclass
class Job:
    """A group to score: its dialogues (in worker processes, a JSONL record may travel as its
    ``(line number, line)``) and their input positions, the records set aside, the last position."""

    dialogues: list[Any]
    positions: list[int]
    skipped: list[SkippedRow]
    last: int
    records: int


Record3 = tuple[int, Any, "Dialogue | InputError"]


def _records(src: Path, mapping: InputSpec | None, start: int, *, raw: bool) -> Iterator[Record3]:
    """``(position, what a worker gets, the parsed record)``: with ``raw``, a JSONL record travels as its
    ``(line number, line)`` (a few bytes to copy, where a parsed Dialogue costs more to pickle than to parse)."""
    if raw and input_kind(src) == "jsonl":
        for pos, line, item in jsonl_lines(src, mapping, start=start):
            yield pos, (pos, line), item
        return
    for pos, item in iter_records(src, mapping, start=start):
        yield pos, item, item


def group_jobs(records: Iterable[Record3], size: int, on_error: str) -> Iterator[Job]:
    """The groups to score, in input order, of about ``size`` samples each, from
    ``(position, what the scorer gets, the parsed record)`` triples.

    Raises:
        InputError: the first bad record, when ``on_error`` is ``"fail"``.
    """

    def weight(record: Record3) -> int:
        return agent_turns(record[2]) if isinstance(record[2], Dialogue) else 0

    for group in group_by_samples(records, size, weight):
        errors = [(pos, item) for pos, _, item in group if isinstance(item, InputError)]
        if errors and on_error == "fail":
            raise errors[0][1]
        skipped = [skipped_row(pos, str(err)) for pos, err in errors]
        scored = [(pos, sent) for pos, sent, item in group if isinstance(item, Dialogue)]
        yield Job([d for _, d in scored], [pos for pos, _ in scored], skipped, group[-1][0], len(group))


def _pool(pipeline: RewardPipeline, workers: int, stack: ExitStack) -> Any:
    """The worker processes of a run with ``workers > 1`` (None: this process scores)."""
    if workers <= 1:
        return None
    from repo_sdk.workers import WorkerPool, WorkerStartError

    try:
        return stack.enter_context(WorkerPool(pipeline.factory(), workers, pipeline))
    except WorkerStartError as exc:  # a source registered at run time, say: it exists in this process only
        print(
            f"note: --workers {workers}: a worker could not build the spec ({exc}); scoring in this process",
            file=sys.stderr,
        )
        return None


def _scored(
    pipeline: RewardPipeline, jobs: Iterator[Job], pool: Any, src: Path, mapping: InputSpec | None
) -> Iterator[tuple[Job, Any]]:
    """Each group with its rows as journal lines, turn count and first source error, in input order;
    in the worker processes when there are."""
    if pool is None:
        return ((job, score_group(pipeline, job.dialogues)) for job in jobs)
    return pool.map(lambda job: job.dialogues, jobs, str(src), mapping)


_TURN, _DIALOGUE, _TOTALS = b'{"kind":"turn"', b'{"kind":"dialogue"', b'{"kind":"totals"'


def _finalize(journal: Path, out: Path) -> ScoreSummary:
    """The outputs from the journal, which then goes."""
    summary = write_outputs(lambda: _lines(journal), out)
    journal.unlink()
    return summary


def _lines(journal: Path) -> Iterator[bytes]:
    with journal.open("rb", buffering=PASS_BUFFER) as fh:
        yield from fh


def write_outputs(lines: Callable[[], Iterable[bytes]], out: Path) -> ScoreSummary:
    """Write the turn rows (``out``), dialogue rows and skipped list, each atomically, from a run's journal
    lines in input order (``lines()`` gives them, from the start, each time it is called); returns the totals.

    In one pass for JSONL: a row orjson wrote is copied as it is (parsing and encoding it again gives
    the same bytes). The totals add up the groups' ``totals`` lines when the journal's header says it has
    them (:mod:`repo_sdk.run_summary`), else the turn rows, parsed (a journal of an earlier version).
    """
    summary = ScoreSummary()
    if is_parquet(out):
        return _finalize_rows(lines, out, summary)
    skipped: list[dict[str, Any]] = []
    dialogues = dialogue_path(out)
    grouped = False  # the header says every group has a totals line
    with (
        atomic_write(out, "wb", buffering=PASS_BUFFER) as turns_out,
        atomic_write(dialogues, "wb", buffering=PASS_BUFFER) as dia_out,
    ):
        for line in lines():
            if line.startswith(_TURN):
                if not grouped:
                    summary.add_turn(loads(line))
                turns_out.write(line)
            elif line.startswith(_DIALOGUE):
                summary.dialogues += 1
                dia_out.write(line)
            elif line.startswith(_TOTALS):
                if grouped:
                    summary.add_group(loads(line))
            else:  # header, checkpoint, skipped, or a row the standard library wrote
                event = loads(line)
                kind = event.get("kind")
                if kind == "turn":
                    if not grouped:
                        summary.add_turn(event)
                    turns_out.write(dumps_bytes(event))
                elif kind == "dialogue":
                    summary.dialogues += 1
                    dia_out.write(dumps_bytes(event))
                elif kind == "skipped":
                    skipped.append({k: v for k, v in event.items() if k != "kind"})
                elif kind == "totals" and grouped:
                    summary.add_group(event)
                elif kind == "header":
                    grouped = bool(event.get("totals"))
    return _outputs(summary, out, skipped)


def _finalize_rows(lines: Callable[[], Iterable[bytes]], out: Path, summary: ScoreSummary) -> ScoreSummary:
    """The outputs from parsed rows (Parquet)."""

    def events(kind: str) -> Iterator[dict[str, Any]]:
        for line in lines():
            event = loads(line)
            if event.get("kind") == kind:
                yield event

    def turns() -> Iterator[TurnRow]:
        for row in events("turn"):
            summary.add_turn(cast(TurnRow, row))  # the journal holds the rows scoring.py built
            yield cast(TurnRow, row)

    write_rows(out, turns())
    summary.dialogues = write_rows(dialogue_path(out), events("dialogue"))
    skipped = [{k: v for k, v in e.items() if k != "kind"} for e in events("skipped")]
    return _outputs(summary, out, skipped)


def _outputs(summary: ScoreSummary, out: Path, skipped: list[dict[str, Any]]) -> ScoreSummary:
    summary.outputs = [out, dialogue_path(out)]
    summary.skipped = len(skipped)
    if skipped:
        write_rows(skipped_path(out), skipped)
        summary.outputs.append(skipped_path(out))
    else:
        skipped_path(out).unlink(missing_ok=True)
    return summary


class progress_bar:
    """A rich progress bar on stderr (dialogues, rate, ETA, turns); plain lines for ``"lines"``
    (:mod:`repo_sdk.progress`: one every ``LINES_EVERY`` seconds, also while a group takes long,
    none for a run shorter than that); a no-op when disabled."""

    def __init__(self, enabled: ProgressMode, total: int | None) -> None:
        self.enabled, self.total = enabled, total
        self.bar: Any = None
        self.lines: Heartbeat | None = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda consumed, turns: None
        if self.enabled == "lines":
            say = StepLines("scoring", _say, unit="dialogue", every=LINES_EVERY, quiet_for=LINES_EVERY)
            self.lines = Heartbeat(say, self.total or 0)
            advance_lines = self.lines.__enter__()
            return lambda consumed, turns: advance_lines(consumed)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("scoring"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("dialogues"),
            TextColumn("{task.fields[rate]:.1f}/s"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[turns]} turns"),
            console=Console(stderr=True),
            transient=False,
            refresh_per_second=4,  # (drawn by a thread of this process: 2 % of a core at 10 a second, 0.5 % at 4)
        )
        self.bar.start()
        task = self.bar.add_task("score", total=self.total, rate=0.0, turns=0)
        state = {"turns": 0, "rated": 0.0}

        def advance(consumed: int, turns: int) -> None:
            state["turns"] += turns
            self.bar.update(task, advance=consumed, turns=state["turns"])
            now = time.monotonic()
            if now - state["rated"] >= RATE_EVERY:  # (the rate reads back every step of the last 30 s)
                state["rated"] = now
                self.bar.update(task, rate=self.bar.tasks[0].speed or 0.0)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.lines is not None:
            self.lines.__exit__(*exc)
        if self.bar is not None:
            self.bar.stop()


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
