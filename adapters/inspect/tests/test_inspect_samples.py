"""TaskState -> Sample: what becomes history, what is the scored reply, where the task comes from."""

from __future__ import annotations

import pytest
from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    ContentImage,
    ContentReasoning,
    ContentText,
    ModelOutput,
)
from inspect_ai.scorer import Target
from inspect_ai.solver import TaskState
from inspect_ai.tool import ToolCall
from repo_sdk_inspect.samples import message_turn, state_to_sample, task_of

from repo_sdk.errors import InputError
from repo_sdk.types import ToolCall as ToolCallTurn
from repo_sdk.types import Turn

MODEL = "mockllm/model"


def state(messages, output=None, metadata=None, target="", sample_id="s1", epoch=1):
    return TaskState(
        model=MODEL,
        sample_id=sample_id,
        epoch=epoch,
        input=messages[0].text if messages else "",
        messages=messages,
        target=Target(target),
        output=output,
        metadata=metadata or {},
    )


def call(name="rates", id="c1"):
    return ToolCall(id=id, function=name, arguments={"hotel": "Aurora"})


def test_plain_dialogue_history_reply_task_and_metadata():
    messages = [
        ChatMessageSystem(content="You negotiate."),
        ChatMessageUser(content="Hello, Hotel Aurora."),
        ChatMessageAssistant(content="Hi! The twin room?"),
        ChatMessageUser(content="It is 140 EUR now."),
        ChatMessageAssistant(content="Would 120 EUR work?"),
    ]
    s = state_to_sample(
        state(
            messages,
            output=ModelOutput.from_content(MODEL, "Would 120 EUR work?"),
            metadata={"task": {"target_price": 120}, "channel": "phone", "nested": {"x": 1}},
            target="120 EUR",
            sample_id=42,
            epoch=3,
        )
    )
    assert [(t.role, t.content) for t in s.history] == [(m.role, m.text) for m in messages[:-1]]
    assert s.response == "Would 120 EUR work?"
    assert s.task == {"target_price": 120}
    assert s.id == s.group == "42#3"
    assert s.metadata["channel"] == "phone" and "nested" not in s.metadata  # plain values only
    assert s.metadata["target"] == "120 EUR" and s.metadata["epoch"] == 3 and s.metadata["inspect_sample_id"] == 42
    assert s.metadata["tool_calls"] == []


def test_tool_output_is_tool_turns_never_the_reply_or_the_agents_words():
    tool_text = "<think>TOOL SAYS 80</think>"
    messages = [
        ChatMessageUser(content="Rates for Lumen?"),
        ChatMessageAssistant(content="Let me check.", tool_calls=[call()]),
        ChatMessageTool(content=tool_text, tool_call_id="c1", function="rates"),
        ChatMessageAssistant(content="", tool_calls=[call("history", "c2")]),  # a pure tool call
        ChatMessageUser(content=tool_text, tool_call_id=["c2"]),  # a tool result delivered as a user message
        ChatMessageAssistant(content="Would 85 EUR work?"),
    ]
    s = state_to_sample(state(messages, output=ModelOutput.from_content(MODEL, "Would 85 EUR work?")))
    assert [(t.role, t.content) for t in s.history] == [
        ("user", "Rates for Lumen?"),
        ("assistant", "Let me check."),
        ("tool", tool_text),
        ("assistant", ""),
        ("tool", tool_text),
    ]
    assert [c.name for c in s.history[1].tool_calls] == ["rates"] and s.history[3].tool_calls[0].id == "c2"
    assert (s.history[2].name, s.history[2].tool_call_id, s.history[4].tool_call_id) == ("rates", "c1", "c2")
    assert s.response == "Would 85 EUR work?"
    assert all("TOOL SAYS" not in t.content for t in s.turns() if t.role != "tool")
    assert s.metadata["tool_calls"] == ["rates", "history"]


def test_submitted_answer_is_the_reply():
    # react() ends on a submit() call: the answer lives in output.completion, not in a message's text
    messages = [
        ChatMessageUser(content="Final offer?"),
        ChatMessageAssistant(content="", tool_calls=[call("submit")]),
        ChatMessageTool(content="80 EUR", tool_call_id="c1", function="submit"),
    ]
    out = ModelOutput.from_content(MODEL, "")
    out.completion = "80 EUR, final."
    s = state_to_sample(state(messages, output=out))
    assert s.response == "80 EUR, final." and [t.content for t in s.history] == ["Final offer?"]


def test_reasoning_and_images_are_not_reply_text():
    message = ChatMessageAssistant(
        content=[
            ContentReasoning(reasoning="they will cave"),
            ContentText(text="80 EUR?"),
            ContentImage(image="data:image/png;base64,AAAA"),
        ]
    )
    s = state_to_sample(state([ChatMessageUser(content="95?"), message], output=ModelOutput(model=MODEL)))
    assert s.response == "80 EUR?"  # no model output recorded: the last assistant message's text


def test_no_assistant_message_and_no_output():
    s = state_to_sample(state([ChatMessageUser(content="Hello?")]))
    assert s.response == "" and [t.content for t in s.history] == ["Hello?"]


@pytest.mark.parametrize(
    ("metadata", "key", "task"),
    [
        ({"task": '{"target_price": 80}'}, "task", {"target_price": 80}),
        ({"task": {"hotel": "Aurora"}}, "task", {"hotel": "Aurora"}),
        ({"info": {"hotel": "Aurora"}, "task": "ignored"}, "info", {"hotel": "Aurora"}),
        ({}, "task", {}),
        ({"task": {"x": 1}}, None, {}),
    ],
)
def test_task_from_metadata(metadata, key, task):
    assert task_of(metadata, key) == task


@pytest.mark.parametrize(
    ("value", "message"),
    [("{not json", "metadata.task: the task is not JSON: '{not json'"), ("[1, 2]", "got list"), (7, "got int")],
)
def test_bad_task_names_key_and_value(value, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("{", r"\{")):
        state_to_sample(state([ChatMessageUser(content="hi")], metadata={"task": value}))


def test_message_turn_is_the_one_role_switch():
    assert message_turn(ChatMessageUser(content="hi")) == Turn(role="user", content="hi")
    assert message_turn(ChatMessageAssistant(content="", tool_calls=[call()])) == Turn(
        role="assistant", content="", tool_calls=(ToolCallTurn(name="rates", arguments={"hotel": "Aurora"}, id="c1"),)
    )
    assert message_turn(ChatMessageAssistant(content="")) == Turn(role="assistant", content="")
    assert message_turn(ChatMessageTool(content="42", tool_call_id="c1")) == Turn(
        role="tool", content="42", tool_call_id="c1"
    )
