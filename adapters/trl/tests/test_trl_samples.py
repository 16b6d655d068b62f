"""Trainer batches to Samples."""

from __future__ import annotations

import pytest
from repo_sdk_trl.samples import batch_to_samples, read_batch

from repo_sdk.errors import InputError
from repo_sdk.types import ToolCall, Turn

MSGS = [{"role": "system", "content": "Negotiate."}, {"role": "user", "content": "We offer 95 EUR."}]


@pytest.mark.parametrize(
    ("prompt", "completion", "roles", "response"),
    [
        ("We offer 95 EUR.", "80?", ["user"], "80?"),
        (MSGS, [{"role": "assistant", "content": "80?"}], ["system", "user"], "80?"),
        (MSGS, "80?", ["system", "user"], "80?"),
        ([{"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "image"}]}], "Hey", ["user"], "Hey"),
    ],
)
def test_prompt_and_completion_forms(prompt, completion, roles, response):
    [s] = batch_to_samples([prompt], [completion])
    assert [t.role for t in s.history] == roles
    assert s.response == response


@pytest.mark.parametrize(
    ("columns", "kwargs", "task"),
    [
        ({"task": [{"target_price": 80}]}, {}, {"target_price": 80}),
        ({"task": ['{"target_price": 80}']}, {}, {"target_price": 80}),
        ({"task": [None]}, {}, {}),
        ({"info": [{"a": 1}]}, {"task_column": "info"}, {"a": 1}),
        ({"hotel": ["Aurora"], "t": [80]}, {"task_columns": ["hotel", "t"]}, {"hotel": "Aurora", "t": 80}),
        ({}, {}, {}),
    ],
)
def test_task_from_columns(columns, kwargs, task):
    [s] = batch_to_samples(["p"], ["c"], columns, **kwargs)
    assert s.task == task


def test_groups_follow_prompt_and_task_and_other_columns_become_metadata():
    prompts = ["A", "A", "B", "A"]
    tasks = [{"t": 1}, {"t": 1}, {"t": 1}, {"t": 2}]
    samples = batch_to_samples(prompts, ["x"] * 4, {"task": tasks, "split": ["train"] * 4, "trainer_state": [None] * 4})
    groups = [s.group for s in samples]
    assert groups[0] == groups[1] and len(set(groups)) == 3
    assert samples[0].metadata == {"split": "train"}


@pytest.mark.parametrize(
    ("prompts", "completions", "columns", "kwargs", "message"),
    [
        (["p"], ["a", "b"], {}, {}, "1 prompts but 2 completions"),
        ([[{"role": "robot", "content": "x"}]], ["a"], {}, {}, "batch[0].prompt[0].role: unknown role 'robot'"),
        (["p"], [[{"role": "tool", "content": "x"}]], {}, {}, "batch[0].completion: no assistant message"),
        (["p"], [[{"role": "assistant", "content": 7}]], {}, {}, "batch[0].completion[0].content: expected a string"),
        (["p"], [42], {}, {}, "batch[0].completion"),
        (["p"], ["a"], {"task": ["{not json"]}, {}, "batch[0].task: task text is not JSON"),
        (["p"], ["a"], {"task": [[1, 2]]}, {}, "task must be a mapping"),
        (["p"], ["a"], {}, {"task_columns": ["hotel"]}, "task column(s) ['hotel']"),
    ],
)
def test_bad_batches_name_the_item(prompts, completions, columns, kwargs, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        batch_to_samples(prompts, completions, columns, **kwargs)


CALL = {"type": "function", "function": {"name": "rates", "arguments": {"room": "twin"}}}
TOOL_TEXT = "RATE-SHEET <think>internal</think> 95 EUR"


def tool_completion(final="Could you do 95 EUR?"):
    """What TRL 1.16's GRPOTrainer(tools=...) puts in a completion (chat_template_utils.parse_response)."""
    return [
        {"role": "assistant", "content": "", "tool_calls": [CALL]},
        {"role": "tool", "name": "rates", "content": TOOL_TEXT},
        {"role": "assistant", "content": final},
    ]


def test_tool_calling_completion_the_reply_is_the_last_assistant_text():
    [s] = batch_to_samples([MSGS], [tool_completion()])
    assert s.response == "Could you do 95 EUR?" and TOOL_TEXT not in s.response
    assert s.history == [
        Turn(role="system", content="Negotiate."),
        Turn(role="user", content="We offer 95 EUR."),
        Turn(role="assistant", content="", tool_calls=(ToolCall(name="rates", arguments={"room": "twin"}),)),
        Turn(role="tool", name="rates", content=TOOL_TEXT),
    ]
    assert s.metadata["tool_calls"] == ["rates"]


def test_tool_roles_and_none_content_in_prompts_are_history():
    prompt = [
        {"role": "user", "content": "We offer 95 EUR."},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "name": "rates", "content": TOOL_TEXT},
    ]
    [s] = batch_to_samples([prompt], ["80?"])
    assert [t.role for t in s.history] == ["user", "assistant", "tool"] and s.history[1].content == ""


def test_a_completion_cut_after_a_tool_answer_keeps_the_last_agent_text():
    cut = tool_completion()[:2]  # max_tool_calling_iterations reached: the tool answered, the agent did not
    [s] = batch_to_samples(["p"], [cut])
    assert s.response == "" and [t.role for t in s.history] == ["user"]


def test_one_unreadable_item_does_not_stop_the_batch():
    items = read_batch(["p", "p", "p"], [tool_completion(), [{"role": "robot", "content": "x"}], "80?"])
    assert [type(i).__name__ for i in items] == ["Sample", "InputError", "Sample"]
    assert str(items[1]).startswith("batch[1].completion[0].role: unknown role 'robot'")
