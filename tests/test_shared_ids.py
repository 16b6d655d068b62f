"""Dialogue ids reused by several dialogues: counted from the turn rows, warned about by `repo-sdk score`."""

from __future__ import annotations

import json
import random

from typer.testing import CliRunner

from repo_sdk.cli import app
from repo_sdk.shared_ids import SharedIds


def rows_of(dialogues):
    """(dialogue_id, turn_index) of each turn row, in input order."""
    return [(did, t) for did, turns in dialogues for t in turns]


def test_reuse_is_counted_once_per_dialogue_consecutive_or_not():
    ids = SharedIds()
    for did, t in rows_of([("a", [1, 3, 5]), ("a", [1]), ("b", [1, 3]), ("a", [2, 4]), ("c", [1])]):
        ids.add(did, t)
    assert ids.reuses == 2 and ids.shared == {"a": 2}
    assert ids.message().startswith("dialogue id 'a' is used by 3 dialogues: their turn rows share")


def test_distinct_ids_make_no_warning_whatever_the_turn_indices():
    rng = random.Random(0)
    ids = SharedIds()
    for n in range(2000):
        for t in sorted(rng.sample(range(1, 60), rng.randint(1, 8))):
            ids.add(f"d{n}", t)
    assert ids.reuses == 0 and ids.message() is None


def test_the_warning_names_a_few_ids_and_counts_the_rest():
    ids = SharedIds()
    for n in range(10):
        ids.add(f"x{n}", 1)
        ids.add(f"x{n}", 1)  # the same id again, its turns from the start: another dialogue
    message = ids.message()
    assert ids.reuses == 10 and len(ids.shared) == 3
    assert "'x0'" in message and "'x3'" not in message and "(7 more dialogues reuse an id)" in message


def test_rows_without_an_id_or_a_turn_index_are_counted_without_error():
    ids = SharedIds()
    for did, t in [(None, 1), (None, None), ("a", None), ("a", 2), ("a", "3"), ("b", 1)]:
        ids.add(did, t)  # a hand-made or older journal row may lack either key
    assert ids.reuses == 3 and ids.shared == {"None": 1, "a": 2}


def test_score_warns_and_eval_names_the_cause(tmp_path):
    record = {"id": "a", "turns": [{"role": "user", "content": "Price?"}, {"role": "assistant", "content": "80 EUR."}]}
    other = {**record, "id": "b"}
    logs = tmp_path / "logs.jsonl"
    logs.write_text("".join(json.dumps(r) + "\n" for r in (record, other, record)), encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  rules: [max_length]\n", encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", "-c", str(spec), str(logs), "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "warning: dialogue id 'a' is used by 2 dialogues" in result.output
    assert len(out.read_text().splitlines()) == 3  # every dialogue is scored: the input is read as it is
    result = runner.invoke(app, ["eval", str(out)])
    assert result.exit_code != 0
    assert "turn ('a', 1) appears twice: two dialogues of the scored input share the id 'a'" in result.output
    assert "Traceback" not in result.output


def test_no_warning_when_ids_are_distinct(tmp_path):
    logs = tmp_path / "logs.jsonl"
    turns = [{"role": "user", "content": "Price?"}, {"role": "assistant", "content": "80 EUR."}]
    logs.write_text("".join(json.dumps({"id": f"d{i}", "turns": turns}) + "\n" for i in range(5)), encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  rules: [max_length]\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["score", "-c", str(spec), str(logs), "-o", str(tmp_path / "o.jsonl"), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "dialogue id" not in result.output
