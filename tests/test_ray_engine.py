"""`repo-sdk score --engine ray` on a local Ray cluster (2 CPUs): the one-process files, kill -9 and --resume,
bad records and source errors as one process handles them. One cluster for the module; runs are kept few."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from repo_sdk import RewardSource, SourceScore, hookimpl
from repo_sdk.cli import app
from repo_sdk.errors import RunError
from repo_sdk.io.rows import dialogue_path, read_rows
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.plugins import ALLOW_ENV
from repo_sdk.score_run import score_file, skipped_path
from repo_sdk.shards.ray_engine import RayOptions, builds_elsewhere, score_file_ray
from repo_sdk.shards.store import shards_path
from repo_sdk.testing import register_plugin

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

_spec = importlib.util.spec_from_file_location("workers_logs", Path(__file__).with_name("test_workers.py"))
_workers: Any = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(_workers)  # type: ignore[union-attr]
SPEC, write_logs = _workers.SPEC, _workers.write_logs
_spec = importlib.util.spec_from_file_location("chitchat_logs", Path(__file__).with_name("chitchat_logs.py"))
_chitchat: Any = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(_chitchat)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local Ray of 2 CPUs (a new one, whatever else runs on this machine); its address for other drivers."""
    ray.init(
        address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=256 * 1024**2
    )
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def one_process(spec: dict, logs: Path, out: Path, **kwargs: Any) -> Any:
    with RewardPipeline.from_spec(spec) as pipe:
        return score_file(pipe, logs, out, progress=False, workers=1, **kwargs)


def on_ray(spec: dict, logs: Path, out: Path, options: RayOptions, **kwargs: Any) -> Any:
    with RewardPipeline.from_spec(spec, defer=builds_elsewhere) as pipe:
        return score_file_ray(pipe, logs, out, progress=False, options=options, **kwargs)


def files(out: Path) -> list[bytes]:
    return [p.read_bytes() if p.exists() else b"" for p in (out, dialogue_path(out), skipped_path(out))]


