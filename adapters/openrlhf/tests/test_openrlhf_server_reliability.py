"""The reward server under bad and slow items: one item never fails or stalls the others."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, ClassVar

import httpx
import pytest
from repo_sdk_openrlhf import PlainSplitter, RewardService
from repo_sdk_openrlhf.server import ServerSettings, ServerThread

from repo_sdk import Rule, hookimpl
from repo_sdk.testing import register_plugin


async def post_all(url: str, bodies: list[dict[str, Any]], timeout: float = 60) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=timeout) as client:
        return list(await asyncio.gather(*(client.post(url, json=b) for b in bodies)))


def test_one_bad_label_among_forty_requests_fails_only_itself() -> None:
    pytest.importorskip("repo_sdk_negotiation")
    spec = {"name": "neg", "sources": {"rules": ["negotiation.price_consistency", "cot_leak"]}}
    svc = RewardService.from_spec(spec, splitter=PlainSplitter())
    good = {"tickets": [{"id": "T1", "room_type": "Twin Room", "current_price": 120, "target_price": 95}]}
    bad = {"tickets": [{"id": "T1", "room_type": "Twin Room", "current_price": "120 EUR", "target_price": 95}]}
    replies = [f"Could we agree on {95 + i % 7} EUR for the twin room?" for i in range(40)]
    bodies = [{"query": [f"Q:{r}"], "prompts": ["Q:"], "labels": [json.dumps({"task": good})]} for r in replies]
    bodies.insert(
        17, {"query": ["Q:Could we agree on 95 EUR?"], "prompts": ["Q:"], "labels": [json.dumps({"task": bad})]}
    )
    expected = [svc.answer([b["query"][0]], ["Q:"], b["labels"])["rewards"][0] for b in bodies]
    try:
        with ServerThread(svc, ServerSettings(max_wait_ms=50), lifetime_s=120) as srv:
            answers = asyncio.run(post_all(srv.url, bodies))
            stats = httpx.get(f"{srv.base_url}/health").json()
    finally:
        svc.close()
    assert [a.status_code for a in answers] == [200] * 41
    payloads = [a.json() for a in answers]
    assert stats["batches"] < 41  # they were micro-batched together
    assert [p["rewards"][0] for i, p in enumerate(payloads) if i != 17] == expected[:17] + expected[18:]
    assert all("errors" not in p and p["extra_logs"]["neg/error"] == [0.0] for i, p in enumerate(payloads) if i != 17)
    flagged = payloads[17]
    assert flagged["extra_logs"]["neg/error"] == [1.0] and flagged["extra_logs"]["neg/rules"] == [0.0]
    assert "current_price" in flagged["errors"][0] and "'120 EUR'" in flagged["errors"][0]


class SlowOnHuge(Rule):
    """A rule that is slow (pure-Python work holding the GIL) on replies of 100 KB or more."""

    name = "test.slow_on_huge"
    finished: ClassVar[list[float]] = []
    release = threading.Event()

    def check(self, sample: Any) -> list[Any]:
        if len(sample.response) >= 100_000:
            end = time.monotonic() + 4.0
            while time.monotonic() < end and not self.release.is_set():
                sum(range(2000))
            type(self).finished.append(time.monotonic())
        return []


class _SlowPlugin:
    @hookimpl
    def register_rules(self, register: Any) -> None:
        register(SlowOnHuge)


def test_a_huge_slow_reply_gets_504_and_never_stalls_the_others() -> None:
    SlowOnHuge.finished.clear()
    SlowOnHuge.release.clear()
    with register_plugin(_SlowPlugin(), name="slow-rule"):
        svc = RewardService.from_spec({"sources": {"r": ["test.slow_on_huge", "cot_leak"]}}, splitter=PlainSplitter())
        settings = ServerSettings(max_request_s=1.0)
        with ServerThread(svc, settings, lifetime_s=120) as srv:

            async def run() -> tuple[httpx.Response, list[tuple[httpx.Response, float]]]:
                async with httpx.AsyncClient(timeout=60) as client:
                    huge = asyncio.create_task(client.post(srv.url, json={"query": ["Q:" + "x" * 131_072]}))
                    await asyncio.sleep(0.2)  # the huge reply is being scored now
                    small = []
                    for i in range(20):  # one after the other, each while the huge one still runs
                        r = await client.post(srv.url, json={"query": [f"Q:<think>{i}</think>ok"]})
                        small.append((r, time.monotonic()))
                    return await huge, small

            huge, small = asyncio.run(run())
            SlowOnHuge.release.set()
            health = httpx.get(f"{srv.base_url}/health").json()
        svc.close()
    assert huge.status_code == 504
    assert huge.json()["error"] == (
        "item 0 (q0, a reply of 131074 characters) was not scored within 1 s (--max-request-seconds)"
    )
    assert [r.status_code for r, _ in small] == [200] * 20
    assert all(r.json()["rewards"] == [-0.1] for r, _ in small)
    assert SlowOnHuge.finished and max(t for _, t in small) < SlowOnHuge.finished[0]  # all done while it ran
    assert health["timeouts"] == 1


def test_a_body_nested_too_deeply_is_a_400_and_a_label_fails_its_item() -> None:
    svc = RewardService.from_spec({"sources": {"r": ["cot_leak"]}}, splitter=PlainSplitter())
    with ServerThread(svc, lifetime_s=60) as srv:
        deep = httpx.post(srv.url, content=b'{"query": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
        label = httpx.post(srv.url, json={"query": ["Q:a"], "labels": ["[" * 100_000 + "]" * 100_000]})
    svc.close()
    assert deep.status_code == 400 and deep.json()["error"] == "body is not valid JSON: nested too deeply"
    # a label too deep to read fails its item alone: the missing reward, flagged, and why
    assert label.status_code == 200, label.text
    answer = label.json()
    assert answer["errors"] == ["item 0: label nested too deeply to read"] and answer["rewards"] == [0.0]
    assert answer["extra_logs"]["repo_reward/error"] == [1.0] and answer["extra_logs"]["repo_reward/missing"] == [1.0]
