"""The REPO reward as TRL reward functions: naming, async detection, pickling, logging, values."""

from __future__ import annotations

import asyncio
import math
import pickle

import pytest
from repo_sdk_trl import RepoRewardFunction, repo_reward_func, source_reward_funcs
from trl.trainer.utils import get_callable_name, is_async_callable

from repo_sdk import RewardPipeline
from repo_sdk.combiners.repo import enhance
from repo_sdk.errors import ConfigError
from repo_sdk.testing import make_sample

SPEC = {
    "name": "negotiation",
    "sources": {
        "rm": {"type": "echo_rm"},
        "guard": ["cot_leak"],
        "length": [{"name": "max_length", "max_chars": 20, "points": -40}],
    },
    "combiner": {"type": "repo", "n": 100},
}
PROMPT = [{"role": "system", "content": "Target 80 EUR."}, {"role": "user", "content": "We offer 95 EUR."}]
COMPLETIONS = [
    [{"role": "assistant", "content": "Could you do 80?"}],
    [{"role": "assistant", "content": "<think>push</think>Could you do 80 EUR per night for us?"}],
    [{"role": "assistant", "content": "Deal."}],
]
TASKS = ['{"target_price": 80}'] * 3


class Logs:
    def __init__(self) -> None:
        self.metrics: dict[str, float] = {}
        self.extra: dict[str, list] = {}

    def log_metric(self, name: str, value: float) -> None:
        self.metrics[name] = value

    def log_extra(self, column: str, values: list) -> None:
        self.extra[column] = values


def call(fn, logs=None, **columns):
    kwargs = {"log_metric": logs.log_metric, "log_extra": logs.log_extra} if logs else {}
    return asyncio.run(fn(prompts=[PROMPT] * 3, completions=COMPLETIONS, task=TASKS, **kwargs, **columns))


def test_trl_sees_an_async_callable_named_after_the_spec(echo_rm):
    fn = repo_reward_func(SPEC)
    assert is_async_callable(fn)
    assert get_callable_name(fn) == "negotiation"
    assert [get_callable_name(f) for f in source_reward_funcs(SPEC)] == ["rm", "guard", "length"]
    assert all(is_async_callable(f) for f in source_reward_funcs(SPEC))


def test_rewards_are_the_pipelines_on_the_same_samples(echo_rm):
    rewards = call(repo_reward_func(SPEC))
    history = [("system", "Target 80 EUR."), ("user", "We offer 95 EUR.")]
    samples = [make_sample(c[0]["content"], task={"target_price": 80}, history=history) for c in COMPLETIONS]
    with RewardPipeline.from_spec(SPEC) as pipe:
        assert rewards == [r.reward for r in pipe.score(samples)]
    rm = [r.value for r in pipe.sources["rm"].score(samples)]
    # the REPO formula by hand: guard (-10) and length (-40) fire on the second reply only
    assert rewards == pytest.approx([rm[0], enhance(rm[1], -50), rm[2]])


def test_metrics_and_extra_columns_report_every_source_and_rule(echo_rm):
    logs = Logs()
    call(repo_reward_func(SPEC), logs)
    m = logs.metrics
    assert m["rewards/negotiation/guard/mean"] == pytest.approx(-10 / 3)
    assert m["rewards/negotiation/length/mean"] == pytest.approx(-40 / 3)  # one reply is over 20 chars
    assert m["rewards/negotiation/fired/cot_leak"] == pytest.approx(1 / 3)
    assert m["rewards/negotiation/fired/max_length"] == pytest.approx(1 / 3)
    assert m["rewards/negotiation/missing"] == 0.0
    assert "rewards/negotiation/rm/mean" in m and "rewards/negotiation/combiner/E" in m
    assert logs.extra["negotiation/guard"] == [0.0, -10.0, 0.0]
    assert logs.extra["negotiation/fired"] == ["", "cot_leak,max_length", ""]


def test_rules_that_did_not_fire_still_report_zero():
    logs = Logs()
    fn = repo_reward_func({"sources": {"rules": ["cot_leak", "max_length"]}})
    asyncio.run(fn(prompts=["p"], completions=["fine"], log_metric=logs.log_metric, log_extra=logs.log_extra))
    assert logs.metrics["rewards/repo_reward/fired/cot_leak"] == 0.0
    assert logs.metrics["rewards/repo_reward/fired/max_length"] == 0.0


def test_pickled_callable_rebuilds_its_sources_lazily(echo_rm):
    fn = repo_reward_func(SPEC)
    before = call(fn)
    clone = pickle.loads(pickle.dumps(fn))
    assert clone._built is None and clone.__name__ == "negotiation"
    assert call(clone) == before
    assert clone._built is not None and clone._built is not fn._built


def test_per_source_functions_return_raw_values(echo_rm):
    values = {f.__name__: call(f) for f in source_reward_funcs(SPEC)}
    assert values["guard"] == [0.0, -10.0, 0.0]
    assert values["length"] == [0.0, -40.0, 0.0]
    fn = pickle.loads(pickle.dumps(source_reward_funcs(SPEC)[0]))
    assert call(fn) == values["rm"]


def test_missing_rm_gives_none_which_trl_reads_as_nan():
    spec = {"sources": {"rules": ["cot_leak"]}, "combiner": {"type": "repo", "missing_enhancer": "none"}}
    fn = RepoRewardFunction(spec, only=[])
    logs = Logs()
    out = asyncio.run(fn(prompts=["p"], completions=["x"], log_metric=logs.log_metric))
    assert out == [None] and logs.metrics["rewards/repo_reward/missing"] == 1.0
    assert not math.isnan(logs.metrics["rewards/repo_reward/missing"])


@pytest.mark.parametrize(
    ("spec", "kwargs", "message"),
    [
        ({"sources": {"rules": ["no_such_rule"]}}, {}, "no_such_rule"),
        ({"sources": {"rules": ["cot_leak"]}}, {"source": "judge"}, "unknown source 'judge'"),
    ],
)
def test_bad_specs_fail_at_construction(spec, kwargs, message):
    from repo_sdk_trl import SourceRewardFunction

    with pytest.raises(ConfigError, match=message):
        if "source" in kwargs:
            SourceRewardFunction(spec, kwargs["source"])
        else:
            repo_reward_func(spec)


def test_judge_telemetry_reaches_trainer_logs():
    """Judge calls, retries and cache hits appear beside TRL's metrics (real HTTP to a loopback judge)."""
    from repo_sdk.testing import FakeJudgeServer

    def answer(body):
        return '{"score": 4, "deductions": [], "reason": "ok"}'

    calls = {"n": 0}

    def script(body, seen):
        calls["n"] += 1
        return "error_500" if calls["n"] == 1 else None  # one server error, retried

    with FakeJudgeServer(responder=answer, script=script) as server:
        spec = {
            "sources": {
                "judge": {
                    "type": "judge",
                    "base_url": server.base_url,
                    "model": "fake",
                    "cache": False,
                    "backoff_base_s": 0.01,
                }
            }
        }
        logs = Logs()
        fn = repo_reward_func(spec)
        rewards = asyncio.run(fn(prompts=["p"], completions=["Could you do 80?"], log_metric=logs.log_metric))
        fn.close()
    assert rewards == [pytest.approx((4 - 3) * 25 / 100)]
    assert logs.metrics["rewards/repo_reward/telemetry/judge/calls"] >= 1
    assert logs.metrics["rewards/repo_reward/telemetry/judge/retries"] == 1
    assert logs.metrics["rewards/repo_reward/judge/mean"] == 4.0