def test_two_actors_write_the_one_process_files(cluster: str, tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs.jsonl", 2000)
    one = one_process(SPEC, logs, tmp_path / "one.jsonl")
    many = on_ray(SPEC, logs, tmp_path / "ray.jsonl", RayOptions(actors=2, block_records=250))
    assert files(tmp_path / "ray.jsonl") == files(tmp_path / "one.jsonl")  # input order, byte for byte
    assert (many.turns, many.dialogues) == (one.turns, one.dialogues) and many.turns > 9_000
    assert many.engine.startswith("ray: 2 actors x 0.75 CPU, 8 blocks of 250 records")
    assert not shards_path(tmp_path / "ray.jsonl").exists()


def test_parquet_in_and_out_gives_the_one_process_rows(cluster: str, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    jsonl = write_logs(tmp_path / "logs.jsonl", 400)
    logs = tmp_path / "logs.parquet"
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    pq.write_table(pa.Table.from_pylist(records), logs, row_group_size=150)  # blocks slice row groups
    one_process(SPEC, logs, tmp_path / "one.parquet")
    on_ray(SPEC, logs, tmp_path / "ray.parquet", RayOptions(actors=1, block_records=100))
    for name in ("{}.parquet", "{}.dialogues.parquet"):
        assert list(read_rows(tmp_path / name.format("ray"))) == list(read_rows(tmp_path / name.format("one")))


def test_kill_9_of_the_driver_then_resume_gives_every_row_once(cluster: str, tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs.jsonl", 4000)
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps(SPEC))
    one_process(SPEC, logs, tmp_path / "one.jsonl")
    env = {k: v for k, v in os.environ.items() if k not in (ALLOW_ENV, "RAY_ADDRESS")}
    out = tmp_path / "out.jsonl"
    cli = [str(Path(sys.executable).with_name("repo-sdk")), "score", str(logs), "-c", str(spec), "-o", str(out)]
    cli += ["--engine", "ray", "--address", cluster, "--actors", "2", "--block-records", "100", "--no-progress"]
    manifest = shards_path(out) / "manifest.jsonl"

    proc = subprocess.Popen(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and proc.poll() is None:  # some blocks listed, then kill hard
        if manifest.exists() and manifest.read_text().count('"kind":"block"') >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    listed = manifest.read_text().count('"kind":"block"')
    assert not out.exists() and 3 <= listed < 40, "the run was not killed mid-way"

    resumed = subprocess.run([*cli, "--resume"], env=env, capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    kept = int(resumed.stderr.split(" blocks were already scored")[0].split()[-1])
    assert kept >= listed  # every block the killed run listed was kept, none scored twice
    assert files(out) == files(tmp_path / "one.jsonl")
    assert not shards_path(out).exists()


def messy_logs(path: Path, n: int) -> Path:
    """n dialogues; a malformed line, an unknown role and task prices a rule cannot read, in different blocks."""
    records = [json.dumps(json.loads(line)) for line in write_logs(path, n).read_text().splitlines()]
    records[n - 40] = "{bad"
    records[n // 2] = json.dumps({"id": "x", "turns": [{"role": "bot", "content": "hi"}]})
    for i in range(3, n, 97):
        record = json.loads(records[i])
        records[i] = json.dumps({**record, "task": {"current_price": "120 EUR", "target_price": 95}})
    path.write_text("\n".join(records) + "\n")
    return path


def error_line(output: str) -> str:
    """The run's one error line (Ray may print a line of its own when the run stops its actors early)."""
    (line,) = [line for line in output.splitlines() if line.startswith("error:")]
    return line


def score_cli(*args: Any) -> Any:
    return CliRunner().invoke(app, ["score", *[str(a) for a in args], "--no-progress"])


def test_bad_records_and_source_errors_as_one_process(cluster: str, tmp_path: Path) -> None:
    logs = messy_logs(tmp_path / "logs.jsonl", 600)
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        json.dumps({**SPEC, "sources": {"rules": [*SPEC["sources"]["rules"], "negotiation.price_consistency"]}})
    )
    ray_args = ["--engine", "ray", "--actors", "2", "--block-records", "50"]

    # skip: the bad records listed aside, the bad turns None, the same files; --max-none-rate judged the same
    results = {}
    for name, extra in (("one", []), ("ray", ray_args)):
        out = tmp_path / f"{name}.jsonl"
        res = score_cli(logs, "-c", spec, "-o", out, "--on-error", "skip", "--max-none-rate", "0.001", *extra)
        results[name] = (res.exit_code, res.output.strip().splitlines()[-1].replace(str(out), "OUT"))
    assert results["ray"] == results["one"] and results["one"][0] == 1
    assert results["one"][1].startswith("error: source rules gave no value on 35 of 2985 turns")
    assert files(tmp_path / "ray.jsonl") == files(tmp_path / "one.jsonl")  # written, and named in the error
    skipped = [json.loads(line) for line in skipped_path(tmp_path / "ray.jsonl").read_text().splitlines()]
    assert [s["position"] for s in skipped] == [301, 561]

    # fail: the first problem in input order (line 4: a price), with the one-process line; then the fix and --resume
    one = score_cli(logs, "-c", spec, "-o", tmp_path / "one-fail.jsonl")
    many = score_cli(logs, "-c", spec, "-o", tmp_path / "ray-fail.jsonl", *ray_args)
    assert one.exit_code == many.exit_code == 1
    error = one.output.strip().splitlines()[-1]
    assert error.startswith(f"error: {logs}:4: turns[") and "'120 EUR'" in error
    assert error_line(many.output).startswith(error.split(" (records")[0])
    lines = logs.read_text().splitlines(keepends=True)
    fixed = [line.replace('"120 EUR"', "120") for line in lines[:300]] + lines[300:]  # the prices fixed, not the rest
    logs.write_text("".join(fixed))
    again = score_cli(logs, "-c", spec, "-o", tmp_path / "ray-fail.jsonl", "--resume", *ray_args)
    assert again.exit_code == 1
    assert error_line(again.output).startswith(f"error: {logs}:301: turns[0].role: unknown role")


class _Here(RewardSource):
    name = "here_only"
    kind = "rules"

    def score(self, samples):
        return [SourceScore(value=1.0) for _ in samples]


class _HerePlugin:
    @hookimpl
    def register_sources(self, register: Any) -> None:
        register(_Here)


def test_a_source_the_actors_cannot_build_is_one_line(cluster: str, tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs.jsonl", 20)
    with register_plugin(_HerePlugin(), name="here-only"):
        with pytest.raises(RunError, match=r"could not build the spec \(.*here_only.*\); its sources must come from"):
            on_ray(
                {"sources": {"h": "here_only"}}, logs, tmp_path / "out.jsonl", RayOptions(actors=1, block_records=10)
            )
    assert not shards_path(tmp_path / "out.jsonl").exists() and not (tmp_path / "out.jsonl").exists()


def test_logs_shaped_like_real_ones_give_the_one_process_files(cluster: str, tmp_path: Path) -> None:
    """The stand-in for the real chit-chat logs (tests/chitchat_logs.py): a BOM, CRLF ends, empty turns, odd ids."""
    logs = tmp_path / "logs.jsonl"
    logs.write_bytes(_chitchat.logs_text(100, seed=7).encode("utf-8"))
    rules = [
        {"name": "forbidden_terms", "allow": ["train ticket"]},
        {"name": "numeric_consistency", "fields": ["tickets", "facts"], "history_roles": ["user"]},
        *["repetition", "format_breakage", "cot_leak", "negotiation.one_language", "negotiation.repeated_script"],
        {"name": "mixed_script", "task_names": ["hotel", "city"]},
        {"name": "max_length", "max_chars": 600},
    ]
    spec = {"sources": {"rules": rules}}
    one = one_process(spec, logs, tmp_path / "one.jsonl")
    on_ray(spec, logs, tmp_path / "ray.jsonl", RayOptions(actors=2, block_records=15))
    assert files(tmp_path / "ray.jsonl") == files(tmp_path / "one.jsonl") and one.turns > 1200


def untimed(out: Path) -> list[dict]:
    """Turn rows without the judge's latency per call (a clock reading, different in every run)."""
    rows = list(read_rows(out))
    for row in rows:
        row["details"]["judge"]["telemetry"].pop("latency_s")
    return rows


def test_a_judge_holds_its_global_limit_over_the_actors(cluster: str, tmp_path: Path) -> None:
    """Each actor has its own judge client (concurrency 8); max_concurrency_global 2 holds over both."""
    from repo_sdk.judge.fakes import FakeJudgeServer

    logs = write_logs(tmp_path / "logs.jsonl", 24)
    with FakeJudgeServer(latency_s=0.02) as server:
        judge = {"type": "judge", "base_url": server.base_url, "model": "m", "cache": False, "concurrency": 8}
        spec = {"sources": {"rules": ["cot_leak"], "judge": {**judge, "max_concurrency_global": 2}}}
        one = one_process(spec, logs, tmp_path / "one.jsonl")
        server.max_in_flight = 0
        many = on_ray(spec, logs, tmp_path / "ray.jsonl", RayOptions(actors=2, block_records=4))
    assert untimed(tmp_path / "ray.jsonl") == untimed(tmp_path / "one.jsonl")
    assert 1 <= server.max_in_flight <= 2
    assert many.telemetry["judge"]["calls"] == one.turns == many.turns  # summed over the actors


def test_a_judge_set_aside_by_the_probe_stays_aside_in_the_actors(cluster: str, tmp_path: Path) -> None:
    """--judge-optional: the driver's probe sets the judge aside; the actors build the spec with it aside too."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"sources:\n  r: [cot_leak]\n  j: {{type: judge, base_url: '{url}', model: m}}\n")
    logs = write_logs(tmp_path / "logs.jsonl", 12)
    outs = {}
    for engine in ("local", "ray"):
        out = tmp_path / f"{engine}.jsonl"
        res = score_cli(logs, "-c", spec, "-o", out, "--judge-optional", "--engine", engine, "--max-none-rate", "1")
        assert res.exit_code == 0 and "NOT RUN" in res.output and url in res.output, res.output
        outs[engine] = files(out)
    assert outs["ray"] == outs["local"]
    rows = list(read_rows(tmp_path / "ray.jsonl"))
    assert all(r["sources"]["j"] is None and r["reasons"]["j"].startswith(f"judge not run: {url}") for r in rows)
