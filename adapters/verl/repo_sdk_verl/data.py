"""``repo-sdk verl prepare``: logged dialogues or prompt files -> verl's RL Parquet layout.

One row per prompt the policy answers (:func:`repo_sdk_verl.samples.row_of`):

- logged dialogues (JSONL, Parquet or a saved dataset, read as ``repo-sdk score``
  reads them, with the spec's ``input:`` mapping): one row per assistant turn, its
  history as the prompt, the logged reply as ``reward_model.ground_truth``;
- prompt files (JSONL, as ``train.dataset``): one row per line, the ``prompt``
  column (a string or a list of messages) as prompt and history, the task from
  the ``task`` column (a dict or its JSON) and/or flat ``task_columns``.

A bad record is an error naming file and line, or with ``on_error="skip"`` is listed
in ``OUT.skipped.jsonl``; a reply with nothing before it (no prompt for the policy)
is left out and counted. The Parquet file is written in chunks and swapped into
place at the end (a crash leaves no half file), never over the input.

Example:
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "p.jsonl").write_text(json.dumps({"prompt": "95 EUR?", "task": {"target_price": 80}}) + "\\n")
    >>> prepare_prompts(d / "p.jsonl", d / "train.parquet").rows
    1
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from repo_sdk.config import InputSpec
from repo_sdk.errors import ConfigError, InputError, require
from repo_sdk.io.atomic import atomic_write
from repo_sdk.io.readers import iter_records
from repo_sdk.types import Sample, Turn
from repo_sdk_verl.samples import row_of

__all__ = ["DATA_SOURCE", "PrepareSummary", "prepare_dialogues", "prepare_prompts", "prompt_samples", "write_rows"]

DATA_SOURCE = "repo_sdk"
OnError = Literal["fail", "skip"]


@dataclass
class PrepareSummary:
    """What a prepare run wrote."""

    path: Path
    rows: int = 0
    no_prompt: int = 0
    skipped: list[str] = field(default_factory=list)


def _schema() -> Any:
    pa = require("pyarrow", "pyarrow", "writing verl's Parquet data")
    turn = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", pa.list_(turn)),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            (
                "extra_info",
                pa.struct(
                    [
                        ("index", pa.int64()),
                        ("id", pa.string()),
                        ("task", pa.string()),
                        ("history", pa.string()),
                        ("metadata", pa.string()),
                    ]
                ),
            ),
        ]
    )


def write_rows(
    samples: Iterable[Sample | InputError],
    output: str | Path,
    *,
    data_source: str = DATA_SOURCE,
    task_in_prompt: bool = False,
    on_error: OnError = "fail",
    inputs: Iterable[Path] = (),
    chunk: int = 4096,
) -> PrepareSummary:
    """Write Samples as verl rows (see the module docs); InputErrors fail or are listed aside."""
    pa = require("pyarrow", "pyarrow", "writing verl's Parquet data")
    pq = require("pyarrow.parquet", "pyarrow", "writing verl's Parquet data")
    out = Path(output)
    if out.suffix.lower() != ".parquet":
        raise ConfigError(f"{out}: the output must be a .parquet file (verl's data.train_files)")
    if any(out.resolve() == Path(p).resolve() for p in inputs):
        raise ConfigError(f"{out}: the output would overwrite the input")
    summary = PrepareSummary(out)
    schema = _schema()
    with atomic_write(out, "wb") as fh, pq.ParquetWriter(fh, schema) as writer:  # type: ignore[attr-defined]
        rows: list[dict[str, Any]] = []
        for item in samples:
            if isinstance(item, InputError):
                if on_error == "fail":
                    raise item
                summary.skipped.append(str(item))
                continue
            row = row_of(item, index=summary.rows, data_source=data_source, task_in_prompt=task_in_prompt)
            if not row["prompt"]:
                summary.no_prompt += 1
                continue
            rows.append(row)
            summary.rows += 1
            if len(rows) >= chunk:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))  # type: ignore[attr-defined]
                rows = []
        if rows or summary.rows == 0:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))  # type: ignore[attr-defined]
    if summary.skipped:
        with atomic_write(out.with_name(out.name + ".skipped.jsonl")) as fh:
            for message in summary.skipped:
                fh.write(json.dumps({"error": message}, ensure_ascii=False) + "\n")
    return summary


def _dialogue_samples(path: Path, mapping: InputSpec | None) -> Iterator[Sample | InputError]:
    for _, item in iter_records(path, mapping):
        if isinstance(item, InputError):
            yield item
        else:
            yield from item.samples()


def prepare_dialogues(
    logs: str | Path, output: str | Path, *, mapping: InputSpec | None = None, **options: Any
) -> PrepareSummary:
    """Logged dialogues -> one verl row per assistant turn (options: those of :func:`write_rows`)."""
    path = Path(logs)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    return write_rows(_dialogue_samples(path, mapping), output, inputs=[path], **options)


def _messages(value: Any, where: str) -> list[Turn]:
    if isinstance(value, str):
        return [Turn(role="user", content=value)]
    if not isinstance(value, list):
        raise InputError(f"{where}: prompt must be a string or a list of messages, got {type(value).__name__}")
    turns = []
    for i, msg in enumerate(value):
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, list):  # text content blocks, as chat datasets write them
            content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
        try:
            turns.append(Turn(role=msg.get("role"), content=content))
        except Exception:
            raise InputError(f"{where}: prompt[{i}] is not a {{role, content}} message: {str(msg)[:80]}") from None
    return turns


def prompt_samples(
    path: str | Path,
    *,
    prompt_column: str = "prompt",
    task_column: str | None = "task",
    task_columns: Iterable[str] = (),
) -> Iterator[Sample | InputError]:
    """A prompts JSONL as Samples (empty response): the prompt is the history, the task from its columns."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    with p.open("rb") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            where = f"{p}:{n}"
            try:
                row = json.loads(raw)
                if not isinstance(row, dict) or prompt_column not in row:
                    raise InputError(f"{where}: missing prompt column {prompt_column!r}")
                task = row.get(task_column) if task_column else None
                task = json.loads(task) if isinstance(task, str) else dict(task or {})
                if not isinstance(task, dict):
                    raise InputError(f"{where}: {task_column} must be a JSON object")
                task |= {c: row.get(c) for c in task_columns}
                history = _messages(row[prompt_column], where)
                yield Sample(id=str(row.get("id", f"prompt{n}")), task=task, history=history, response="")
            except InputError as exc:
                yield exc
            except (ValueError, TypeError) as exc:
                yield InputError(f"{where}: {exc}")


def prepare_prompts(
    prompts: str | Path,
    output: str | Path,
    *,
    prompt_column: str = "prompt",
    task_column: str | None = "task",
    task_columns: Iterable[str] = (),
    **options: Any,
) -> PrepareSummary:
    """A prompts JSONL -> one verl row per prompt (options: those of :func:`write_rows`)."""
    samples = prompt_samples(prompts, prompt_column=prompt_column, task_column=task_column, task_columns=task_columns)
    return write_rows(samples, output, inputs=[Path(prompts)], **options)
