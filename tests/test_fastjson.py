"""JSON lines: integers beyond 64 bits stay exact, plain lines keep the fast path, half surrogate pairs are refused."""

from __future__ import annotations

import json
import random

import pytest

from repo_sdk.io import fastjson
from repo_sdk.io.dialogues import parse_line
from repo_sdk.io.fastjson import dumps_line, loads

BIG = [2**63, 2**64, 2**64 + 1, -(2**63) - 1, 10**19, 123456789012345678901234567890, -(10**300)]


@pytest.mark.parametrize("value", BIG)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_integers_beyond_64_bits_read_back_exactly(value, as_bytes):
    line = json.dumps({"task": {"order": value, "ids": [1, value, {"x": value}]}, "note": "ok"})
    got = loads(line.encode() if as_bytes else line)
    assert got["task"]["order"] == value and isinstance(got["task"]["order"], int)
    assert got["task"]["ids"] == [1, value, {"x": value}]
    assert loads(dumps_line(got)) == got  # written and read back: still exact


def test_integers_within_64_bits_and_long_digit_strings_read_as_json_does():
    rng = random.Random(0)
    for _ in range(2000):
        value = rng.choice([rng.randrange(-(2**63), 2**64), rng.random() * 10 ** rng.randint(-5, 30)])
        doc = {"v": value, "phone": "+" + "".join(rng.choices("0123456789", k=rng.randint(5, 40)))}
        line = json.dumps(doc)
        assert loads(line) == json.loads(line)


def test_a_line_without_a_long_run_of_digits_is_read_by_orjson(monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("json.loads on the fast path")

    monkeypatch.setattr(fastjson.json, "loads", refuse)
    assert loads('{"price": 999999999999999999, "t": "80 EUR"}') == {"price": 10**18 - 1, "t": "80 EUR"}


def test_a_malformed_line_still_raises_the_usual_error():
    for line in ['{"a": 1', '{"a": 12345678901234567890', "not json"]:
        with pytest.raises(json.JSONDecodeError):
            loads(line)


def test_a_dialogue_with_a_big_integer_id_and_task_value_keeps_them():
    raw = json.dumps(
        {
            "id": 123456789012345678901234567890,
            "task": {"order": 98765432109876543210987},
            "turns": [{"role": "user", "content": "Price?"}, {"role": "assistant", "content": "80 EUR."}],
        }
    )
    dialogue = parse_line(raw, name="logs.jsonl", lineno=1)
    assert dialogue.id == "123456789012345678901234567890"
    assert dialogue.task["order"] == 98765432109876543210987


def test_a_lone_surrogate_in_a_text_line_is_read_as_json_reads_it():
    line = '{"t": "\ud800 half a pair"}'
    assert loads(line) == json.loads(line)


@pytest.mark.parametrize(
    ("turns", "where"),
    [
        (
            [{"role": "user", "content": "Price?"}, {"role": "assistant", "content": "\ud800 80 EUR"}],
            "turns[1].content",
        ),
        ([{"role": "assistant", "content": [{"type": "text", "text": "ok \udfff"}]}], "turns[0].content[0].text"),
    ],
)
def test_half_a_surrogate_pair_is_refused_naming_line_key_and_character(turns, where):
    from repo_sdk.errors import InputError

    raw = json.dumps({"id": "d", "turns": turns})  # json escapes it as \ud800: the way such logs arrive
    with pytest.raises(InputError) as exc:
        parse_line(raw, name="logs.jsonl", lineno=7)
    message = str(exc.value)
    assert message.startswith(f"logs.jsonl:7: {where}: half of a UTF-16 surrogate pair")
    assert "\n" not in message


def test_escaped_emoji_pairs_are_text():
    raw = json.dumps({"id": "d", "turns": [{"role": "assistant", "content": "Deal \U0001f600 at 80"}]})
    assert "\\ud83d\\ude00" in raw
    dialogue = parse_line(raw, name="logs.jsonl", lineno=1)
    assert dialogue.turns[0].content == "Deal \U0001f600 at 80"


def test_a_boolean_is_no_dialogue_id():
    from repo_sdk.errors import InputError

    raw = json.dumps({"id": True, "turns": [{"role": "assistant", "content": "Hi"}]})
    with pytest.raises(InputError, match=r"logs.jsonl:1: id: .*got True"):
        parse_line(raw, name="logs.jsonl", lineno=1)
