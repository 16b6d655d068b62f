"""The reward server: a real uvicorn server on loopback, driven by OpenRLHF's real executor and by httpx."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from openrlhf.utils.agent import SingleTurnAgentExecutor
from repo_sdk_openrlhf import ChatSplitter, PlainSplitter, RewardService
from repo_sdk_openrlhf.server import ServerSettings, ServerThread

from repo_sdk import RewardPipeline, RewardSource, Sample, SourceScore, Turn, hookimpl
from repo_sdk.testing import register_plugin

SPEC = {"name": "negotiation", "sources": {"rm": {"type": "echo_rm"}, "guard": ["cot_leak"]}}
HISTORY = [Turn(role="user", content="We offer 95 EUR.")]
TASK = {"target_price": 80}


@pytest.fixture
def service(echo_rm, tiny_tokenizer):
    svc = RewardService.from_spec(SPEC, splitter=ChatSplitter(tiny_tokenizer))
    yield svc
    svc.close()


@pytest.fixture
def prompt(tiny_tokenizer):
    return tiny_tokenizer.apply_chat_template(
        [t.message() for t in HISTORY], tokenize=False, add_generation_prompt=True
    )


def pipeline_rewards(replies):
    with RewardPipeline.from_spec(SPEC) as pipe:
        return [r.reward for r in pipe.score([Sample(id="x", task=TASK, history=HISTORY, response=r) for r in replies])]


def run_executor(urls, prompt, tokenizer, engine, sampling, replies):
    executor = SingleTurnAgentExecutor(urls)
    llm = engine(tokenizer, replies)

    async def run():
        label = json.dumps({"task": TASK})
        calls = (executor.execute(prompt, label, sampling(), 256, tokenizer, llm) for _ in replies)
        return await asyncio.gather(*calls)

    return asyncio.run(run())


def test_executor_gets_rewards_from_the_server(service, prompt, tiny_tokenizer, engine, sampling):
    replies = ["Could you do 80?", "<think>x</think>80 please."]
    with ServerThread(service, lifetime_s=60) as srv:
        outs = run_executor(srv.url, prompt, tiny_tokenizer, engine, sampling, replies)
    assert [o["reward"] for o in outs] == [[r] for r in pipeline_rewards(replies)]
    assert outs[1]["extra_logs"]["negotiation/fired/cot_leak"] == [1.0]


def test_replicas_behind_comma_separated_urls(service, prompt, tiny_tokenizer, engine, sampling):
    replies = [f"Could you do {80 + i}?" for i in range(6)]
    with ServerThread(service, lifetime_s=60) as a, ServerThread(service, lifetime_s=60) as b:
        urls = f"{a.url},{b.url}".split(",")  # what train_ppo_ray does with --reward.remote_url
        outs = run_executor(urls, prompt, tiny_tokenizer, engine, sampling, replies)
        served = [httpx.get(f"{s.base_url}/health").json()["requests"] for s in (a, b)]
    assert sorted(o["reward"][0] for o in outs) == sorted(pipeline_rewards(replies))
    assert served == [3, 3]


def test_token_bearer_and_basic_in_the_url(service, prompt, tiny_tokenizer, engine, sampling):
    body = {"query": [prompt + "80?"], "prompts": [prompt], "labels": [json.dumps(TASK)]}
    with ServerThread(service, ServerSettings(token="s3cret"), lifetime_s=60) as srv:
        assert httpx.post(srv.url, json=body).status_code == 401
        assert httpx.post(srv.url, json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
        ok = httpx.post(srv.url, json=body, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["rewards"] == pipeline_rewards(["80?"])
        url = srv.url.replace("http://", "http://repo:s3cret@")  # OpenRLHF's aiohttp sends it as Basic auth
        outs = run_executor(url, prompt, tiny_tokenizer, engine, sampling, ["80?"])
    assert outs[0]["reward"] == [pipeline_rewards(["80?"])[0]]


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"{not json", 400, "body is not valid JSON"),
        (b'{"prompts": ["p"]}', 422, "query: Field required"),
        (b'{"query": "just a string"}', 422, "query: Input should be a valid list"),
        (b'{"query": ["a", "b"], "labels": ["{}"]}', 422, "labels has 1 items but query has 2"),
        (b"x" * 5000, 413, "exceeds the limit of 4096"),
    ],
)
def test_bad_bodies_get_one_line_4xx(service, content, status, message):
    with ServerThread(service, ServerSettings(max_body_bytes=4096), lifetime_s=60) as srv:
        r = httpx.post(srv.url, content=content, headers={"content-type": "application/json"})
        chunked = httpx.post(srv.url, content=iter([b"x" * 3000, b"x" * 3000]))
    assert r.status_code == status and message in r.json()["error"], r.text
    assert chunked.status_code == 413  # no content-length: counted while reading


def test_an_unreadable_item_gets_the_missing_reward_and_the_others_are_scored(service, prompt, caplog):
    good = prompt + "Could you do 80?<|im_end|>"
    body = {
        "query": [good, good, "a query with no prompt in it"],
        "prompts": [prompt, prompt, prompt],
        "labels": [json.dumps({"task": TASK}), '{"task": [1]}', json.dumps({"task": TASK})],
    }
    with caplog.at_level("WARNING", logger="repo_sdk.serve"):
        with ServerThread(service, lifetime_s=60) as srv:
            r = httpx.post(srv.url, json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    want = pipeline_rewards(["Could you do 80?"])[0]
    assert out["rewards"][0] == pytest.approx(want)
    assert out["rewards"][1:] == [0.0, 0.0] and out["extra_logs"]["negotiation/missing"] == [0.0, 1.0, 1.0]
    assert out["extra_logs"]["negotiation/error"] == [0.0, 1.0, 1.0]
    # the third query does not start with its prompt, and holds no assistant turn to score
    assert out["errors"] == [
        None,
        "item 1: label.task must be an object, got list",
        "item 2: the query does not end with an assistant turn",
    ]
    assert "negotiation: 2 of 3 items failed, e.g. item 1: label.task must be an object, got list" in caplog.text


def test_half_a_surrogate_pair_fails_its_item_naming_the_field(service, prompt):
    good = prompt + "Could you do 80?<|im_end|>"
    cut = prompt + "Could you do \ud83d 80?<|im_end|>"  # an emoji cut in two by the client
    body = {"query": [good, cut, good], "prompts": [prompt] * 3, "labels": [json.dumps({"task": TASK})] * 3}
    content = json.dumps(body).encode()  # json escapes the half pair: the only way one reaches the server
    assert b"\\ud83d" in content
    with ServerThread(service, lifetime_s=60) as srv:
        r = httpx.post(srv.url, content=content, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["rewards"][0] == out["rewards"][2] == pytest.approx(pipeline_rewards(["Could you do 80?"])[0])
    assert out["errors"][1].startswith("item 1: query[1]: half of a UTF-16 surrogate pair (0xd83d) at character")
    assert out["errors"][0] is None and out["extra_logs"]["negotiation/error"] == [0.0, 1.0, 0.0]


class SlowCount(RewardSource):
    """Counts its calls; slow enough that concurrent requests pile up behind a batch."""

    name = "slow_count"
    kind = "rm"
    calls = 0

    async def ascore(self, samples):
        type(self).calls += 1
        await asyncio.sleep(0.05)
        if any(s.response == "boom" for s in samples):
            raise RuntimeError("the RM fell over")
        return [SourceScore(value=float(len(s.response))) for s in samples]


class _SlowPlugin:
    @hookimpl
    def register_sources(self, register: Any) -> None:
        register(SlowCount)


def test_concurrent_requests_are_micro_batched_and_a_failing_item_gets_none():
    with register_plugin(_SlowPlugin(), name="slow"):
        svc = RewardService.from_spec({"sources": {"rm": {"type": "slow_count"}}}, splitter=PlainSplitter())
        with ServerThread(svc, lifetime_s=60) as srv:

            async def clients():
                async with httpx.AsyncClient(timeout=30) as client:
                    bodies = [{"query": ["x" * (i + 1)], "prompts": [""]} for i in range(32)]
                    return await asyncio.gather(*(client.post(srv.url, json=b) for b in bodies))

            responses = asyncio.run(clients())
            stats = httpx.get(f"{srv.base_url}/health").json()
            calls = SlowCount.calls
            boom = httpx.post(srv.url, json={"query": ["boom"], "prompts": [""]})
    assert [r.json()["rewards"] for r in responses] == [[float(i + 1)] for i in range(32)]
    assert stats["requests"] == 32 and stats["batches"] < 32 and stats["max_batch_seen"] > 1
    assert calls == stats["batches"]  # one source call per batch
    answer = boom.json()  # the source failed on this item: None (the missing reward), flagged, and why
    assert boom.status_code == 200 and answer["rewards"] == [0.0] and answer["extra_logs"]["repo_reward/error"] == [1.0]
    assert "the RM fell over" in answer["errors"][0]


def test_listening_socket_is_tcp_so_asyncio_disables_nagle():
    import socket

    from repo_sdk_openrlhf.server.run import bind

    # asyncio sets TCP_NODELAY only when proto is IPPROTO_TCP; without it each answer waits ~40 ms
    with bind("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP
