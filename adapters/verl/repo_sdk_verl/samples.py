"""verl rows and repo-sdk Samples: what ``repo-sdk verl prepare`` writes, and what the reward reads back.

verl calls a reward function with ``data_source``, ``solution_str`` (the decoded
reply), ``ground_truth`` and the row's ``extra_info``; it never passes the prompt.
So each row's ``extra_info`` carries what a Sample needs beside the reply::

    {"index": 3, "id": "d7#3", "task": "<JSON object>", "history": "<JSON list of {role, content}>",
     "metadata": "<JSON object>"}

Task, history and metadata are JSON text, not nested columns: Arrow (and so
Parquet and ``datasets``) merges the keys of every row's dict into one struct and
fills the gaps with nulls, which would add keys to a task. :func:`sample_from_call`
also takes them as a dict / list, for rows written by hand.

Example:
    >>> from repo_sdk.types import Sample, Turn
    >>> s = Sample(id="d1#1", task={"target_price": 80}, history=[Turn(role="user", content="95?")], response="80?")
    >>> info = extra_info_of(s, index=0)
    >>> back = sample_from_call("Could you do 80?", info)
    >>> back == s.model_copy(update={"response": "Could you do 80?", "group": "d1#1"})
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from repo_sdk.types import Sample, Turn

__all__ = ["extra_info_of", "prompt_of", "row_of", "sample_from_call"]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)  # key order kept: prompts render the task in it


def extra_info_of(sample: Sample, *, index: int) -> dict[str, Any]:
    """The ``extra_info`` of one verl row: what the reward needs to rebuild ``sample``."""
    return {
        "index": index,
        "id": sample.id,
        "task": _json(sample.task),
        "history": _json([t.message() for t in sample.history]),
        "metadata": _json(sample.metadata),
    }


def prompt_of(sample: Sample, *, task_in_prompt: bool = False) -> list[dict[str, str]]:
    """The policy's prompt: the history as chat messages; ``task_in_prompt`` adds the task as
    JSON to the leading system message (creating one if the history has none)."""
    messages = [t.message() for t in sample.history]
    if task_in_prompt and sample.task:
        note = "Task: " + _json(sample.task)
        if messages and messages[0]["role"] == "system":
            messages[0] = {"role": "system", "content": messages[0]["content"] + "\n\n" + note}
        else:
            messages.insert(0, {"role": "system", "content": note})
    return messages


def row_of(sample: Sample, *, index: int, data_source: str, task_in_prompt: bool = False) -> dict[str, Any]:
    """One row of verl's RL dataset layout (``RLHFDataset``); the logged reply is the ground truth."""
    return {
        "data_source": data_source,
        "prompt": prompt_of(sample, task_in_prompt=task_in_prompt),
        "ability": "dialogue",
        "reward_model": {"style": "repo_sdk", "ground_truth": sample.response},
        "extra_info": extra_info_of(sample, index=index),
    }


def _decoded(info: Mapping[str, Any], key: str, kind: type) -> Any:
    value = info.get(key)
    if value is None:
        return kind()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"extra_info.{key}: not JSON ({exc.msg} at char {exc.pos})") from None
    if hasattr(value, "tolist"):  # numpy arrays, as verl's DataProto may hold them
        value = value.tolist()
    if not isinstance(value, kind):
        raise ValueError(f"extra_info.{key}: expected a JSON {kind.__name__}, got {type(value).__name__}")
    return value


def sample_from_call(solution_str: Any, extra_info: Any, *, fallback_id: str = "verl") -> Sample:
    """The Sample of one verl reward call: the reply, plus task and history from ``extra_info``.

    The group is the row's id, so the rollouts of one prompt share it.

    Raises:
        ValueError: naming the ``extra_info`` key that cannot be read, and the bad value's type.
    """
    if not isinstance(solution_str, str):
        raise ValueError(f"solution_str: expected a string, got {type(solution_str).__name__}")
    info = extra_info if isinstance(extra_info, Mapping) else {}
    if extra_info is not None and not isinstance(extra_info, Mapping):
        raise ValueError(f"extra_info: expected a mapping, got {type(extra_info).__name__}")
    task = _decoded(info, "task", dict)
    metadata = _decoded(info, "metadata", dict)
    history = []
    for i, turn in enumerate(_decoded(info, "history", list)):
        try:
            history.append(Turn.model_validate(turn))
        except Exception as exc:
            first = str(exc).splitlines()[1:2] or [str(exc)]
            raise ValueError(f"extra_info.history[{i}]: not a {{role, content}} turn ({first[0].strip()})") from None
    raw_id = info.get("id")
    sample_id = str(raw_id) if raw_id not in (None, "") else f"{fallback_id}-{info.get('index', 0)}"
    return Sample(id=sample_id, task=task, history=history, response=solution_str, group=sample_id, metadata=metadata)
