"""Fault injection: 1,000 items against a loopback judge that misbehaves in every way it can.

Every item must end with a score or an explicit None with a reason; nothing may
raise; every retry must be counted.
"""

from __future__ import annotations

import os
import time

import httpx
import pytest

from repo_sdk.judge import JudgeSource
from repo_sdk.judge.fakes import FakeJudgeServer, FaultPlan, spawn_fake_server
from repo_sdk.testing import make_sample

PLAN = FaultPlan(
    timeout=0.02, error_500=0.08, rate_limit=0.05, malformed=0.04, truncated=0.04, bad_body=0.02,
    disconnect=0.02, slow=0.03, permanent=0.02, hang_s=3.0, slow_s=0.15, retry_after_s=0.02, seed=7,
)  # fmt: skip
N = 1000


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_thousand_items_under_faults_all_end_cleanly(transport):
    samples = [make_sample(response=f"Could you do {50 + i % 50} EUR? (#{i})", task={"n": i}) for i in range(N)]
    with FakeJudgeServer(faults=PLAN) as server:
        # timeout_s: below hang_s, above a plain answer with 64 in flight. Client and server share this process:
        # with httpx some 300 plain answers a run take over 1 s even on an idle machine, and beside a busy test
        # (`make test` runs two workers on 2 cores) a 1 s timeout let clean calls use up their retries (87 None)
        src = JudgeSource.build(
            base_url=server.base_url, model="fake", cache=False, transport=transport, concurrency=64,
            timeout_s=2.0, max_retries=4, backoff_base_s=0.01, backoff_max_s=0.05, reask=1,
        )  # fmt: skip
        start = time.perf_counter()
        scores = src.score(samples)
        elapsed = time.perf_counter() - start
        stats = dict(server.stats)
    assert len(scores) == N
    none = [s for s in scores if s.value is None]
    for s in scores:
        if s.value is None:
            assert s.reason.startswith(("judge call failed:", "unparseable verdict")), s.reason
            assert s.details["error_kind"]
        else:
            assert 1 <= s.value <= 5
    # the permanent 500s (about 2% of prompts) must end as None; transient faults must not
    assert 0.005 * N <= len(none) <= 0.06 * N
    assert sum("gave up after 5 call(s)" in s.reason for s in none) >= 0.005 * N

    tel = src.telemetry()
    assert tel["items"] == N and tel["none"] == len(none)
    failed_calls = tel["timeouts"] + tel["rate_limited"] + tel["server_errors"] + tel["connection_errors"]
    # every failed call was either retried or ended its item; every call is counted once
    assert tel["retries"] + tel["errors"] == failed_calls
    assert tel["calls"] == tel["requests"] - tel["errors"] + failed_calls
    assert tel["calls"] >= stats["requests"]  # (a call that timed out before arriving is not seen by the server)
    for counter, fault in [("timeouts", "timeout"), ("rate_limited", "rate_limit"), ("connection_errors", "disconnect"),
                           ("server_errors", "error_500")]:  # fmt: skip
        assert tel[counter] > 0 and stats[fault] > 0, counter
    assert tel["parse_failures"] > 0 and tel["reasks"] > 0
    assert elapsed < 60


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU affinity is Linux-only")
def test_spawned_server_is_pinned_to_the_cpu_asked_for():
    psutil = pytest.importorskip("psutil")
    cpu = max(os.sched_getaffinity(0))
    with spawn_fake_server(latency_s=0.0, cpu=cpu) as url:
        (child,) = psutil.Process().children()
        masks = [os.sched_getaffinity(t.id) for t in child.threads()]
        reply = httpx.post(url + "/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]})
    assert reply.status_code == 200
    assert len(masks) >= 2  # the server runs in a thread started after pinning: it inherits the mask
    assert all(mask == {cpu} for mask in masks)
