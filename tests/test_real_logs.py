"""Logs shaped like production chit-chat logs score end to end with default flags: every assistant turn
gets its row, empty turns included (tests/chitchat_logs.py describes the stand-in)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from repo_sdk.cli import app
from repo_sdk.io.readers import read_dialogues
from repo_sdk.io.rows import dialogue_path, read_rows
from repo_sdk.score_run import skipped_path

_spec = importlib.util.spec_from_file_location("chitchat_logs", Path(__file__).with_name("chitchat_logs.py"))
chitchat: Any = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(chitchat)  # type: ignore[union-attr]

# the rules of the `repo-sdk init` scaffold: the generic pack, and the negotiation pack where it is installed
SPEC = """\
sources:
  rules:
    - {name: forbidden_terms, allow: [train ticket]}
    - {name: numeric_consistency, fields: [tickets, facts], history_roles: [user]}
    - repetition
    - {name: mixed_script, task_names: [hotel, city]}
    - format_breakage
    - cot_leak
    - {name: max_length, max_chars: 600}
"""
NEGOTIATION = """\
    - negotiation.price_consistency
    - negotiation.invented_facts
    - negotiation.one_language
    - negotiation.repeated_script
    - negotiation.tickets_closed
"""


def test_chitchat_logs_score_every_assistant_turn_with_default_flags(tmp_path: Path) -> None:
    from repo_sdk.plugins import get_registry

    records = chitchat.dialogues(100, seed=7)
    logs = tmp_path / "logs.jsonl"
    logs.write_bytes(chitchat.logs_text(100, seed=7).encode("utf-8"))
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC + (NEGOTIATION if "negotiation.price_consistency" in get_registry().rules else ""))
    out = tmp_path / "out.jsonl"

    result = CliRunner().invoke(app, ["score", str(logs), "-c", str(spec), "-o", str(out), "--no-progress"])

    assert result.exit_code == 0, result.output
    rows = list(read_rows(out))
    expected = [
        (str(d["id"]), i) for d in records for i, t in enumerate(d["turns"]) if t["role"] == "assistant"
    ]  # every assistant turn, in input order
    assert len(rows) == chitchat.assistant_turns(records) == len(expected)
    assert [(r["dialogue_id"], r["turn_index"]) for r in rows] == expected
    assert all(isinstance(r["sources"]["rules"], float) for r in rows)  # scored, not None
    empty = [r for r in rows if not r["response"].strip()]
    assert empty and all(r["reward"] is not None for r in empty)  # empty replies are scored like any other
    assert len(list(read_rows(dialogue_path(out)))) == len(records)
    assert not skipped_path(out).exists()
    assert logs.read_bytes() == chitchat.logs_text(100, seed=7).encode("utf-8")  # the input is untouched


def test_empty_turns_are_data(tmp_path: Path) -> None:
    logs = tmp_path / "logs.jsonl"
    turns = [("user", ""), ("assistant", "Hello?"), ("user", " \n"), ("assistant", ""), ("user", "bye")]
    record = {"id": "e", "turns": [{"role": r, "content": c} for r, c in turns]}
    logs.write_bytes(b"\xef\xbb\xbf" + json.dumps(record).encode() + b"\r\n")
    (dialogue,) = read_dialogues(logs)
    first, second = dialogue.samples()
    assert [t.content for t in first.history] == [""]  # the hotel's empty turn stays in the history
    assert second.response == "" and [t.content for t in second.history] == ["", "Hello?", " \n"]
