"""Trainer batches to Samples: prompts, completions and dataset columns in, Samples out.

TRL hands a reward function ``prompts`` and ``completions`` (plain strings, or
message lists for conversational data) and every other dataset column as a
list aligned with the batch. Task info comes from one column holding a dict (or
its JSON text), or from several flat columns. Completions of the same prompt
share a :attr:`Sample.group`.

Tool calling (``GRPOTrainer(tools=...)``): a completion is then the agent's messages and
the tools' answers, e.g. ``[assistant with tool_calls (content None), tool, assistant]``.
The reply scored is the text of the completion's last assistant message, the agent's own
words; the messages before it (its calls, the tools' outputs) join the history after the
prompt, so tool output is never glued to the reply. Messages read as
:mod:`repo_sdk.io.messages` reads them (``tool`` roles and ``content: None`` included).

One unreadable item does not stop a batch: :func:`read_batch` gives that item an
:class:`InputError` naming it, and the reward function scores it None.

Example:
    >>> s = batch_to_samples(
    ...     [[{"role": "user", "content": "We offer 95 EUR."}]] * 2,
    ...     [[{"role": "assistant", "content": "Could you do 80?"}], "80 then?"],
    ...     {"task": ['{"target_price": 80}', {"target_price": 80}]},
    ... )
    >>> s[0].task, s[0].history[0].role, s[1].response, s[0].group == s[1].group
    ({'target_price': 80}, 'user', '80 then?', True)
    >>> call = {"type": "function", "function": {"name": "rates", "arguments": {"room": "twin"}}}
    >>> [t] = batch_to_samples(["We offer 95 EUR."], [[
    ...     {"role": "assistant", "content": None, "tool_calls": [call]},
    ...     {"role": "tool", "name": "rates", "content": "market rate: 80 EUR"},
    ...     {"role": "assistant", "content": "Could you do 80?"}]])
    >>> [x.role for x in t.history], t.response
    (['user', 'assistant', 'tool'], 'Could you do 80?')
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from repo_sdk.errors import InputError
from repo_sdk.io.messages import message_text as _message_text
from repo_sdk.io.messages import message_to_turn
from repo_sdk.types import Sample, Turn

__all__ = ["RESERVED_KWARGS", "batch_to_samples", "completion_turns", "message_text", "read_batch"]

# Keyword arguments TRL adds beside the dataset columns; never task info or metadata.
RESERVED_KWARGS = frozenset({"trainer_state", "log_extra", "log_metric", "environments", "completion_ids"})


def message_text(content: Any) -> str:
    """The text of a message's content: a string, the text parts of a content-block list, '' for None."""
    try:
        return _message_text(content)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _turns(prompt: Any, where: str) -> list[Turn]:
    if isinstance(prompt, str):
        return [Turn(role="user", content=prompt)]
    if not isinstance(prompt, Sequence):
        raise InputError(f"{where}: a prompt must be a string or a list of messages, got {type(prompt).__name__}")
    try:
        return [message_to_turn(msg, f"{where}[{j}]") for j, msg in enumerate(prompt)]
    except ValueError as exc:
        raise InputError(str(exc)) from None


def completion_turns(completion: Any, where: str = "completion") -> tuple[list[Turn], str]:
    """The turns a completion adds before its reply, and the reply (the last assistant text).

    A string is the reply itself. A message list's last assistant message is the reply;
    the messages before it (tool calls, tool outputs) are returned as turns; tool answers
    after it (a completion cut off by ``max_tool_calling_iterations`` or the length limit)
    are left out: they came after the reply.

    Raises:
        InputError: not a string or a list of messages, or no assistant message in it.

    Example:
        >>> completion_turns([{"role": "assistant", "content": "80?"}])
        ([], '80?')
    """
    if isinstance(completion, str):
        return [], completion
    if not isinstance(completion, Sequence) or not completion:
        raise InputError(f"{where}: a completion must be a string or a list of messages, got {completion!r:.60}")
    try:
        turns = [message_to_turn(m, f"{where}[{j}]") for j, m in enumerate(completion)]
    except ValueError as exc:
        raise InputError(str(exc)) from None
    last = max((j for j, t in enumerate(turns) if t.role == "assistant"), default=None)
    if last is None:
        raise InputError(f"{where}: no assistant message in the completion (roles {[t.role for t in turns]})")
    return turns[:last], turns[last].content


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
    return hashlib.sha1(text.encode("utf-8", errors="surrogatepass")).hexdigest()[:12]  # (a lone surrogate too)


def batch_to_samples(
    prompts: Sequence[Any],
    completions: Sequence[Any],
    columns: Mapping[str, Sequence[Any]] | None = None,
    *,
    task_column: str | None = "task",
    task_columns: Sequence[str] = (),
    id_prefix: str = "trl",
) -> list[Sample]:
    """One Sample per completion; the first unreadable item raises.

    Args:
        prompts: per completion, a prompt string or a list of ``{"role", "content"}`` messages.
        completions: per completion, the generated string or its messages (see the module docs).
        columns: the other dataset columns, each a list aligned with the batch.
        task_column: column holding the task dict (or its JSON text); skipped when absent.
        task_columns: flat columns merged into the task (``{name: value}``).
        id_prefix: sample ids are ``<id_prefix>-<index>``.

    Raises:
        InputError: a prompt, completion or task that cannot be read, naming its batch index.
    """
    out = []
    for item in read_batch(
        prompts, completions, columns, task_column=task_column, task_columns=task_columns, id_prefix=id_prefix
    ):
        if isinstance(item, InputError):
            raise item
        out.append(item)
    return out


def read_batch(
    prompts: Sequence[Any],
    completions: Sequence[Any],
    columns: Mapping[str, Sequence[Any]] | None = None,
    *,
    task_column: str | None = "task",
    task_columns: Sequence[str] = (),
    id_prefix: str = "trl",
) -> list[Sample | InputError]:
    """Like :func:`batch_to_samples`, but an unreadable item becomes an InputError in its place.

    Raises:
        InputError: what no item can get past: prompts and completions of different lengths,
            or ``task_columns`` missing from the batch.
    """
    if len(prompts) != len(completions):
        raise InputError(f"got {len(prompts)} prompts but {len(completions)} completions")
    columns = {k: v for k, v in (columns or {}).items() if k not in RESERVED_KWARGS}
    missing = [c for c in task_columns if c not in columns]
    if missing:
        raise InputError(f"task column(s) {missing} are not in the batch (columns: {sorted(columns)})")
    used = {task_column, *task_columns}
    out: list[Sample | InputError] = []
    for i, (prompt, completion) in enumerate(zip(prompts, completions, strict=True)):
        where = f"batch[{i}]"
        try:
            task = _task(columns[task_column][i], f"{where}.{task_column}") if task_column in columns else {}
            for name in task_columns:
                task[name] = columns[name][i]
            metadata = {k: v[i] for k, v in columns.items() if k not in used and _plain(v[i])}
            before, response = completion_turns(completion, f"{where}.completion")
            calls = [c.name for t in before for c in t.tool_calls]
            out.append(
                Sample(
                    id=f"{id_prefix}-{i}",
                    task=task,
                    history=[*_turns(prompt, f"{where}.prompt"), *before],
                    response=response,
                    group=_group_key(prompt, task),
                    metadata={**metadata, "tool_calls": calls} if calls else metadata,
                )
            )
        except InputError as exc:
            out.append(exc)
        except Exception as exc:  # anything else one odd item can raise stays with that item
            out.append(InputError(f"{where}: {type(exc).__name__}: {exc}"))
    return out


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))
