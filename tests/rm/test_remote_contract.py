"""The remote RM against vLLM's own request and response classes, and against the local RM's numbers.

The fake server checks every request with the classes vLLM 0.33 validates ``/classify``
bodies with (tests/vendor/vllm_protocol.py, from the wheel) and refuses fields vLLM would
ignore; it scores with a real tiny reward model and tokenizes as vLLM and OpenRLHF's
``serve_rm`` do. So a remote score equal to the local RM's (same model, same samples)
shows the rendering, truncation and token ids sent are the ones the local RM scores.
"""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import TypeAdapter
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from repo_sdk.interfaces import BuildContext
from repo_sdk.plugins import get_registry
from repo_sdk.rm.fakes import FakeRMServer
from repo_sdk.rm.remote import RemoteRMSource
from repo_sdk.rm.source import RMConfig, RMSource
from repo_sdk.testing import make_sample

WORDS = "thank you could we agree on euros for the twin room please hotel price night breakfast".split()


def samples(n: int = 12):
    out = []
    for i in range(n):
        history = [
            ("user" if t % 2 == 0 else "assistant", " ".join(WORDS[(i + t) % 7 :][: 3 + t])) for t in range(i % 4)
        ]
        out.append(make_sample(response=" ".join(WORDS[i % 5 :][: 2 + i]), history=history,
                               task={"hotel": f"H{i}", "target_price": 60 + i}))  # fmt: skip
    return out


@pytest.fixture(scope="module")
def model(tiny_llama):
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    rm = AutoModelForSequenceClassification.from_pretrained(tiny_llama).eval()
    rm.config.pad_token_id = tokenizer.pad_token_id

    def scorer(ids):
        with torch.inference_mode():
            return float(rm(input_ids=torch.tensor([ids])).logits[0, 0])

    return tokenizer, scorer


@pytest.fixture
def vllm_checks(vllm_protocol):
    """A validator for the fake server: what vLLM 0.33 accepts, with no field it would ignore."""
    request = TypeAdapter(vllm_protocol.ClassificationRequest)

    def validate(kind: str, body: dict) -> None:
        if kind == "classify":
            parsed = request.validate_python(body)
            if parsed.model_extra:
                raise ValueError(f"fields vLLM ignores: {sorted(parsed.model_extra)}")
            expected = vllm_protocol.ClassificationChatRequest if "messages" in body else (
                vllm_protocol.ClassificationCompletionRequest)  # fmt: skip
            assert type(parsed) is expected
        elif kind == "classify_response":
            vllm_protocol.ClassificationResponse.model_validate(body)

    return validate


def local_scores(path, batch, **params):
    src = RMSource.from_config(RMConfig(path=str(path), **params), BuildContext(registry=get_registry()))
    try:
        return [s.value for s in src.score(batch)], src
    finally:
        src.close()


def remote(server, **params) -> RemoteRMSource:
    return RemoteRMSource.build(base_url=server.url, **params)


@pytest.mark.parametrize(
    "params",
    [
        {"input": "tokens"},  # rendered and cut here, sent as token ids
        {"input": "text"},  # the same rendering as text (the chat template's special tokens included)
        {"input": "messages", "tokenizer": None},  # vLLM renders with the served model's chat template
        {"protocol": "openrlhf"},  # text queries to an OpenRLHF-style server
    ],
    ids=["vllm-tokens", "vllm-text", "vllm-messages", "openrlhf"],
)
def test_remote_scores_equal_the_local_rm(tiny_llama, model, vllm_checks, params):
    tokenizer, scorer = model
    batch = samples()
    expected, _ = local_scores(tiny_llama, batch)
    params = {"tokenizer": str(tiny_llama), **params}
    if params["tokenizer"] is None:
        del params["tokenizer"]
    with FakeRMServer(scorer, tokenizer=tokenizer, validate=vllm_checks) as server:
        rm = remote(server, max_batch_size=5, **params)
        got = rm.score(batch)
        bodies = list(server.bodies)
    assert [s.value for s in got] == pytest.approx(expected, abs=1e-5)
    assert all(s.details["raw"] == s.value for s in got)
    if params.get("protocol") == "openrlhf":
        assert all(set(b) == {"query", "labels"} for b in bodies)
    elif params["input"] == "messages":
        assert len(bodies) == len(batch) and all(b["use_activation"] is False for b in bodies)
    else:
        assert len(bodies) == 3 and all(len(b["input"]) <= 5 for b in bodies)  # max_batch_size rows a request


def test_truncation_keeps_the_reply_and_matches_the_local_rm(tiny_llama, model, vllm_checks):
    tokenizer, scorer = model
    long_history = [("user" if t % 2 == 0 else "assistant", " ".join(WORDS) * 2) for t in range(6)]
    batch = [make_sample(response="Could we agree on 80 euros?", history=long_history, task={"hotel": "H"})]
    expected, _ = local_scores(tiny_llama, batch, max_length=48)
    with FakeRMServer(scorer, tokenizer=tokenizer, validate=vllm_checks) as server:
        for sent in ("tokens", "text"):
            (score,) = remote(server, tokenizer=str(tiny_llama), max_length=48, input=sent).score(batch)
            assert score.value == pytest.approx(expected[0], abs=1e-5), sent
            assert score.details["truncated"]["dropped_turns"] > 0 and score.details["tokens"] <= 48
        ids = server.bodies[0]["input"][0]
        assert tokenizer.decode(ids).rstrip().endswith("Could we agree on 80 euros?<|im_end|>")


def test_without_a_tokenizer_vllm_keeps_the_last_max_length_tokens(tiny_llama, model, vllm_checks):
    tokenizer, scorer = model
    batch = [make_sample(response="Deal at 80.", history=[("user", " ".join(WORDS) * 4)])]
    with FakeRMServer(scorer, tokenizer=tokenizer, validate=vllm_checks) as server:
        (score,) = remote(server, max_length=32).score(batch)
        body = server.bodies[-1]
    assert (body["truncate_prompt_tokens"], body["truncation_side"]) == (32, "left")
    assert score.value is not None


def test_use_activation_and_normalisation(tiny_llama, model, vllm_checks):
    tokenizer, scorer = model
    batch = samples(4)
    raw, _ = local_scores(tiny_llama, batch)
    with FakeRMServer(scorer, tokenizer=tokenizer, validate=vllm_checks) as server:
        activated = remote(server, tokenizer=str(tiny_llama), use_activation=True).score(batch)
        normalised = remote(server, tokenizer=str(tiny_llama), normalize={"mean": 0.5, "std": 2.0}).score(batch)
    assert [s.value for s in activated] == pytest.approx([1 / (1 + math.exp(-r)) for r in raw], abs=1e-5)
    assert [s.value for s in normalised] == pytest.approx([(r - 0.5) / 2.0 for r in raw], abs=1e-5)
    assert [s.details["raw"] for s in normalised] == pytest.approx(raw, abs=1e-5)


def test_the_vllm_classes_refuse_what_vllm_refuses(vllm_protocol, vllm_checks):
    with FakeRMServer(validate=vllm_checks) as server:
        import httpx

        for body, message in [
            ({"input": ["a"], "normalize": True}, "`normalize` was removed"),
            ({"input": ["a"], "use_activation": False, "guided_json": {}}, "fields vLLM ignores: ['guided_json']"),
            ({"messages": [{"role": "user", "content": "a"}], "add_generation_prompt": True,
              "continue_final_message": True}, "Cannot set both"),
        ]:  # fmt: skip
            reply = httpx.post(server.url + "/classify", json=body)
            assert reply.status_code == 400 and message in reply.json()["error"]["message"], body
