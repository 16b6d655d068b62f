"""Chat messages (OpenAI / Hugging Face style dicts) to :class:`~repo_sdk.types.Turn`, tool calls included.

One reading for every place messages come from: logged dialogues (JSONL, Parquet,
datasets), TRL batches and OpenRLHF labels. A message is ``{"role", "content"}`` plus,
for an assistant that calls tools, ``tool_calls`` (each ``{"id", "type": "function",
"function": {"name", "arguments"}}`` or the flat ``{"name", "arguments"}``; ``arguments``
an object or its JSON text), and for a tool result ``name`` and ``tool_call_id``.
Content is a string, a list of content blocks (their text parts are the text), or
``None`` for an assistant turn that only calls tools.

Example:
    >>> t = message_to_turn({"role": "assistant", "content": None, "tool_calls": [
    ...     {"id": "c1", "type": "function", "function": {"name": "rates", "arguments": '{"room": "twin"}'}}]})
    >>> t.tool_calls[0].name, t.tool_calls[0].arguments, t.content
    ('rates', {'room': 'twin'}, '')
    >>> message_to_turn({"role": "tool", "name": "rates", "tool_call_id": "c1", "content": "80 EUR"})
    Turn(role='tool', content='80 EUR', name='rates', tool_call_id='c1')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from repo_sdk.types import ToolCall, Turn, assemble

__all__ = ["ROLES", "message_text", "message_to_turn", "parse_tool_calls", "plain_turn"]

ROLES = ("system", "user", "assistant", "tool")


def message_text(content: Any, where: str = "content") -> str:
    """The text of a message's content: a string, the text parts of a content-block list, or '' for None.

    Raises:
        ValueError: any other content, naming ``where``.

    Example:
        >>> message_text([{"type": "text", "text": "Hi"}, {"type": "image"}]), message_text(None)
        ('Hi', '')
    """
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if isinstance(content, list):
        return "".join(
            p.get("text") or "" for p in content if isinstance(p, Mapping) and p.get("type", "text") == "text"
        )
    raise ValueError(f"{where}: expected a string or a list of content blocks, got {content!r:.40}")


def parse_tool_calls(value: Any, where: str = "tool_calls") -> tuple[ToolCall, ...]:
    """The tool calls of an assistant message (None or [] for none).

    Raises:
        ValueError: a call without a name, or not an object, naming ``where[i]``.
    """
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{where}: expected a list of tool calls, got {type(value).__name__}")
    calls = []
    for i, raw in enumerate(value):
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where}[{i}]: expected an object, got {type(raw).__name__}")
        fn = raw.get("function")
        body = fn if isinstance(fn, Mapping) else raw
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}[{i}]: a tool call needs a function name, got {name!r:.40}")
        ident = raw.get("id")
        try:
            calls.append(ToolCall(name=name, arguments=body.get("arguments"), id=None if ident is None else str(ident)))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            raise ValueError(f"{where}[{i}].arguments: {err['msg']} (got {err.get('input')!r:.40})") from None
    return tuple(calls)


def plain_turn(
    message: Any,
    role_key: str = "role",
    content_key: str = "content",
    tool_calls_key: str = "tool_calls",
    roles: Mapping[str, str] | None = None,
) -> Turn | None:
    """The Turn of the commonest message, a system, user or assistant turn whose content is a string and
    which calls no tool, read without :func:`message_to_turn`'s checks; None for any other message.

    Example:
        >>> plain_turn({"role": "user", "content": "Hi"}), plain_turn({"role": "user", "content": None})
        (Turn(role='user', content='Hi'), None)
    """
    if type(message) is not dict:
        return None
    content, role = message.get(content_key), message.get(role_key)
    if type(content) is not str or role not in _PLAIN_ROLES or message.get(tool_calls_key) is not None:
        return None
    if roles and role in roles:  # renamed: message_to_turn reads it
        return None
    return assemble(Turn, {**_NO_TOOL, "role": role, "content": content}, _GIVEN)


def message_to_turn(
    message: Any,
    where: str = "message",
    *,
    role_key: str = "role",
    content_key: str = "content",
    roles: Mapping[str, str] | None = None,
    tool_calls_key: str = "tool_calls",
    name_key: str = "name",
    tool_call_id_key: str = "tool_call_id",
) -> Turn:
    """One chat message to a Turn (see the module docs); keys are renamed by the arguments.

    Raises:
        ValueError: an unknown role, unreadable content or tool calls, naming ``where`` and the key.
    """
    if not isinstance(message, Mapping):
        raise ValueError(f"{where} must be an object, got {type(message).__name__}")
    role = message.get(role_key)
    role = (roles or {}).get(role, role) if isinstance(role, str) else role
    if role not in ROLES:
        known = ", ".join([*ROLES, *(roles or {})])
        raise ValueError(f"{where}.{role_key}: unknown role {role!r} (expected one of {known})")
    calls = parse_tool_calls(message.get(tool_calls_key), f"{where}.{tool_calls_key}")
    if calls and role != "assistant":
        raise ValueError(f"{where}.{tool_calls_key}: only assistant turns make tool calls, not {role} turns")
    content = message_text(message.get(content_key), f"{where}.{content_key}")
    # every field is checked above: the Turn is assembled, not validated again (one per logged turn)
    if role != "tool":
        return assemble(Turn, {**_NO_TOOL, "role": role, "content": content, "tool_calls": calls}, _GIVEN)
    name, ident = message.get(name_key), message.get(tool_call_id_key)
    values = {
        "role": role,
        "content": content,
        "tool_calls": calls,
        "name": None if name is None else str(name),
        "tool_call_id": None if ident is None else str(ident),
    }
    return assemble(Turn, values, _GIVEN_TOOL)


_PLAIN_ROLES = frozenset({"system", "user", "assistant"})
_NO_TOOL: dict[str, Any] = {"role": None, "content": "", "tool_calls": (), "name": None, "tool_call_id": None}
_GIVEN = frozenset({"role", "content", "tool_calls"})
_GIVEN_TOOL = _GIVEN | {"name", "tool_call_id"}
