"""Trainer batches to Samples."""

from __future__ import annotations

import pytest
from repo_sdk_trl.samples import batch_to_samples

from repo_sdk.errors import InputError

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
        ([[{"role": "tool", "content": "x"}]], ["a"], {}, {}, "batch[0].prompt[0].role"),
        (["p"], [42], {}, {}, "batch[0].completion"),
        (["p"], ["a"], {"task": ["{not json"]}, {}, "batch[0].task: task text is not JSON"),
        (["p"], ["a"], {"task": [[1, 2]]}, {}, "task must be a mapping"),
        (["p"], ["a"], {}, {"task_columns": ["hotel"]}, "task column(s) ['hotel']"),
    ],
)
def test_bad_batches_name_the_item(prompts, completions, columns, kwargs, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        batch_to_samples(prompts, completions, columns, **kwargs)
