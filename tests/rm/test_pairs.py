"""Reading preference pairs: good files parse, bad lines name file:line."""

from __future__ import annotations

import json

import pytest

from repo_sdk.errors import InputError
from repo_sdk.rm.pairs import PreferencePair, read_pairs, split_pairs
from repo_sdk.templates_builtin import templates_dir

EXAMPLE = templates_dir() / "init" / "preference_pairs.jsonl"  # what `repo-sdk init` ships
GOOD = json.dumps(
    {
        "task": {"target_price": 90},
        "history": [{"role": "user", "content": "Hi"}],
        "chosen": "Would 90 work?",
        "rejected": "Check the work order.",
    }
)


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        (json.dumps({"chosen": "a"}), "rejected: Field required"),
        (json.dumps({"chosen": "a", "rejected": "a"}), "chosen and rejected are the same text"),
        (json.dumps({"chosen": "a", "rejected": "b", "score": 3}), "score: unknown key"),
        (json.dumps({"chosen": "a", "rejected": "b", "history": [{"role": "bot", "content": "x"}]}), "history.0.role"),
        (json.dumps({"chosen": "", "rejected": "b"}), "chosen: String should have at least 1 character"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path, bad_line, message):
    f = tmp_path / "pairs.jsonl"
    f.write_text(f"{GOOD}\n\n{bad_line}\n{GOOD}\n")
    with pytest.raises(InputError) as info:
        read_pairs(f)
    assert str(info.value).startswith(f"{f}:3: ") and message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_pairs(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(InputError, match="no preference pairs"):
        read_pairs(tmp_path / "empty.jsonl")


def test_split_is_seeded_disjoint_and_keeps_training_data():
    pairs = [PreferencePair(chosen=f"c{i}", rejected=f"r{i}") for i in range(25)]
    train, held = split_pairs(pairs, 0.2, seed=1)
    assert (len(train), len(held)) == (20, 5)
    assert {p.chosen for p in train}.isdisjoint(p.chosen for p in held)
    assert split_pairs(pairs, 0.2, seed=1) == (train, held) and split_pairs(pairs, 0.2, seed=2) != (train, held)
    assert [len(x) for x in split_pairs(pairs[:2], 0.1)] == [1, 1]
    assert split_pairs(pairs, 0.0)[1] == []
    with pytest.raises(InputError, match="too few"):
        split_pairs(pairs[:1], 0.5)


def test_shipped_example_pairs_are_valid_and_in_domain():
    pairs = read_pairs(EXAMPLE)
    assert 20 <= len(pairs) <= 40
    assert all(p.task.get("hotel") and p.task["tickets"][0]["target_price"] and p.history for p in pairs)
