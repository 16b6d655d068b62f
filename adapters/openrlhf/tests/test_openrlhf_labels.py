"""Task info in OpenRLHF labels."""

from __future__ import annotations

import pytest
from repo_sdk_openrlhf.labels import parse_label


@pytest.mark.parametrize(
    ("label", "task", "group", "counterpart"),
    [
        ('{"task": {"target_price": 80}, "group": "p1"}', {"target_price": 80}, "p1", []),
        ({"task": {"target_price": 80}, "counterpart": ["No."]}, {"target_price": 80}, None, ["No."]),
        ('{"target_price": 80, "hotel": "Aurora"}', {"target_price": 80, "hotel": "Aurora"}, None, []),
        ('{"task": {"a": 1}, "other": 2}', {"task": {"a": 1}, "other": 2}, None, []),  # not an envelope
        ("80", {"label": 80}, None, []),
        ("the answer", {"label": "the answer"}, None, []),
        ("", {}, None, []),
        (None, {}, None, []),
    ],
)
def test_label_forms(label, task, group, counterpart):
    parsed = parse_label(label)
    assert (parsed.task, parsed.group, parsed.counterpart) == (task, group, counterpart)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ('{"task": [1]}', "label.task must be an object"),
        ('{"task": {}, "counterpart": "hi"}', "label.counterpart must be a list of strings"),
        ('{"task": {}, "max_turns": 0}', "label.max_turns must be a positive integer"),
    ],
)
def test_bad_envelopes_are_refused(label, message):
    with pytest.raises(ValueError, match=message):
        parse_label(label)
