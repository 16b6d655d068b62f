"""The judge's shared limits hold over processes, each with its own pipeline, as the judge server counts them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from repo_sdk.judge.fakes import FakeJudgeServer

# One scoring process: its own pipeline (judge only), its own replies; prints the judge values.
_WORKER = textwrap.dedent(
    """
    import json, sys
    from repo_sdk.pipeline import RewardPipeline
    from repo_sdk.testing import make_sample

    spec, n, tag = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    pipe = RewardPipeline.from_spec(spec)
    results = pipe.score([make_sample(response=f"Offer {tag}-{i}: 80 EUR for the twin room.") for i in range(n)])
    print(json.dumps([r.sources["judge"].value for r in results]))
    """
)


def run_workers(server: FakeJudgeServer, judge: dict, *, processes: int, samples: int, env: dict) -> list[list]:
    spec = {
        "sources": {"judge": {"type": "judge", "base_url": server.base_url, "model": "fake", "cache": False,
                              "concurrency": 8, **judge}},
        "combiner": "weighted_sum",
    }  # fmt: skip
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, json.dumps(spec), str(samples), str(k)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for k in range(processes)
    ]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr[-2000:]
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


@pytest.fixture
def env(tmp_path, monkeypatch):
    import os

    monkeypatch.setenv("REPO_SDK_LIMIT_DIR", str(tmp_path / "limits"))
    monkeypatch.setenv("REPO_SDK_CACHE_DIR", str(tmp_path / "cache"))
    return dict(os.environ)


def test_max_concurrency_global_holds_over_three_processes(env):
    with FakeJudgeServer(responder=lambda body: '{"score": 4}', latency_s=0.15) as server:
        values = run_workers(server, {"max_concurrency_global": 2}, processes=3, samples=8, env=env)
        assert server.max_in_flight == 2  # never more, and the limit was used
        assert server.stats["requests"] == 24
    assert values == [[4.0] * 8] * 3


def test_without_the_global_limit_the_processes_add_up(env):
    with FakeJudgeServer(responder=lambda body: '{"score": 4}', latency_s=0.3) as server:
        run_workers(server, {"concurrency": 2}, processes=3, samples=8, env=env)
        assert server.max_in_flight > 2  # what the global limit prevents (each process alone keeps 2)


def test_requests_per_second_holds_over_three_processes(env):
    rps = 10.0
    with FakeJudgeServer(responder=lambda body: '{"score": 4}') as server:
        run_workers(server, {"requests_per_second": rps}, processes=3, samples=10, env=env)
        arrivals = sorted(server.arrivals)
    assert len(arrivals) == 30
    # Start times are reserved 1/rps apart over all processes and a call never starts early, so the k-th
    # arrival is at least k/rps after the first, less how late the first one was (0.5 s allowed on a busy
    # machine). Per-process limits would let 3 x 10 requests per second through: about k/30.
    for k, t in enumerate(arrivals):
        assert t - arrivals[0] >= k / rps - 0.5, (k, t - arrivals[0])
