"""Preference pairs: the training data of a reward model.

One JSON object per line::

    {"task": {...}, "history": [{"role": "user", "content": "..."}], "chosen": "...", "rejected": "..."}

``task`` and ``history`` are optional (empty by default); ``id`` and ``metadata``
may be carried along. Both replies answer the same task and history, so an RM
trained on them learns which reply is better in context.

Example:
    >>> import json, tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "pairs.jsonl"
    >>> _ = f.write_text(json.dumps({"chosen": "Deal at 90, thank you!", "rejected": "Check the work order."}) + "\\n")
    >>> [p.chosen for p in read_pairs(f)]
    ['Deal at 90, thank you!']
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from repo_sdk.errors import InputError
from repo_sdk.io.surrogates import may_hold_surrogates, refuse_lone_surrogates
from repo_sdk.types import Turn

__all__ = ["PreferencePair", "read_pairs", "split_pairs"]


class PreferencePair(BaseModel):
    """Two candidate replies to one task and history; ``chosen`` is the better one."""

    model_config = ConfigDict(extra="forbid")

    task: dict[str, Any] = Field(default_factory=dict)
    history: list[Turn] = Field(default_factory=list)
    chosen: str = Field(min_length=1)
    rejected: str = Field(min_length=1)
    id: str | int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _different(self) -> PreferencePair:
        if self.chosen == self.rejected:
            raise ValueError("chosen and rejected are the same text")
        return self


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(line)"
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def read_pairs(path: str | Path) -> list[PreferencePair]:
    """Read a preference-pairs JSONL file (blank lines are skipped).

    Raises:
        InputError: the file is missing, empty, or a line is bad; the message names ``file:line``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    pairs = []
    with path.open(encoding="utf-8-sig") as fh:  # -sig: a byte-order mark is skipped
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: invalid JSON ({exc.msg}, column {exc.colno})") from None
            if not isinstance(data, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object, got {type(data).__name__}")
            if may_hold_surrogates(line):
                refuse_lone_surrogates(data, f"{path}:{lineno}")
            try:
                pairs.append(PreferencePair.model_validate(data))
            except ValidationError as exc:
                raise InputError(f"{path}:{lineno}: {_describe(exc)}") from None
    if not pairs:
        raise InputError(f"{path}: no preference pairs")
    return pairs


def split_pairs(
    pairs: Sequence[PreferencePair], eval_fraction: float, seed: int = 0
) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """Shuffle with ``seed`` and hold out ``eval_fraction`` (at least one pair when > 0).

    Example:
        >>> ps = [PreferencePair(chosen=f"a{i}", rejected=f"b{i}") for i in range(10)]
        >>> [len(x) for x in split_pairs(ps, 0.2)]
        [8, 2]
    """
    if not 0 <= eval_fraction < 1:
        raise InputError(f"eval fraction must be in [0, 1), got {eval_fraction}")
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    n_eval = max(1, round(len(pairs) * eval_fraction)) if eval_fraction > 0 else 0
    if len(pairs) - n_eval < 1:
        raise InputError(f"{len(pairs)} pair(s) are too few to hold out {eval_fraction:.0%} and still train")
    held = [pairs[i] for i in order[:n_eval]]
    train = [pairs[i] for i in order[n_eval:]]
    return train, held
