"""Pairwise mode: candidate versus a reference reply, both orders, ties on disagreement."""

from __future__ import annotations

import json
import re

import pytest

from repo_sdk.judge import JudgeSource
from repo_sdk.judge.fake_replies import prompt_text
from repo_sdk.judge.fakes import FakeJudgeServer
from repo_sdk.testing import make_sample

REFERENCE = "Could you do 85 EUR?"


def pair(winner_of):
    """A responder answering ``winner_of(reply_a, reply_b)``."""

    def responder(body):
        text = body["messages"][-1]["content"]  # the user message (the system message names the fences too)
        a = re.search(r"<reply_A>\n?(.*?)\n?</reply_A>", text, re.S).group(1)
        b = re.search(r"<reply_B>\n?(.*?)\n?</reply_B>", text, re.S).group(1)
        return json.dumps({"winner": winner_of(a, b), "reason": "fake"})

    return responder


def judge(server, **params):
    return JudgeSource.build(template="pairwise", base_url=server.base_url, model="fake", cache=False, **params)


def sample(response, **metadata):
    return make_sample(response=response, metadata={"reference": REFERENCE, **metadata})


@pytest.mark.parametrize(
    ("rule", "response", "value"),
    [
        (lambda a, b: "A" if len(a) > len(b) else "B", "Could you do 80 EUR per night, please?", 1.0),
        (lambda a, b: "A" if len(a) > len(b) else "B", "80?", 0.0),
        (lambda a, b: "tie", "80?", 0.5),
        (lambda a, b: "A", "80?", 0.5),  # always the first position: the orders disagree
    ],
)
def test_both_orders_are_asked_and_disagreement_is_a_tie(rule, response, value):
    with FakeJudgeServer(responder=pair(rule)) as server:
        [score] = judge(server).score([sample(response)])
        bodies = list(server.bodies)
    assert score.value == value
    assert len(bodies) == 2
    first, second = (prompt_text(b) for b in bodies)
    assert {first.index(response) < first.index(REFERENCE), second.index(response) < second.index(REFERENCE)} == {
        True, False}  # fmt: skip


def test_position_bias_is_reported():
    with FakeJudgeServer(responder=pair(lambda a, b: "A")) as server:
        [score] = judge(server).score([sample("80?")])
    assert "position bias" in score.reason
    assert score.details["samples"][0] == {
        "winners": {"candidate_first": "A", "reference_first": "A"}, "outcome": 0.5, "consistent": False}  # fmt: skip


def test_without_swap_one_order_is_asked():
    with FakeJudgeServer(responder=pair(lambda a, b: "A")) as server:
        [score] = judge(server, pairwise={"swap": False}).score([sample("80?")])
        assert server.stats["requests"] == 1
    assert score.value == 1.0  # the candidate is shown first, and the biased judge picks the first


def test_reference_key_is_configurable():
    with FakeJudgeServer(responder=pair(lambda a, b: "B")) as server:
        src = judge(server, pairwise={"reference_key": "gold"}, n_samples=2, seed=1, temperature=0.7)
        [score] = src.score([make_sample(response="x", metadata={"gold": "y"})])
    assert score.value == 0.5 and len(score.details["samples"]) == 2


def test_missing_reference_is_none_with_the_reason():
    with FakeJudgeServer() as server:
        [score] = judge(server).score([make_sample(response="Deal?")])
        assert server.stats["requests"] == 0
    assert score.value is None
    assert score.reason == "no reference reply in sample.metadata['reference'] for the pairwise judge"


def test_compare_is_the_standalone_form():
    with FakeJudgeServer() as server:  # the default fake judge: the longer reply wins
        src = judge(server)
        scores = src.compare([make_sample(response="a much longer reply"), make_sample(response="hi")], ["mid", "mid"])
        assert [s.value for s in scores] == [1.0, 0.0]
        assert src.points_map(1.0) == 50.0 and src.points_map(0.0) == -50.0
        with pytest.raises(ValueError, match="references \\(1\\) must match samples \\(2\\)"):
            src.compare([make_sample(), make_sample()], ["x"])
        with pytest.raises(ValueError, match="needs a pairwise template"):
            JudgeSource.build(base_url=server.base_url, model="m", cache=False).compare([make_sample()], ["x"])
