"""Reading logged dialogues: JSONL, one dialogue per line, with line-numbered errors.

Format (docs/data-format.md)::

    {"id": "d1", "task": {...}, "turns": [{"role": "user", "content": "..."}, ...], "metadata": {...}}

Turns are chat messages as :mod:`repo_sdk.io.messages` reads them: an assistant turn may
carry ``tool_calls`` (its content then may be null), a ``tool`` turn holds a tool's output.

``metadata`` is optional and carried along untouched.

Field names can be remapped through the spec's ``input`` section.

Example:
    >>> import json
    >>> line = json.dumps({"id": 1, "turns": [{"role": "assistant", "content": "Hi"}]})
    >>> parse_line(line + "\\n", name="x.jsonl", lineno=1).id
    '1'
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from repo_sdk.errors import InputError, format_loc
from repo_sdk.io.fastjson import loads
from repo_sdk.io.input_spec import InputSpec
from repo_sdk.io.messages import message_to_turn, plain_turn
from repo_sdk.io.surrogates import may_hold_surrogates, refuse_lone_surrogates
from repo_sdk.types import Dialogue

__all__ = ["parse_line", "record_to_dialogue"]


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
    keys = (m.role, m.content, m.tool_calls, m.roles)  # (read once: a pydantic model's fields cost a call each)
    for i, t in enumerate(raw_turns):
        plain = plain_turn(t, *keys)
        if plain is not None:
            turns.append(plain)
            continue
        if not isinstance(t, dict):
            raise ValueError(f"{m.turns}[{i}] must be an object, got {type(t).__name__}")
        content = t.get(m.content)
        turn = message_to_turn(
            t,
            f"{m.turns}[{i}]",
            role_key=m.role,
            content_key=m.content,
            roles=m.roles,
            tool_calls_key=m.tool_calls,
            name_key=m.tool_name,
            tool_call_id_key=m.tool_call_id,
        )
        # content may be null for a turn that only calls tools, and for a tool that returned nothing
        if not isinstance(content, (str, list)) and not (content is None and (turn.tool_calls or turn.role == "tool")):
            raise ValueError(f"{m.turns}[{i}].{m.content}: expected a string, got {content!r:.40}")
        # an empty or blank turn is data: the agent (or the hotel) sent nothing, and that is scored
        turns.append(turn)
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


def parse_line(raw: str | bytes, *, name: str, lineno: int, mapping: InputSpec | None = None) -> Dialogue:
    """Parse one JSONL line into a Dialogue or raise InputError naming file and line.

    A UTF-8 byte-order mark at the start of the first line is skipped (editors on
    Windows write one).
    """
    record = _record_of_bytes(raw, lineno) if isinstance(raw, bytes) else _UNREAD
    if record is not _UNREAD:
        return _dialogue_of(record, raw, name=name, lineno=lineno, mapping=mapping)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}:{lineno}: invalid UTF-8 at byte {exc.start}") from None
    if lineno == 1:
        text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InputError(f"{name}:{lineno}: empty line")
    if not text.endswith("\n") and not text.rstrip().endswith("}"):
        raise InputError(f"{name}:{lineno}: truncated line (no closing brace)")
    try:
        record = loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}:{lineno}: malformed JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise InputError(f"{name}:{lineno}: JSON nested too deeply to read ({len(text)} characters)") from None
    return _dialogue_of(record, text, name=name, lineno=lineno, mapping=mapping)


_UNREAD = object()


def _record_of_bytes(raw: bytes, lineno: int) -> Any:
    """The record of a well-formed line, parsed from its bytes (orjson reads UTF-8: no text decoded, then
    encoded again); ``_UNREAD`` for any other line, whose text :func:`parse_line` reads and names the fault of."""
    data = raw.removeprefix(b"\xef\xbb\xbf") if lineno == 1 else raw
    if not (data.endswith(b"\n") or data.rstrip().endswith(b"}")):
        return _UNREAD
    try:
        return loads(data)
    except (ValueError, RecursionError):  # (malformed JSON or UTF-8: the text path says which)
        return _UNREAD


def _dialogue_of(record: Any, line: str | bytes, *, name: str, lineno: int, mapping: InputSpec | None) -> Dialogue:
    if may_hold_surrogates(line):
        refuse_lone_surrogates(record, f"{name}:{lineno}")
    try:
        return record_to_dialogue(record, mapping)
    except ValueError as exc:
        raise InputError(f"{name}:{lineno}: {exc}") from None
    except RecursionError:
        raise InputError(f"{name}:{lineno}: record nested too deeply to read") from None
