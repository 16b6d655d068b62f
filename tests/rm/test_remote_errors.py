"""The remote RM when things go wrong: per-sample errors, retries, timeouts, a dead URL, bad keys, hostile replies."""

from __future__ import annotations

import pickle

import pytest
from typer.testing import CliRunner

from repo_sdk.cli import app
from repo_sdk.config import load
from repo_sdk.errors import ConfigError
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.rm.fakes import FakeRMServer, hash_scorer
from repo_sdk.rm.remote import RemoteRMSource
from repo_sdk.testing import make_sample

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.02}


def replies(n: int, prefix: str = "Offer"):
    return [make_sample(response=f"{prefix} {i}: could we agree on {60 + i} euros?") for i in range(n)]


def remote(server: FakeRMServer, **params) -> RemoteRMSource:
    return RemoteRMSource.build(base_url=server.url, input="text", **{**FAST, **params})


def test_one_overlong_sample_fails_alone_and_the_batch_is_split_to_find_it():
    batch = replies(8)
    batch[5] = make_sample(response="x" * 5000)  # the server's context is 400 characters: HTTP 400 for the request
    with FakeRMServer(max_model_len=400) as server:
        scores = remote(server, max_batch_size=8).score(batch)
    assert [s.value is None for s in scores] == [i == 5 for i in range(8)]
    assert "maximum context length is 400" in scores[5].reason and scores[5].reason.startswith("rm server: HTTP 400")
    assert all(s.value == s.details["raw"] for i, s in enumerate(scores) if i != 5)
    assert server.stats["requests"] == 7  # 8 -> 4+4 -> 2+2 -> 1+1: a bisection, not one request per sample


def test_a_server_that_keeps_failing_gives_none_with_the_reason_after_the_retries():
    with FakeRMServer(script=lambda body, seen: "error_500") as server:
        rm = remote(server, max_retries=2, max_batch_size=4)
        scores = rm.score(replies(8))
    assert all(s.value is None for s in scores)
    assert scores[0].reason.startswith('rm server: HTTP 500: \'{"error": {"message": "injected error_500"')
    assert scores[0].reason.endswith("(gave up after 3 call(s))")
    assert server.stats["requests"] == 6  # two requests of 4, each tried 3 times
    tel = rm.telemetry()
    assert (tel["errors"], tel["retries"], tel["server_errors"]) == (8.0, 4.0, 6.0)


@pytest.mark.parametrize("fault", ["error_500", "bad_body", "wrong_count", "disconnect", "timeout"])
def test_transient_faults_are_retried_then_scored(fault):
    with FakeRMServer(script=lambda body, seen: fault if seen == 0 else None) as server:
        rm = remote(server, timeout_s=0.5)
        scores = rm.score(replies(3))
    assert [s.value for s in scores] == [hash_scorer(b["input"][i]) for b in [server.bodies[-1]] for i in range(3)]
    assert all(s.details["calls"] == 2 for s in scores) and rm.telemetry()["retries"] == 1.0


def test_a_timeout_is_named_and_the_retries_are_configurable():
    with FakeRMServer(script=lambda body, seen: "timeout") as server:
        (score,) = remote(server, timeout_s=0.2, max_retries=1).score(replies(1))
        assert server.stats["requests"] == 2
    assert score.value is None and score.reason == "rm server: timed out after 0.2s (gave up after 2 call(s))"


def test_bad_values_fail_their_sample_only():
    def scorer(prompt):
        return {"nan": float("nan"), "inf": float("inf")}.get(prompt.rsplit(" ", 1)[-1], 1.5)

    batch = [make_sample(response=w, task={}) for w in ("fine", "nan", "inf", "fine")]
    with FakeRMServer(scorer) as server:
        scores = remote(server).score(batch)
    assert [s.value for s in scores] == [1.5, None, None, 1.5]
    assert scores[1].reason == "reward model returned NaN" and scores[2].reason == "reward model returned inf"


def test_a_classifier_with_several_labels_is_no_reward_model():
    with FakeRMServer(labels=2) as server:
        (score,) = remote(server).score(replies(1))
    assert score.value is None and "gives 2 values per input; a reward model gives one" in score.reason


