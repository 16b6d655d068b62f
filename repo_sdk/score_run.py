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
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from repo_sdk.config import InputSpec
from repo_sdk.errors import InputError
from repo_sdk.io.digest import InputDigest
from repo_sdk.io.readers import count_records, iter_records
from repo_sdk.io.rows import dialogue_path, write_rows
from repo_sdk.pipeline import NotRun, RewardPipeline
from repo_sdk.run_checks import first_source_error
from repo_sdk.scoring import agent_turns, group_by_samples, score_dialogue_batch
from repo_sdk.types import Dialogue

__all__ = ["ScoreSummary", "journal_path", "score_file", "skipped_path"]


@dataclass
class ScoreSummary:
    """Totals of a finished run, for the summary table."""

    dialogues: int = 0
    turns: int = 0
    skipped: int = 0
    resumed_from: int = 0
    reward_sum: float = 0.0
    reward_count: int = 0
    reward_min: float | None = None
    source_sums: dict[str, float] = field(default_factory=dict)
    source_counts: Counter[str] = field(default_factory=Counter)
    source_none: Counter[str] = field(default_factory=Counter)
    source_errors: Counter[str] = field(default_factory=Counter)
    first_error: dict[str, str] = field(default_factory=dict)
    first_none: dict[str, str] = field(default_factory=dict)
    set_aside: dict[str, str] = field(default_factory=dict)
    rule_turns: Counter[str] = field(default_factory=Counter)
    telemetry: dict[str, dict[str, float]] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)

    @property
    def reward_mean(self) -> float | None:
        return self.reward_sum / self.reward_count if self.reward_count else None

    def add_turn(self, row: dict[str, Any]) -> None:
        self.turns += 1
        r = row.get("reward")
        if r is not None:
            self.reward_sum += r
            self.reward_count += 1
            self.reward_min = r if self.reward_min is None else min(self.reward_min, r)
        for name, v in row.get("sources", {}).items():
            if v is None:
                self.source_none[name] += 1
                self.first_none.setdefault(name, row.get("reasons", {}).get(name, ""))
            else:
                self.source_sums[name] = self.source_sums.get(name, 0.0) + v
                self.source_counts[name] += 1
        for rule in {h["rule"] for h in row.get("fired", [])}:
            self.rule_turns[rule] += 1
        for name, details in row.get("details", {}).items():
            if "error" in details:  # the source raised on this turn (--on-error skip)
                self.source_errors[name] += 1
                self.first_error.setdefault(name, f"{row.get('sample_id')}: {details['error']}")


def journal_path(output: Path) -> Path:
    return output.with_name(f".{output.name}.partial")


def skipped_path(output: Path) -> Path:
    """Where skipped input records are listed: ``out.jsonl`` -> ``out.skipped.jsonl``."""
    return output.with_name(f"{output.stem}.skipped.jsonl")


