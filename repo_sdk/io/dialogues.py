"""Reading logged dialogues: JSONL, one dialogue per line, with line-numbered errors.

Format (docs/data-format.md)::

    {"id": "d1", "task": {...}, "turns": [{"role": "user", "content": "..."}, ...], "metadata": {...}}

``metadata`` is optional and carried along untouched.

Field names can be remapped through the spec's ``input`` section.

Example:
    >>> import io, json
    >>> line = json.dumps({"id": 1, "turns": [{"role": "assistant", "content": "Hi"}]})
    >>> [d.id for d in iter_dialogues(io.StringIO(line + "\\n"), name="x.jsonl")]
    ['1']
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from repo_sdk.config import InputSpec, format_loc
from repo_sdk.errors import InputError
from repo_sdk.types import Dialogue

__all__ = ["iter_dialogues", "read_dialogues", "record_to_dialogue"]


def _get(record: dict[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(dotted)
        value = value[part]
    return value


def record_to_dialogue(record: Any, mapping: InputSpec | None = None) -> Dialogue:
    """One parsed record to a Dialogue; raises ValueError naming the bad field."""
    m = mapping or InputSpec()
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    try:
        raw_turns = _get(record, m.turns)
    except KeyError:
        raise ValueError(f"missing field {m.turns!r}") from None
    if not isinstance(raw_turns, list):
        raise ValueError(f"{m.turns!r} must be a list, got {type(raw_turns).__name__}")
    turns = []
    for i, t in enumerate(raw_turns):
        if not isinstance(t, dict):
            raise ValueError(f"{m.turns}[{i}] must be an object, got {type(t).__name__}")
        role = t.get(m.role)
        role = m.roles.get(role, role) if isinstance(role, str) else role
        if role not in ("system", "user", "assistant"):
            known = ", ".join(["system", "user", "assistant", *m.roles])
            raise ValueError(f"{m.turns}[{i}].{m.role}: unknown role {role!r} (expected one of {known})")
        content = t.get(m.content)
        if not isinstance(content, str):
            raise ValueError(f"{m.turns}[{i}].{m.content}: expected a string, got {content!r:.40}")
        if not content.strip():
            raise ValueError(f"{m.turns}[{i}].{m.content}: empty turn")
        turns.append({"role": role, "content": content})
    try:
        ident = _get(record, m.id)
    except KeyError:
        raise ValueError(f"missing field {m.id!r}") from None
    try:
        task = _get(record, m.task)
    except KeyError:
        task = {}
    metadata = record.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ValueError(f"'metadata' must be an object, got {type(metadata).__name__}")
    try:
        return Dialogue.model_validate({"id": ident, "task": task, "turns": turns, "metadata": metadata})
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise ValueError(f"{format_loc(err['loc'])}: {err['msg']} (got {err.get('input')!r:.60})") from None


def iter_dialogues(
    stream: IO[str] | IO[bytes], *, name: str, mapping: InputSpec | None = None, start_line: int = 0
) -> Iterator[Dialogue]:
    """Yield Dialogues from a JSONL stream; an error names ``name:line``.

    Blank lines are skipped. ``start_line`` skips that many lines first (to resume).
    """
    for lineno, raw in enumerate(stream, start=1):
        if lineno <= start_line:
            continue
        yield parse_line(raw, name=name, lineno=lineno, mapping=mapping)


def parse_line(raw: str | bytes, *, name: str, lineno: int, mapping: InputSpec | None = None) -> Dialogue:
    """Parse one JSONL line into a Dialogue or raise InputError naming file and line."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}:{lineno}: invalid UTF-8 at byte {exc.start}") from None
    if not text.strip():
        raise InputError(f"{name}:{lineno}: empty line")
    if not text.endswith("\n") and not text.rstrip().endswith("}"):
        raise InputError(f"{name}:{lineno}: truncated line (no closing brace)")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}:{lineno}: malformed JSON: {exc.msg} at column {exc.colno}") from None
    try:
        return record_to_dialogue(record, mapping)
    except ValueError as exc:
        raise InputError(f"{name}:{lineno}: {exc}") from None


def read_dialogues(path: str | Path, mapping: InputSpec | None = None) -> list[Dialogue]:
    """All dialogues of a JSONL file (use :func:`iter_dialogues` to stream)."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return [d for d in _iter_nonblank(fh, str(p), mapping)]
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None


def _iter_nonblank(fh: IO[bytes], name: str, mapping: InputSpec | None) -> Iterator[Dialogue]:
    for lineno, raw in enumerate(fh, start=1):
        if raw.strip():
            yield parse_line(raw, name=name, lineno=lineno, mapping=mapping)