def test_nothing_listening_is_one_line_when_the_source_is_built(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  rm:\n    type: rm\n    base_url: http://127.0.0.1:9\n", encoding="utf-8")
    logs = tmp_path / "logs.jsonl"
    logs.write_text('{"id": "d1", "turns": [{"role": "user", "content": "hi"}, {"role": "assistant", '
                    '"content": "hello"}]}\n', encoding="utf-8")  # fmt: skip
    result = CliRunner().invoke(app, ["score", str(logs), "--config", str(spec), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: rm: base_url http://127.0.0.1:9: unreachable (Connection refused); start the RM server or fix "
        "base_url (probe: false skips this check)"
    ]
    assert not (tmp_path / "out.jsonl").exists()


def test_a_wrong_key_is_named_by_the_probe(monkeypatch):
    import asyncio

    from repo_sdk.remote.loopback import LoopbackServer, write_response

    class Guarded(LoopbackServer):
        async def answer(self, writer, method, path, raw, headers):
            ok = headers.get("authorization") == "Bearer right"
            return await write_response(writer, 200 if ok else 401, b"{}")

    monkeypatch.setenv("RM_KEY", "wrong")
    with Guarded() as server, pytest.raises(ConfigError, match=r"refuses the request \(HTTP 401: check the key"):
        RemoteRMSource.build(base_url=server.url, api_key_env="RM_KEY")
    assert asyncio  # the loopback server is asyncio's


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "sources.rm.path: path (a local model folder) or base_url (an RM server) is required"),
        ({"base_url": "gpu:8000"}, "sources.rm.base_url: must start with http:// or https:// (got 'gpu:8000')"),
        ({"base_url": "http://gpu:8000", "path": "models/rm"}, "sources.rm.base_url: base_url and path 'models/rm'"),
        ({"base_url": "http://gpu:8000", "dtype": "float16"}, "sources.rm.dtype: applies to a local RM (path)"),
        ({"path": "models/rm", "protocol": "openrlhf"}, "sources.rm.protocol: applies to a remote RM (base_url)"),
        ({"base_url": "http://gpu:8000", "input": "tokens"}, "sources.rm.input: input tokens needs tokenizer"),
        (
            {"base_url": "http://gpu:8000", "protocol": "openrlhf", "input": "messages"},
            "sources.rm.input: protocol openrlhf sends text queries (input: text) (got 'messages')",
        ),
        (
            {"base_url": "http://gpu:8000", "protocol": "openrlhf", "use_activation": True},
            "sources.rm.use_activation: is a vLLM request field",
        ),
        ({"base_url": "http://gpu:8000", "token_budget": 100}, "sources.rm.token_budget: needs tokenizer"),
        ({"base_url": "http://gpu:8000", "timeout_s": 0}, "sources.rm.timeout_s: Input should be greater than 0"),
        ({"base_url": "http://gpu:8000", "protocol": "grpc"}, "sources.rm.protocol: Input should be 'vllm' or"),
        (
            {"base_url": "http://gpu:8000", "max_concurrency_global": 0},
            "sources.rm.max_concurrency_global: Input should be greater than or equal to 1 (got 0)",
        ),
    ],
)
def test_spec_errors_name_the_key_and_value(params, message):
    with pytest.raises(ConfigError) as info:
        load({"sources": {"rm": {"type": "rm", **params}}})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_hostile_replies_are_scored_not_crashed():
    batch = [make_sample(response=""), make_sample(response="x" * 1_000_000), make_sample(response="\x00\ud800 }{")]
    with FakeRMServer() as server:
        scores = remote(server, max_batch_size=2).score(batch)
        sent = [text for body in server.bodies for text in body["input"]]
    assert all(isinstance(s.value, float) for s in scores)
    assert any(text.endswith("assistant: \x00\ufffd }{") for text in sent)  # a lone surrogate is sent as U+FFFD


def test_in_a_pipeline_a_dead_rm_leaves_the_other_sources_and_pickles(tmp_path):
    with FakeRMServer(script=lambda body, seen: "error_500") as server:
        spec = {"sources": {"rm": {"type": "rm", "base_url": server.url, "input": "text", "max_retries": 0},
                            "rules": ["cot_leak"]}, "combiner": "weighted_sum"}  # fmt: skip
        with RewardPipeline.from_spec(spec) as pipe:
            (result,) = pipe.score([make_sample(response="<think>hidden</think>80 EUR?")])
            clone = pickle.loads(pickle.dumps(pipe.sources["rm"]))
    assert result.sources["rm"].value is None and result.sources["rm"].reason.startswith("rm server: HTTP 500")
    assert result.sources["rules"].value is not None
    assert clone.cfg.probe is False and clone.client.url == server.url + "/classify"


def test_the_global_limit_applies_to_rm_requests(tmp_path, monkeypatch):
    monkeypatch.setenv("REPO_SDK_LIMIT_DIR", str(tmp_path))
    with FakeRMServer(latency_s=0.05) as server:
        rm = remote(server, max_batch_size=1, concurrency=8, max_concurrency_global=2)
        rm.score(replies(10))
        assert server.max_in_flight == 2 and server.stats["requests"] == 10