def _fingerprint(pipeline: RewardPipeline) -> str:
    """What the rows depend on besides the input: the spec's content, the judge templates' text, and
    which sources are set aside. The input is checked by content at each checkpoint instead."""
    spec = pipeline.spec.model_dump(mode="json") if pipeline.spec else {}
    texts = {n: t.source for n, s in pipeline.sources.items() if (t := getattr(s, "template", None)) is not None}
    not_run = sorted(n for n, s in pipeline.sources.items() if isinstance(s, NotRun))
    key = json.dumps({"spec": spec, "templates": texts, "not_run": not_run}, sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _open_journal(path: Path, fingerprint: str, resume: bool, digest: InputDigest) -> tuple[IO[str], int]:
    """Open the journal for appending; returns (handle, input position to continue after).

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
        return path.open("a", encoding="utf-8"), position
    handle = path.open("w", encoding="utf-8")
    handle.write(json.dumps({"kind": "header", "fingerprint": fingerprint}) + "\n")
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
    progress: bool = True,
    batch_size: int | None = None,
) -> ScoreSummary:
    """Score an input file into ``output`` (JSONL or Parquet) and its sibling files.

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
    fh, start = _open_journal(journal, _fingerprint(pipeline), resume, digest)
    total = count_records(src) if progress else None
    done, seen, first_skip = start, Counter[str](), ""
    try:
        with fh, digest, _progress(progress, total) as advance:
            if start:
                advance(sum(1 for _ in _positions_upto(src, mapping, start)), 0)
            records = iter_records(src, mapping, start=start)
            for events, consumed, turns in _groups(pipeline, records, size, on_error, src):
                events[-1]["input"] = digest.upto(events[-1]["position"])
                for event in events:
                    fh.write(json.dumps(event, ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
                done = events[-1]["position"]
                seen.update(e["kind"] for e in events)
                first_skip = first_skip or next((e["reason"] for e in events if e["kind"] == "skipped"), "")
                advance(consumed, turns)
    except BaseException as exc:
        raise _keep_for_resume(exc, journal, done) from None
    if not start:
        _check_anything_read(src, seen, first_skip, journal)
    summary = _finalize(journal, out)
    summary.resumed_from = start
    summary.telemetry = pipeline.telemetry()
    return summary


def _keep_for_resume(exc: BaseException, journal: Path, done: int) -> BaseException:
    """A failed run keeps its journal when it holds scored records, so ``--resume`` goes on after the fix."""
    if not done:
        journal.unlink(missing_ok=True)
        return exc
    if isinstance(exc, InputError):
        return InputError(f"{exc} (records 1-{done} are scored and kept: fix this and rerun with --resume)")
    return exc


def _check_anything_read(src: Path, seen: Counter[str], first_skip: str, journal: Path) -> None:
    """An input with no records, or none readable, is an error, not an empty success."""
    if seen["dialogue"]:
        return
    journal.unlink(missing_ok=True)
    if not seen["skipped"]:
        raise InputError(f"{src}: no records to score (the input is empty)")
    raise InputError(f"{src}: none of its {seen['skipped']} records could be read (the first: {first_skip})")


def _positions_upto(src: Path, mapping: InputSpec | None, start: int) -> Iterator[int]:
    for pos, _ in iter_records(src, mapping):
        if pos > start:
            return
        yield pos


def _groups(
    pipeline: RewardPipeline,
    records: Iterator[tuple[int, Dialogue | InputError]],
    size: int,
    on_error: str,
    src: Path,
) -> Iterator[tuple[list[dict[str, Any]], int, int]]:
    """Yield (journal events ending in a checkpoint, records consumed, turns scored) per group."""

    def weight(record: tuple[int, Dialogue | InputError]) -> int:
        return agent_turns(record[1]) if isinstance(record[1], Dialogue) else 0

    for group in group_by_samples(records, size, weight):
        errors = [(pos, item) for pos, item in group if isinstance(item, InputError)]
        if errors and on_error == "fail":
            raise errors[0][1]
        skipped = [{"kind": "skipped", "position": pos, "reason": str(err)} for pos, err in errors]
        rows = score_dialogue_batch(pipeline, [item for _, item in group if isinstance(item, Dialogue)])
        if on_error == "fail" and (
            failed := first_source_error(rows, [p for p, i in group if isinstance(i, Dialogue)])
        ):
            position, where, error = failed
            raise InputError(f"{src}:{position}: {where}: {error}")
        turns = sum(r["kind"] == "turn" for r in rows)
        yield [*skipped, *rows, {"kind": "checkpoint", "position": group[-1][0]}], len(group), turns


def _finalize(journal: Path, out: Path) -> ScoreSummary:
    summary = ScoreSummary()

    def events(kind: str) -> Iterator[dict[str, Any]]:
        with journal.open(encoding="utf-8") as fh:
            for line in fh:
                event = json.loads(line)
                if event.get("kind") == kind:
                    yield event

    def turns() -> Iterator[dict[str, Any]]:
        for row in events("turn"):
            summary.add_turn(row)
            yield row

    write_rows(out, turns())
    summary.dialogues = write_rows(dialogue_path(out), events("dialogue"))
    summary.outputs = [out, dialogue_path(out)]
    skipped = [{k: v for k, v in e.items() if k != "kind"} for e in events("skipped")]
    summary.skipped = len(skipped)
    if skipped:
        write_rows(skipped_path(out), skipped)
        summary.outputs.append(skipped_path(out))
    else:
        skipped_path(out).unlink(missing_ok=True)
    journal.unlink()
    return summary


class _progress:
    """A rich progress bar on stderr (dialogues, rate, ETA, turns); a no-op when disabled."""

    def __init__(self, enabled: bool, total: int | None) -> None:
        self.enabled, self.total = enabled, total
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda consumed, turns: None
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
        )
        self.bar.start()
        task = self.bar.add_task("score", total=self.total, rate=0.0, turns=0)
        state = {"turns": 0}

        def advance(consumed: int, turns: int) -> None:
            state["turns"] += turns
            self.bar.update(task, advance=consumed, turns=state["turns"])
            speed = self.bar.tasks[0].speed or 0.0
            self.bar.update(task, rate=speed)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
