"""OpenRLHF ``labels``: how task info travels with each prompt.

A label is the dataset's ``--data.label_key`` column. repo-sdk reads it as JSON
(text or an already-parsed object):

- an envelope ``{"task": {...}, "id": ..., "group": ..., "counterpart": [...], "max_turns": N}``
  (``counterpart`` and ``max_turns`` drive the multi-turn agent), or
- any other object: the task itself, or
- a non-JSON string: ``{"label": <the string>}``; empty or None: no task.

Example:
    >>> parse_label('{"task": {"target_price": 80}, "group": "p1"}').task
    {'target_price': 80}
    >>> parse_label('{"target_price": 80}').task, parse_label("42").task, parse_label(None).task
    ({'target_price': 80}, {'label': 42}, {})
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ENVELOPE_KEYS", "Label", "parse_label"]

ENVELOPE_KEYS = frozenset({"task", "id", "group", "metadata", "counterpart", "max_turns"})


@dataclass
class Label:
    """A parsed label."""

    task: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    group: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    counterpart: list[str] = field(default_factory=list)
    max_turns: int | None = None


def parse_label(label: Any) -> Label:
    """Read one label (see the module docs); raises ValueError naming what is wrong."""
    if label is None or label == "":
        return Label()
    value = label
    if isinstance(label, str):
        try:
            value = json.loads(label)
        except json.JSONDecodeError:
            return Label(task={"label": label})
    if not isinstance(value, dict):
        return Label(task={"label": value})
    if "task" not in value or not set(value) <= ENVELOPE_KEYS:
        return Label(task=value)
    task, counterpart = value["task"], value.get("counterpart") or []
    if not isinstance(task, dict):
        raise ValueError(f"label.task must be an object, got {type(task).__name__}")
    if not isinstance(counterpart, list) or not all(isinstance(c, str) for c in counterpart):
        raise ValueError("label.counterpart must be a list of strings")
    max_turns = value.get("max_turns")
    if max_turns is not None and (not isinstance(max_turns, int) or max_turns < 1):
        raise ValueError(f"label.max_turns must be a positive integer, got {max_turns!r}")
    metadata = value.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValueError("label.metadata must be an object")
    ident, group = value.get("id"), value.get("group")
    return Label(
        task=task,
        id=None if ident is None else str(ident),
        group=None if group is None else str(group),
        metadata=metadata,
        counterpart=counterpart,
        max_turns=max_turns,
    )
