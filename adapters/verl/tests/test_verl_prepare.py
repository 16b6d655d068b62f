"""`repo-sdk verl prepare`: logged dialogues and prompt files -> verl's RL Parquet layout, and back."""

from __future__ import annotations

import json

import pytest
from repo_sdk_verl.samples import sample_from_call
from typer.testing import CliRunner

from repo_sdk.cli import app
from repo_sdk.io.readers import read_dialogues

pq = pytest.importorskip("pyarrow.parquet")


def prepare(*args):
    return CliRunner().invoke(app, ["verl", "prepare", *map(str, args)])


def test_every_assistant_turn_becomes_a_row_that_rebuilds_its_sample(dialogues_file, tmp_path):
    out = tmp_path / "train.parquet"
    result = prepare(dialogues_file, "-o", out)
    assert result.exit_code == 0, result.output
    assert "wrote 6 rows" in result.output
    rows = pq.read_table(out).to_pylist()
    samples = [s for d in read_dialogues(dialogues_file) for s in d.samples()]
    assert len(rows) == len(samples) == 6
    for i, (row, sample) in enumerate(zip(rows, samples, strict=True)):
        assert row["prompt"] == [t.message() for t in sample.history]
        assert row["reward_model"]["ground_truth"] == sample.response and row["data_source"] == "repo_sdk"
        assert row["extra_info"]["index"] == i
        back = sample_from_call(sample.response, row["extra_info"])
        assert back.model_dump(exclude={"group"}) == sample.model_dump(exclude={"group"})
        assert list(back.task) == list(sample.task)  # key order too: prompts render the task in it


def test_tasks_with_different_keys_come_back_as_they_were_through_datasets(tmp_path):
    datasets = pytest.importorskip("datasets")
    logs = tmp_path / "logs.jsonl"
    tasks = [{"hotel": "A", "rooms": [{"type": "twin", "price": 90}]}, {"target_price": 80}, {}]
    logs.write_text(
        "".join(
            json.dumps(
                {
                    "id": i,
                    "task": t,
                    "turns": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
                }
            )
            + "\n"
            for i, t in enumerate(tasks)
        )
    )
    out = tmp_path / "t.parquet"
    assert prepare(logs, "-o", out).exit_code == 0
    ds = datasets.load_dataset("parquet", data_files=str(out))["train"]  # how verl's RLHFDataset reads it
    assert [sample_from_call("yo", row["extra_info"]).task for row in ds] == tasks


def test_prompt_files_take_the_specs_train_columns(tmp_path, write_spec):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        json.dumps({"q": "We offer 95 EUR.", "hotel": "Aurora", "target": 80, "id": "p1"})
        + "\n"
        + json.dumps(
            {
                "q": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "70?"}],
                "hotel": "B",
                "target": 60,
            }
        )
        + "\n"
    )
    spec = write_spec(
        {
            "sources": {"g": ["cot_leak"]},
            "train": {"prompt_column": "q", "task_column": None, "task_columns": ["hotel", "target"]},
        }
    )
    out = tmp_path / "p.parquet"
    result = prepare(prompts, "--prompts", "-c", spec, "-o", out, "--task-in-prompt")
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out).to_pylist()
    assert rows[0]["prompt"] == [
        {"role": "system", "content": 'Task: {"hotel": "Aurora", "target": 80}'},
        {"role": "user", "content": "We offer 95 EUR."},
    ]
    assert rows[1]["prompt"][0] == {"role": "system", "content": 'Be brief.\n\nTask: {"hotel": "B", "target": 60}'}
    first = sample_from_call("80?", rows[0]["extra_info"])
    assert first.id == "p1" and first.task == {"hotel": "Aurora", "target": 80}
    assert [t.content for t in first.history] == ["We offer 95 EUR."]  # the reward sees the history, not the task note


def test_a_bad_record_fails_naming_its_line_or_is_listed_aside(dialogues_file, tmp_path):
    logs = tmp_path / "logs.jsonl"
    lines = dialogues_file.read_text().splitlines()
    logs.write_text("\n".join([lines[0], "{not json", lines[1], json.dumps({"id": "x", "turns": "nope"})]) + "\n")
    out = tmp_path / "train.parquet"
    out.write_bytes(b"previous")
    failed = prepare(logs, "-o", out)
    assert failed.exit_code == 1 and f"{logs}:2" in failed.output and failed.output.count("\n") == 1
    assert out.read_bytes() == b"previous"  # a failed run leaves the old output as it was

    skipped = prepare(logs, "-o", out, "--on-error", "skip")
    assert skipped.exit_code == 0, skipped.output
    assert len(pq.read_table(out)) == 5 and "2 bad records" in skipped.output  # aurora 3 + lumen 2
    listed = [json.loads(line)["error"] for line in (tmp_path / "train.parquet.skipped.jsonl").read_text().splitlines()]
    assert [e.split(": ")[0] for e in listed] == [f"{logs}:2", f"{logs}:4"]


def test_replies_with_nothing_before_them_are_left_out_and_counted(tmp_path):
    logs = tmp_path / "logs.jsonl"
    turns = [
        {"role": "assistant", "content": "Hello, agency here."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "95?"},
    ]
    logs.write_text(json.dumps({"id": "a", "turns": turns}) + "\n")
    result = prepare(logs, "-o", tmp_path / "o.parquet")
    assert (
        result.exit_code == 0
        and "wrote 1 rows" in result.output
        and "1 replies with nothing before them" in result.output
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "{logs}"], "must be a .parquet file"),
        (["-o", "{dir}/same.parquet", "--prompts"], "no such file"),
        (["-o", "{dir}/o.parquet", "--on-error", "maybe"], "--on-error must be 'fail' or 'skip'"),
    ],
)
def test_bad_arguments_get_one_line(dialogues_file, tmp_path, args, message):
    args = [a.format(logs=dialogues_file, dir=tmp_path) for a in args]
    src = dialogues_file if "--prompts" not in args else tmp_path / "missing.jsonl"
    result = prepare(src, *args)
    assert result.exit_code == 1 and message in result.output and result.output.count("\n") == 1


def test_the_output_never_overwrites_the_input(tmp_path):
    src = tmp_path / "logs.parquet"
    pq.write_table(__import__("pyarrow").table({"id": ["a"]}), src)
    result = prepare(src, "-o", src)
    assert result.exit_code == 1 and "would overwrite the input" in result.output
    assert pq.read_table(src).to_pylist() == [{"id": "a"}]
