"""Trainer batches to Samples: prompts, completions and dataset columns in, Samples out.

TRL hands a reward function ``prompts`` and ``completions`` (plain strings, or
message lists for conversational data) and every other dataset column as a
list aligned with the batch. Task info comes from one column holding a dict (or
its JSON text), or from several flat columns. Completions of the same prompt
share a :attr:`Sample.group`.

Example:
    >>> s = batch_to_samples(
    ...     [[{"role": "user", "content": "We offer 95 EUR."}]] * 2,
    ...     [[{"role": "assistant", "content": "Could you do 80?"}], "80 then?"],
    ...     {"task": ['{"target_price": 80}', {"target_price": 80}]},
    ... )
    >>> s[0].task, s[0].history[0].role, s[1].response, s[0].group == s[1].group
    ({'target_price': 80}, 'user', '80 then?', True)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from repo_sdk.errors import InputError
from repo_sdk.types import Sample, Turn

__all__ = ["RESERVED_KWARGS", "batch_to_samples", "message_text"]

# Keyword arguments TRL adds beside the dataset columns; never task info or metadata.
RESERVED_KWARGS = frozenset({"trainer_state", "log_extra", "log_metric", "environments", "completion_ids"})


def message_text(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a content-block list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type", "text") == "text")
    raise InputError(f"message content must be a string or a list of content blocks, got {type(content).__name__}")


def _turns(prompt: Any, where: str) -> list[Turn]:
    if isinstance(prompt, str):
        return [Turn(role="user", content=prompt)]
    if not isinstance(prompt, Sequence):
        raise InputError(f"{where}: a prompt must be a string or a list of messages, got {type(prompt).__name__}")
    turns = []
    for j, msg in enumerate(prompt):
        role = msg.get("role") if isinstance(msg, Mapping) else None
        if role not in ("system", "user", "assistant"):
            raise InputError(f"{where}[{j}].role: expected system, user or assistant, got {role!r}")
        turns.append(Turn(role=role, content=message_text(msg.get("content", ""))))
    return turns


def _response(completion: Any, where: str) -> str:
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion:
        # conversational: the assistant message(s) generated after the prompt
        return "".join(message_text(m.get("content", "")) for m in completion if isinstance(m, Mapping))
    raise InputError(f"{where}: a completion must be a string or a list of messages, got {completion!r:.60}")


def _task(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise InputError(f"{where}: task text is not JSON: {value!r:.60}") from None
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: task must be a mapping (or its JSON), got {type(value).__name__}")
    return dict(value)


def _group_key(prompt: Any, task: dict[str, Any]) -> str:
    text = json.dumps([prompt, task], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def batch_to_samples(
    prompts: Sequence[Any],
    completions: Sequence[Any],
    columns: Mapping[str, Sequence[Any]] | None = None,
    *,
    task_column: str | None = "task",
    task_columns: Sequence[str] = (),
    id_prefix: str = "trl",
) -> list[Sample]:
    """One Sample per completion.

    Args:
        prompts: per completion, a prompt string or a list of ``{"role", "content"}`` messages.
        completions: per completion, the generated string or ``[{"role": "assistant", "content": ...}]``.
        columns: the other dataset columns, each a list aligned with the batch.
        task_column: column holding the task dict (or its JSON text); skipped when absent.
        task_columns: flat columns merged into the task (``{name: value}``).
        id_prefix: sample ids are ``<id_prefix>-<index>``.

    Raises:
        InputError: a prompt, completion or task that cannot be read, naming its batch index.
    """
    if len(prompts) != len(completions):
        raise InputError(f"got {len(prompts)} prompts but {len(completions)} completions")
    columns = {k: v for k, v in (columns or {}).items() if k not in RESERVED_KWARGS}
    missing = [c for c in task_columns if c not in columns]
    if missing:
        raise InputError(f"task column(s) {missing} are not in the batch (columns: {sorted(columns)})")
    used = {task_column, *task_columns}
    samples = []
    for i, (prompt, completion) in enumerate(zip(prompts, completions, strict=True)):
        where = f"batch[{i}]"
        task = _task(columns[task_column][i], f"{where}.{task_column}") if task_column in columns else {}
        for name in task_columns:
            task[name] = columns[name][i]
        metadata = {k: v[i] for k, v in columns.items() if k not in used and _plain(v[i])}
        samples.append(
            Sample(
                id=f"{id_prefix}-{i}",
                task=task,
                history=_turns(prompt, f"{where}.prompt"),
                response=_response(completion, f"{where}.completion"),
                group=_group_key(prompt, task),
                metadata=metadata,
            )
        )
    return samples


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))
