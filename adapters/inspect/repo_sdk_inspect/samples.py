"""An inspect_ai TaskState to a Sample: the transcript before the reply as history, the completion as reply.

- **Response**: ``state.output.completion``, the text inspect's own scorers grade (an agent's
  submitted answer included); when no model output was recorded, the last assistant message's text.
  Only text content counts: reasoning blocks, images and tool-call arguments are not part of it.
- **History**: the messages before the last assistant message, oldest first, mapped by
  :func:`message_turn`, the one place that decides what each role becomes: tool results
  (``tool`` messages, and ``user`` messages that carry a ``tool_call_id``) are ``tool`` turns,
  an assistant message keeps its text and its tool calls.
- **Task**: ``state.metadata[task_key]`` (a dict, or its JSON text); none: ``{}``.
- **Metadata**: inspect's sample id, epoch and model, the target text (``target``), the sample's
  other plain metadata, and the tools the agent called (``tool_calls``).

Tool output thus stays in its own turns: it never reaches the scored reply nor the agent's
turns, the RM renders it with its chat template, the judge templates fence it, and rules
leave it alone.

Example:
    >>> from inspect_ai.model import ChatMessageAssistant, ChatMessageTool, ChatMessageUser, ModelOutput
    >>> from inspect_ai.solver import TaskState
    >>> from inspect_ai.tool import ToolCall
    >>> call = ToolCall(id="c1", function="rates", arguments={})
    >>> state = TaskState(model="mockllm/model", sample_id=7, epoch=1, input="We offer 95 EUR.", messages=[
    ...     ChatMessageUser(content="We offer 95 EUR."),
    ...     ChatMessageAssistant(content="Let me check.", tool_calls=[call]),
    ...     ChatMessageTool(content="market rate: 80 EUR", tool_call_id="c1", function="rates"),
    ...     ChatMessageAssistant(content="Could you do 80 EUR?"),
    ... ], output=ModelOutput.from_content("mockllm/model", "Could you do 80 EUR?"),
    ... metadata={"task": '{"target_price": 80}'})
    >>> s = state_to_sample(state)
    >>> s.task, [t.role for t in s.history], s.history[2].content, s.response
    ({'target_price': 80}, ['user', 'assistant', 'tool'], 'market rate: 80 EUR', 'Could you do 80 EUR?')
    >>> s.history[1].tool_calls[0].name, s.history[2].name, s.metadata["tool_calls"]
    ('rates', 'rates', ['rates'])
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from inspect_ai.model import ChatMessage
from inspect_ai.solver import TaskState

from repo_sdk.errors import InputError
from repo_sdk.types import Sample, ToolCall, Turn

__all__ = ["history_and_reply", "message_turn", "state_to_sample", "task_of"]


def _is_tool_result(message: ChatMessage) -> bool:
    return message.role == "tool" or (message.role == "user" and bool(getattr(message, "tool_call_id", None)))


def message_turn(message: ChatMessage) -> Turn:
    """The history turn a transcript message becomes.

    Example:
        >>> from inspect_ai.model import ChatMessageSystem, ChatMessageTool
        >>> message_turn(ChatMessageSystem(content="Be brief."))
        Turn(role='system', content='Be brief.')
        >>> message_turn(ChatMessageTool(content="42", tool_call_id="c1", function="rates"))
        Turn(role='tool', content='42', name='rates', tool_call_id='c1')
    """
    if _is_tool_result(message):
        ident = getattr(message, "tool_call_id", None)
        ident = ident[0] if isinstance(ident, list) and len(ident) == 1 else ident
        name = getattr(message, "function", None)
        return Turn(
            role="tool",
            content=message.text,
            name=name if isinstance(name, str) else None,
            tool_call_id=None if ident is None else str(ident),
        )
    if message.role in ("system", "user"):
        return Turn(role=message.role, content=message.text)
    if message.role == "assistant":
        calls = tuple(
            ToolCall(name=c.function, arguments=c.arguments if isinstance(c.arguments, dict) else {}, id=c.id)
            for c in message.tool_calls or []
        )
        return Turn(role="assistant", content=message.text, tool_calls=calls)
    raise InputError(f"message role {message.role!r} is not system, user, assistant or tool")


def history_and_reply(messages: Sequence[ChatMessage], completion: str | None) -> tuple[list[Turn], str]:
    """History turns and the reply.

    The reply is ``completion`` when given, else the text of the last assistant message;
    the history is everything before that message (all messages when there is none).
    """
    last = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=len(messages))
    history = [message_turn(m) for m in messages[:last]]
    if completion is None:
        completion = messages[last].text if last < len(messages) else ""
    return history, completion


def task_of(metadata: Mapping[str, Any], key: str | None) -> dict[str, Any]:
    """The task dict under ``metadata[key]`` (a dict or its JSON text); ``{}`` when absent.

    Example:
        >>> task_of({"task": '{"hotel": "Aurora"}'}, "task"), task_of({}, "task")
        ({'hotel': 'Aurora'}, {})
    """
    value = metadata.get(key) if key else None
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise InputError(f"metadata.{key}: the task is not JSON: {value!r:.60}") from None
    if not isinstance(value, Mapping):
        raise InputError(f"metadata.{key}: the task must be a mapping (or its JSON), got {type(value).__name__}")
    return dict(value)


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def state_to_sample(state: TaskState, *, task_key: str | None = "task") -> Sample:
    """The Sample :class:`repo_sdk.RewardPipeline` scores for one inspect TaskState.

    Raises:
        InputError: the task under ``task_key`` is not a mapping or its JSON.
    """
    metadata = dict(state.metadata or {})
    output = state.output
    completion = output.completion if output is not None and (output.choices or output.completion) else None
    history, response = history_and_reply(state.messages, completion)
    calls = [c.function for m in state.messages if m.role == "assistant" for c in (m.tool_calls or [])]
    target = state.target.text if state.target is not None else ""
    extra = {k: v for k, v in metadata.items() if k != task_key and _plain(v)}
    uid = f"{state.sample_id}#{state.epoch}"
    return Sample(
        id=uid,
        task=task_of(metadata, task_key),
        history=history,
        response=response,
        group=uid,  # scored on its own: a micro-batch never mixes samples in a group-aware combiner
        metadata={
            **extra,
            "inspect_sample_id": state.sample_id,
            "epoch": state.epoch,
            "model": str(state.model),
            **({"target": target} if target else {}),
            "tool_calls": calls,
        },
    )
