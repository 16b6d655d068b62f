"""Scoring modes against a fake OpenAI-compatible server: what is asked, how the answer is read, what is cached."""

from __future__ import annotations

import math

import pytest

from repo_sdk.config import parse_spec
from repo_sdk.errors import ConfigError
from repo_sdk.judge import JudgeSource
from repo_sdk.judge.fakes import FakeJudgeServer
from repo_sdk.judge.modes import read_logprobs, score_labels
from repo_sdk.judge.verdict import VerdictError
from repo_sdk.testing import make_sample


def judge(server: FakeJudgeServer, **params) -> JudgeSource:
    return JudgeSource.build(
        **{"base_url": server.base_url, "model": "fake", "cache": False, "backoff_base_s": 0.01, **params}
    )


def logprobs(**probs: float) -> dict[str, float]:
    return {token: math.log(p) for token, p in probs.items()}


def test_logprobs_mode_asks_for_one_token_after_a_prefilled_score():
    with FakeJudgeServer(responder=lambda b: {"4": math.log(0.6), "5": math.log(0.3), "The": math.log(0.1)}) as server:
        [score] = judge(server, mode="logprobs").score([make_sample("Could we agree on 80 EUR?")])
        body = server.bodies[-1]
    assert (body["max_tokens"], body["logprobs"], body["top_logprobs"], body["temperature"]) == (1, True, 20, 0.0)
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    assert "response_format" not in body  # a JSON constraint would make "{" the first token
    assert body["messages"][-1] == {"role": "assistant", "content": "Score: "}
    assert body["messages"][-2]["content"].endswith("Answer with the score only: one digit from 1 (worst) to 5 (best).")
    assert score.value == pytest.approx((4 * 0.6 + 5 * 0.3) / 0.9, abs=1e-4)
    assert score.details["parse"] == "logprobs" and "P(4: 0.67, 5: 0.33)" in score.reason


def test_tokens_are_matched_after_stripping_and_renormalised():
    dist = read_logprobs([[" 2", math.log(0.2)], ["2", math.log(0.2)], ["\n", math.log(0.5)], ["5", math.log(0.1)]],
                         score_labels((1, 5)))  # fmt: skip
    assert dist.value == pytest.approx((2 * 0.4 + 5 * 0.1) / 0.5) and dist.mass == pytest.approx(0.5)


def test_an_answer_with_no_mass_on_the_scores_is_unreadable_and_not_cached(tmp_path):
    answers = iter([logprobs(The=0.9, I=0.09), logprobs(**{"3": 0.8, "The": 0.1})])
    with FakeJudgeServer(responder=lambda b: next(answers)) as server:
        [first] = judge(server, mode="logprobs", cache=str(tmp_path)).score([make_sample()])
        [second] = judge(server, mode="logprobs", cache=str(tmp_path)).score([make_sample()])
        assert server.stats["requests"] == 2  # the unreadable answer was asked again, not replayed
    assert first.value is None and "0% of its next-token probability" in first.reason
    assert first.details["error_kind"] == "parse" and second.value == 3.0


def test_a_server_without_logprobs_is_none_with_the_reason():
    with FakeJudgeServer(responder=lambda b: "4") as server:
        [score] = judge(server, mode="logprobs").score([make_sample()])
    assert score.value is None and "returned no logprobs" in score.reason


def test_checklist_asks_each_rubric_item_and_scores_the_expected_share_broken():
    items = {"politeness": "rude or curt", "prices": "an invented price", "language": "mixed languages"}
    broken = {"rude or curt": 0.9, "an invented price": 0.2, "mixed languages": 0.1}

    def responder(body):
        question = body["messages"][-2]["content"].split("Rubric item:")[-1]
        p = next(v for k, v in broken.items() if k in question)
        return logprobs(**{" yes": p, " no": 1 - p})

    with FakeJudgeServer(responder=responder) as server:
        [score] = judge(server, template="negotiation", mode="checklist", params={"criteria": items}).score(
            [make_sample()]
        )
        assert server.stats["requests"] == 3
        assert all(b["messages"][-1] == {"role": "assistant", "content": "Answer:"} for b in server.bodies)
    assert score.value == pytest.approx(5 - 4 * (0.9 + 0.2 + 0.1) / 3, abs=1e-3)
    assert next(d["criterion"] for d in score.details["deductions"]) == "politeness: rude or curt"


def test_cache_keys_hold_the_mode(tmp_path):
    with FakeJudgeServer() as server:
        for mode in ("text", "logprobs", "text", "logprobs"):
            judge(server, mode=mode, cache=str(tmp_path)).score([make_sample()])
        assert server.stats["requests"] == 2  # each mode asked once, then answered from the cache


def test_the_embedded_judge_defaults_to_logprobs_and_text_mode_has_room_for_the_verdict():
    assert JudgeSource.build(cache=False).mode == "logprobs"
    assert JudgeSource.build(template="pairwise", cache=False).mode == "text"
    with FakeJudgeServer() as server:
        src = judge(server)
        src.score([make_sample()])
        assert src.mode == "text" and server.bodies[-1]["max_tokens"] == 600


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"template": "pairwise", "mode": "logprobs"}, "mode: mode logprobs needs a pointwise template"),
        ({"mode": "logprobs", "n_samples": 3, "temperature": 1}, "n_samples 3 needs mode text"),
    ],
)
def test_modes_that_do_not_fit_are_spec_errors(params, message):
    spec = {"version": 1, "sources": {"judge": {"type": "judge", "cache": False, **params}}, "combiner": "repo"}
    with pytest.raises(ConfigError, match=message):
        parse_spec(spec)


def test_a_scale_that_is_not_single_digits_cannot_be_read_from_one_token(tmp_path):
    path = tmp_path / "ten.j2"
    path.write_text("{#- repo-sdk judge template\nkind: pointwise\nscale: [1, 10]\nvariables: [response]\n-#}\n"
                    "<reply>{{ response }}</reply>")  # fmt: skip
    with pytest.raises(ConfigError, match=r"mode: mode logprobs needs a scale of whole numbers within 0-9"):
        JudgeSource.build(template=str(path), cache=False)
    with pytest.raises(VerdictError, match="0% of its next-token"):
        read_logprobs([["A", 0.0]], score_labels((0, 9)))
