"""Every core CLI command end to end, and the error boundary: one line, exit 1, no partial output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repo_sdk.cli import app

runner = CliRunner()
SPEC = "sources:\n  rules: [cot_leak, {name: max_length, max_chars: 40}]\n"


def dialogue(i: int, reply: str) -> str:
    return json.dumps(
        {
            "id": f"d{i}",
            "task": {"hotel": "Aurora", "target_price": 80},
            "turns": [
                {"role": "user", "content": "Hello, Hotel Aurora front desk."},
                {"role": "assistant", "content": reply},
                {"role": "user", "content": "We can do 85."},
                {"role": "assistant", "content": "Thank you, 85 works for us."},
            ],
        }
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "logs.jsonl").write_text(
        dialogue(1, "Hi! Could we talk about the twin room?")
        + "\n"
        + dialogue(2, "<think>they want more</think>Hi, can we discuss the price of the twin room today?")
        + "\n"
    )
    return tmp_path


def invoke(*args: str | Path) -> object:
    return runner.invoke(app, [str(a) for a in args])


def test_score_writes_one_row_per_assistant_turn(project: Path) -> None:
    out = project / "out.jsonl"
    res = invoke("score", project / "logs.jsonl", "--config", project / "spec.yaml", "-o", out)
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["dialogue_id"], r["turn_index"]) for r in rows] == [("d1", 1), ("d1", 3), ("d2", 1), ("d2", 3)]
    assert rows[0]["reward"] == 0.0 and rows[0]["fired"] == []
    assert {h["rule"] for h in rows[2]["fired"]} == {"cot_leak", "max_length"}
    assert rows[2]["sources"] == {"rules": -20.0}
    assert rows[2]["reward"] == pytest.approx(-0.2)


def test_validate_ok_and_errors(project: Path) -> None:
    ok = invoke("validate", project / "spec.yaml")
    assert ok.exit_code == 0 and "ok" in ok.output
    (project / "bad.yaml").write_text("sources:\n  rules: [cot_leak, nope]\ncombiner: {type: repo, n: 0}\n")
    bad = invoke("validate", project / "bad.yaml")
    assert bad.exit_code == 1
    lines = bad.output.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines)
    assert "rules[1].name: unknown rule 'nope'" in lines[0] and "combiner.n" in lines[1]


def test_schema_lists_plugins() -> None:
    res = invoke("schema")
    schema = json.loads(res.output)
    kinds = {v["properties"]["type"]["const"] for v in schema["$defs"]["Source"]["oneOf"]}
    combiners = {v["properties"]["type"]["const"] for v in schema["$defs"]["Combiner"]["oneOf"]}
    assert "rules" in kinds and {"repo", "gate"} <= combiners


def test_plugins_lists_everything_with_package() -> None:
    res = invoke("plugins", "--json")
    data = json.loads(res.output)
    assert {"name": "repo", "package": "repo-sdk"}.items() <= next(
        c for c in data["combiners"] if c["name"] == "repo"
    ).items()
    assert any(r["name"] == "cot_leak" for r in data["rules"])
    table = invoke("plugins")
    assert table.exit_code == 0 and "weighted_sum" in table.output


BAD_LINES = [
    ('{"id": "x", "turns": [', "malformed JSON"),
    ('{"id": "x"}', "missing field 'turns'"),
    ('{"id": "x", "turns": [{"role": "hotel", "content": "hi"}]}', "turns[0].role: unknown role 'hotel'"),
    ('{"id": "x", "turns": [{"role": "user", "content": null}]}', "turns[0].content: expected a string, got None"),
    ('{"id": "x", "turns": [{"role": "user"}]}', "turns[0].content: expected a string"),
    ("[1, 2]", "expected a JSON object"),
]


@pytest.mark.parametrize(("line", "message"), BAD_LINES)
def test_bad_input_line_is_one_clear_line_and_no_output(project: Path, line: str, message: str) -> None:
    logs = project / "logs.jsonl"
    logs.write_text(dialogue(1, "Hello there") + "\n" + line + "\n")
    out = project / "out.jsonl"
    res = invoke("score", logs, "-c", project / "spec.yaml", "-o", out)
    assert res.exit_code == 1
    assert res.output.strip() == res.output.strip().splitlines()[0]  # one line
    assert f"{logs}:2: {message}" in res.output
    assert "Traceback" not in res.output
    assert not out.exists() and not list(project.glob(".out.jsonl*"))


def test_invalid_utf8_names_line(project: Path) -> None:
    logs = project / "logs.jsonl"
    logs.write_bytes(dialogue(1, "Hello").encode() + b"\n" + b'{"id": "\xff\xfe"}\n')
    res = invoke("score", logs, "-c", project / "spec.yaml", "-o", project / "out.jsonl")
    assert res.exit_code == 1 and f"{logs}:2: invalid UTF-8" in res.output


def test_truncated_last_line(project: Path) -> None:
    logs = project / "logs.jsonl"
    logs.write_text(dialogue(1, "Hello") + "\n" + dialogue(2, "Hi")[:30])
    res = invoke("score", logs, "-c", project / "spec.yaml", "-o", project / "out.jsonl")
    assert res.exit_code == 1 and f"{logs}:2: truncated line" in res.output


def test_existing_output_survives_a_failed_run(project: Path) -> None:
    out = project / "out.jsonl"
    out.write_text("previous results\n")
    (project / "logs.jsonl").write_text(dialogue(1, "Hello") + "\n{oops\n")
    res = invoke("score", project / "logs.jsonl", "-c", project / "spec.yaml", "-o", out)
    assert res.exit_code == 1
    assert out.read_text() == "previous results\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["score", "{d}/absent.jsonl", "-c", "{d}/spec.yaml", "-o", "{d}/o.jsonl"], "absent.jsonl: no such file"),
        (["score", "{d}/logs.jsonl", "-c", "{d}/absent.yaml", "-o", "{d}/o.jsonl"], "absent.yaml: no such spec file"),
        (
            ["score", "{d}/logs.jsonl", "-c", "{d}/spec.yaml", "-o", "{d}/o.jsonl", "--only", "judge"],
            "--only names unknown source(s) ['judge']",
        ),
        (["validate", "{d}/absent.yaml"], "no such spec file"),
    ],
)
def test_missing_files_and_bad_options(project: Path, args: list[str], message: str) -> None:
    res = invoke(*[a.format(d=project) for a in args])
    assert res.exit_code == 1
    assert message in res.output and res.output.startswith("error: ")
