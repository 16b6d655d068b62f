"""Prompt datasets for training: a JSONL file (or the packaged default) to a ``datasets.Dataset``.

Each line holds a prompt (a string or a list of ``{role, content}`` messages) and
the task info, in one column holding a dict or in flat columns. The task column is
stored as JSON text: Arrow would otherwise merge the keys of every row's dict and
fill the gaps with nulls, so rules would see keys the task never had.

Example:
    >>> ds = load_prompts("default")
    >>> sorted(ds.column_names), isinstance(ds[0]["task"], str)
    (['prompt', 'task'], True)
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from repo_sdk.errors import ConfigError, InputError

__all__ = ["DEFAULT_PROMPTS", "DEFAULT_SPEC", "load_prompts", "packaged_file", "read_jsonl"]

DEFAULT_PROMPTS = "negotiation_prompts.jsonl"
DEFAULT_SPEC = "default_spec.yaml"


def packaged_file(name: str) -> Path:
    """A file shipped in the package's data directory."""
    return Path(str(resources.files("repo_sdk_trl") / "data" / name))


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Records of a JSONL file; InputError names the file and line of a bad one."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"train.dataset: no such file {str(p)!r}")
    rows = []
    with p.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{p}:{n}: invalid JSON: {exc.msg}") from None
            if not isinstance(row, dict):
                raise InputError(f"{p}:{n}: expected a JSON object, got {type(row).__name__}")
            rows.append(row)
    if not rows:
        raise InputError(f"{p}: no records")
    return rows


def load_prompts(
    ref: str,
    *,
    base_dir: Path | None = None,
    prompt_column: str = "prompt",
    task_column: str | None = "task",
) -> Any:
    """A ``datasets.Dataset`` with a ``prompt`` column and the task column as JSON text.

    Args:
        ref: ``default`` (the packaged negotiation prompts) or a JSONL path.
        base_dir: relative paths resolve against it (the spec's directory).
        prompt_column: the column holding the prompt; renamed to ``prompt`` as TRL expects.
        task_column: the column holding the task dict (kept under its name, as JSON text).
    """
    from datasets import Dataset

    path = packaged_file(DEFAULT_PROMPTS) if ref == "default" else Path(ref).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    rows = read_jsonl(path)
    out = []
    for n, row in enumerate(rows, 1):
        if prompt_column not in row:
            raise InputError(f"{path}:{n}: missing prompt column {prompt_column!r}")
        row = dict(row)
        row["prompt"] = row.pop(prompt_column)
        if task_column and task_column in row and not isinstance(row[task_column], str):
            row[task_column] = json.dumps(row[task_column], ensure_ascii=False, sort_keys=True)
        out.append(row)
    return Dataset.from_list(out)
