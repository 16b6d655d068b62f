"""The sharded run without a cluster: blocks cover the input once, shards assemble into the one-process files,
resume checks what it keeps, resources leave room for the readers, and the CLI refuses what does not fit."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from repo_sdk.cli import app
from repo_sdk.errors import InputError, RunError
from repo_sdk.io.readers import iter_records
from repo_sdk.io.rows import dialogue_path
from repo_sdk.pipeline import Deferred, RewardPipeline
from repo_sdk.score_run import fingerprint, score_file, skipped_path, write_outputs
from repo_sdk.shards.plan import Block, block_records, plan_blocks, read_block
from repo_sdk.shards.ray_engine import builds_elsewhere, sizing
from repo_sdk.shards.score import score_block
from repo_sdk.shards.store import ShardStore, shards_path
from repo_sdk.testing import echo_rm

_spec = importlib.util.spec_from_file_location("workers_logs", Path(__file__).with_name("test_workers.py"))
_workers: Any = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(_workers)  # type: ignore[union-attr]
SPEC, write_logs = _workers.SPEC, _workers.write_logs


def messy_logs(path: Path) -> Path:
    """Dialogues with blank lines, malformed and invalid records, a price a rule cannot read, no final newline."""
    lines = [json.loads(line) for line in write_logs(path, 30).read_text().splitlines()]
    lines[4] = {**lines[4], "task": {"current_price": "120 EUR", "target_price": 95}}
    out = [json.dumps(r) for r in lines]
    out[7] = "{bad"
    out[12] = ""
    out[19] = json.dumps({"id": "x", "turns": [{"role": "bot", "content": "hi"}]})
    path.write_text("\n".join(out))  # no newline after the last record
    return path


def sharded(pipe: RewardPipeline, logs: Path, out: Path, size: int, on_error: str = "skip") -> Any:
    """A sharded run in this process: every block scored, shard written and listed, outputs assembled."""
    plan = plan_blocks(logs, size)
    store = ShardStore.open(shards_path(out), {"fingerprint": fingerprint(pipe)}, plan, resume=False, source=logs)
    for block in reversed(plan):  # any order: the outputs come out in input order
        result = score_block(pipe, logs, block, read_block(logs, block), on_error=on_error)  # type: ignore[arg-type]
        assert result.failure is None
        store.write_shard(block.index, result.events)
        store.record(result.entry)
    summary = write_outputs(store.lines, out)
    store.remove()
    return summary


SPEC_WITH_PRICES = {"sources": {"rules": [*SPEC["sources"]["rules"], "negotiation.price_consistency"]}, "batch_size": 4}


@pytest.mark.parametrize("size", [1, 7, 64])
def test_blocks_cover_every_line_once_with_the_readers_errors(tmp_path: Path, size: int) -> None:
    logs = messy_logs(tmp_path / "logs.jsonl")
    plan = plan_blocks(logs, size)
    assert b"".join(read_block(logs, b) for b in plan) == logs.read_bytes()
    assert [b.first for b in plan] == [1 + i * size for i in range(len(plan))] and plan[-1].last == 30
    got = [
        (pos, str(x) if isinstance(x, InputError) else x)
        for b in plan
        for pos, x in block_records(logs, b, read_block(logs, b))
    ]
    want = [(pos, str(x) if isinstance(x, InputError) else x) for pos, x in iter_records(logs)]
    assert got == want and len(got) == 29  # the blank line is no record
    assert sum(b.records for b in plan) == 29


def test_parquet_blocks_slice_row_groups_and_keep_row_numbers(tmp_path: Path) -> None:
    records = [json.loads(line) for line in write_logs(tmp_path / "logs.jsonl", 25).read_text().splitlines()]
    records[11]["turns"] = "not a list"
    logs = tmp_path / "logs.parquet"
    rows = [{**r, "turns": json.dumps(r["turns"]) if isinstance(r["turns"], str) else r["turns"]} for r in records]
    rows[11]["turns"] = None
    pq.write_table(pa.Table.from_pylist(rows), logs, row_group_size=10)
    plan = plan_blocks(logs, 4)
    assert [(b.group, b.offset, b.length) for b in plan][:4] == [(0, 0, 4), (0, 4, 4), (0, 8, 2), (1, 0, 4)]
    got = [
        (pos, str(x) if isinstance(x, InputError) else x)
        for b in plan
        for pos, x in block_records(logs, b, read_block(logs, b))
    ]
    want = [(pos, str(x) if isinstance(x, InputError) else x) for pos, x in iter_records(logs)]
    assert got == want and got[11][1].startswith(f"{logs}: row 12: ")


def test_a_dataset_folder_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"the ray engine reads JSONL or Parquet \(write it with Dataset.to_parquet"):
        plan_blocks(tmp_path, 10)


@pytest.mark.parametrize("size", [3, 1000])
def test_shards_assemble_into_the_one_process_files(tmp_path: Path, size: int) -> None:
    logs = messy_logs(tmp_path / "logs.jsonl")
    with RewardPipeline.from_spec(SPEC_WITH_PRICES) as pipe:
        one = score_file(pipe, logs, tmp_path / "one.jsonl", progress=False, on_error="skip")
        many = sharded(pipe, logs, tmp_path / "many.jsonl", size)
    for name in ("one", "many"):
        assert (tmp_path / f"{name}.jsonl").exists()
    for path in (Path("{}.jsonl"), Path("{}.dialogues.jsonl"), Path("{}.skipped.jsonl")):
        assert (tmp_path / str(path).format("one")).read_bytes() == (tmp_path / str(path).format("many")).read_bytes()
    assert (one.turns, one.dialogues, one.skipped, one.source_errors) == (
        many.turns,
        many.dialogues,
        many.skipped,
        many.source_errors,
    )
    assert many.skipped == 2 and many.source_errors["rules"] > 0
    assert not shards_path(tmp_path / "many.jsonl").exists()


def test_fail_mode_stops_a_block_at_the_one_process_error(tmp_path: Path) -> None:
    logs = messy_logs(tmp_path / "logs.jsonl")
    errors = []
    with RewardPipeline.from_spec(SPEC_WITH_PRICES) as pipe:
        with pytest.raises(InputError) as one:
            score_file(pipe, logs, tmp_path / "one.jsonl", progress=False)
        for block in plan_blocks(logs, 6):
            result = score_block(pipe, logs, block, read_block(logs, block), on_error="fail")
            if result.failure:
                assert result.events == []
                errors.append(result.failure)
    assert str(one.value).startswith(errors[0])  # the one-process line, plus what it kept
    assert errors[0].startswith(f"{logs}:5: turns[1] (d4#1): source rules: ")
    assert errors[1] == f"{logs}:8: malformed JSON: Expecting property name enclosed in double quotes at column 2"
    assert errors[2].startswith(f"{logs}:20: turns[0].role: unknown role 'bot'") and len(errors) == 3


def test_resume_keeps_listed_blocks_and_refuses_what_changed(tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs.jsonl", 20)
    folder = tmp_path / ".out.jsonl.shards"
    plan = plan_blocks(logs, 5)
    store = ShardStore.open(folder, {"fingerprint": "f", "block_records": 5}, plan, resume=False, source=logs)
    for block in plan[:3]:
        store.write_shard(block.index, [("turn", block.first, b"{}")])
        if block.index != 1:
            store.record({"block": block.index, "first": block.first, "last": block.last, "digest": block.digest})
    store.close()
    with (folder / "manifest.jsonl").open("a") as fh:
        fh.write('{"kind": "block", "block": 3, "fir')  # the line a kill cut
    (folder / "block-000003.parquet").write_bytes(b"half a shard")  # listed nowhere: scored again

    again = ShardStore.open(folder, {"fingerprint": "f", "block_records": 5}, plan, resume=True, source=logs)
    assert sorted(again.finished) == [0, 2]  # block 1 wrote its shard but was not listed
    again.close()
    assert ShardStore.recorded(folder) == {"fingerprint": "f", "block_records": 5}
    with pytest.raises(InputError, match="another spec"):
        ShardStore.open(folder, {"fingerprint": "g", "block_records": 5}, plan, resume=True)

    lines = logs.read_text().splitlines(keepends=True)
    lines[17] = lines[17].replace("Message", "Massage")  # block 3: not finished, free to change
    logs.write_text("".join(lines))
    ShardStore.open(folder, {"fingerprint": "f", "block_records": 5}, plan_blocks(logs, 5), resume=True).close()
    lines[12] = lines[12].replace("Message", "Massage")  # block 2: scored, may not change
    logs.write_text("".join(lines))
    with pytest.raises(InputError, match=f"{logs}: records 11-15 changed since the interrupted run scored them"):
        ShardStore.open(
            folder, {"fingerprint": "f", "block_records": 5}, plan_blocks(logs, 5), resume=True, source=logs
        )


def test_a_fresh_run_clears_its_own_files_only(tmp_path: Path) -> None:
    folder = tmp_path / ".out.jsonl.shards"
    plan = [Block(0, 1, 1, 0, 1, 1, "d")]
    ShardStore.open(folder, {"fingerprint": "f"}, plan, resume=False).write_shard(0, [("turn", 1, b"{}")])
    (folder / ".block-000001.parquet.x1y2.tmp").write_bytes(b"left by a killed actor")
    ShardStore.open(folder, {"fingerprint": "f"}, plan, resume=False).close()
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.jsonl"]
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match=r"holds files the run did not write \(notes.txt\)"):
        ShardStore.open(folder, {"fingerprint": "f"}, plan, resume=False)
    assert (folder / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("cluster", "actors", "gpus", "rules_only", "want"),
    [
        ({"CPU": 2.0}, None, 0.0, True, (2, 0.75, 0.25)),  # the 2-CPU cluster: room for reads
        ({"CPU": 2.0}, None, 0.0, False, (1, 1.0, 0.25)),  # a model or judge: loaded once
        ({"CPU": 1.0}, 1, 0.0, True, (1, 0.75, 0.125)),
        ({"CPU": 64.0, "GPU": 8.0}, None, 1.0, False, (8, 1.0, 0.25)),
        ({"CPU": 8.0, "GPU": 1.0}, 4, 0.25, False, (4, 1.0, 0.25)),
        ({"CPU": 2.0}, 16, 0.0, True, (16, 0.0937, 0.25)),
    ],
)
def test_actors_leave_cpus_to_the_read_tasks(
    cluster: dict, actors: Any, gpus: float, rules_only: bool, want: tuple
) -> None:
    got = sizing(cluster, actors, gpus, rules_only)
    assert got == want
    n, actor_cpus, read_cpus = got
    assert n * actor_cpus + 2 * read_cpus <= cluster["CPU"]  # the actors never hold every CPU


def test_no_more_actors_than_blocks() -> None:
    assert sizing({"CPU": 8.0}, None, 0.0, True, blocks=3) == (3, 1.0, 0.25)
    assert sizing({"CPU": 8.0}, 16, 0.0, True, blocks=3)[0] == 3


def test_too_few_gpus_is_one_line() -> None:
    with pytest.raises(RunError, match=r"--actors 2 with --actor-gpus 1 needs 2 GPUs; the Ray cluster has 1"):
        sizing({"CPU": 8.0, "GPU": 1.0}, 2, 1.0, False)


def test_the_driver_builds_no_model_but_the_actors_build_all() -> None:
    spec = {"sources": {"rules": ["cot_leak"], "rm": {"type": "echo_rm"}}}
    with echo_rm() as registry:
        with RewardPipeline.from_spec(spec, registry=registry, defer=builds_elsewhere) as pipe:
            assert isinstance(pipe.sources["rm"], Deferred) and pipe.sources["rm"].kind == "rm"
            assert not isinstance(pipe.sources["rules"], Deferred)
            with RewardPipeline.from_spec(spec, registry=registry) as full:
                assert fingerprint(pipe) == fingerprint(full)  # a deferred source still runs


def cli(*args: Any) -> Any:
    return CliRunner().invoke(app, ["score", *[str(a) for a in args], "--no-progress"])


def test_engine_options_are_refused_where_they_do_nothing(tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs.jsonl", 2)
    (tmp_path / "spec.yaml").write_text(json.dumps(SPEC))
    base = [logs, "-c", tmp_path / "spec.yaml", "-o", tmp_path / "out.jsonl"]
    cases = {
        ("--actors", "2"): "error: --actors is for --engine ray (got --engine local)",
        ("--block-records", "9"): "error: --block-records is for --engine ray (got --engine local)",
        (
            "--engine",
            "ray",
            "--workers",
            "2",
        ): "error: --workers is for --engine local; --engine ray scales with --actors",
        ("--engine", "spark"): "error: --engine must be 'local' or 'ray', got 'spark'",
    }
    for args, message in cases.items():
        res = cli(*base, *args)
        assert res.exit_code == 1 and res.output.strip() == message
    assert not (tmp_path / "out.jsonl").exists()


def test_without_ray_the_engine_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = write_logs(tmp_path / "logs.jsonl", 2)
    (tmp_path / "spec.yaml").write_text(json.dumps(SPEC))
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    res = cli(logs, "-c", tmp_path / "spec.yaml", "-o", tmp_path / "out.jsonl", "--engine", "ray")
    assert res.exit_code == 1
    assert res.output.strip() == "error: --engine ray needs an optional dependency: pip install 'repo-sdk[ray]'"
    assert not shards_path(tmp_path / "out.jsonl").exists() and not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("j: {{type: judge, base_url: '{url}', model: m}}", "error: judge 'j': {url} unreachable"),
        ("m: {{type: rm, base_url: '{url}'}}", "error: rm: base_url {url}: unreachable"),  # a remote RM: probed here
    ],
)
def test_an_unreachable_server_stops_the_ray_engine_as_one_process(tmp_path: Path, source: str, error: str) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    (tmp_path / "spec.yaml").write_text(f"sources:\n  r: [cot_leak]\n  {source.format(url=url)}\n")
    logs = write_logs(tmp_path / "logs.jsonl", 2)
    outs = {}
    for engine in ("local", "ray"):
        res = cli(logs, "-c", tmp_path / "spec.yaml", "-o", tmp_path / f"{engine}.jsonl", "--engine", engine)
        outs[engine] = (res.exit_code, res.output.strip())
    assert outs["local"] == outs["ray"] and outs["ray"][0] == 1
    assert outs["ray"][1].startswith(error.format(url=url))
    assert not shards_path(tmp_path / "ray.jsonl").exists()


def test_the_shard_folder_is_checked_like_any_output(tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs.jsonl", 2)
    (tmp_path / "spec.yaml").write_text(json.dumps(SPEC))
    shards_path(tmp_path / "out.jsonl").write_text("a file where the run keeps its shards")
    res = cli(logs, "-c", tmp_path / "spec.yaml", "-o", tmp_path / "out.jsonl", "--engine", "ray")
    assert res.exit_code == 1 and "the shard folder" in res.output and "is a file; give a folder" in res.output
    assert skipped_path(tmp_path / "out.jsonl").name == "out.skipped.jsonl"
    assert not dialogue_path(tmp_path / "out.jsonl").exists()


def test_an_empty_input_is_an_error_before_ray_starts(tmp_path: Path) -> None:
    pytest.importorskip("ray.data")
    (tmp_path / "spec.yaml").write_text(json.dumps(SPEC))
    (tmp_path / "empty.jsonl").write_bytes(b"")
    res = cli(tmp_path / "empty.jsonl", "-c", tmp_path / "spec.yaml", "-o", tmp_path / "out.jsonl", "--engine", "ray")
    assert (
        res.exit_code == 1
        and res.output.strip() == f"error: {tmp_path / 'empty.jsonl'}: no records to score (the input is empty)"
    )
    assert not shards_path(tmp_path / "out.jsonl").exists()
