"""What the built-in rules share: a params base with ``max_hits``, hit capping, task paths.

Plugins may reuse :class:`RuleParams` for their own rules' parameters.

Example:
    >>> class P(RuleParams):
    ...     word: str = "x"
    >>> P(max_hits=2).max_hits
    2
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk.types import RuleHit

__all__ = ["RuleParams", "cap_hits", "task_value"]


class RuleParams(BaseModel):
    """Base of the built-in rules' parameters (``extra="forbid"``)."""

    model_config = ConfigDict(extra="forbid")

    max_hits: int | None = Field(
        None, ge=1, description="report at most this many hits per reply (None: every hit); caps the penalty"
    )


def cap_hits(hits: list[RuleHit], params: BaseModel) -> list[RuleHit]:
    """The first ``params.max_hits`` hits (all of them when unset)."""
    if not hits:  # (most rules on most replies: no parameter to read)
        return hits
    limit = getattr(params, "max_hits", None)
    return hits if limit is None else hits[:limit]


def task_value(task: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of the task (``"room.price"``), or ``None`` when absent.

    A ``*`` part walks every item of a list: ``"tickets.*.target_price"`` is the list
    of every ticket's target price (items without one are skipped).

    Example:
        >>> task_value({"room": {"price": 80}}, "room.price"), task_value({}, "x.y")
        (80, None)
        >>> task_value({"tickets": [{"target_price": 95}, {"id": 2}, {"target_price": 80}]}, "tickets.*.target_price")
        [95, 80]
    """
    return _walk(task, path.split("."))


def _walk(value: Any, parts: list[str]) -> Any:
    for i, part in enumerate(parts):
        if part == "*":
            if not isinstance(value, (list, tuple)):
                return None
            found = [_walk(item, parts[i + 1 :]) for item in value]
            return [v for v in found if v is not None]
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value
