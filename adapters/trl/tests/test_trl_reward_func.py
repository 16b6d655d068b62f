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
    """The call as TRL makes it: awaited on a running event loop."""
    kwargs = {"log_metric": logs.log_metric, "log_extra": logs.log_extra} if logs else {}

    async def step():
        return await fn(prompts=[PROMPT] * 3, completions=COMPLETIONS, task=TASKS, **kwargs, **columns)

    return asyncio.run(step())


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
    fn(prompts=["p"], completions=["fine"], log_metric=logs.log_metric, log_extra=logs.log_extra)
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
    out = fn(prompts=["p"], completions=["x"], log_metric=logs.log_metric)
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
        first, second = Logs(), Logs()
        fn = repo_reward_func(spec, log="full")
        rewards = fn(prompts=["p"], completions=["Could you do 80?"], log_metric=first.log_metric)
        fn(prompts=["p", "p"], completions=["Could you do 85?", "Or 90?"], log_metric=second.log_metric)
        fn.close()
    assert rewards == [pytest.approx((4 - 3) * 25 / 100)]
    # per reward call, not running totals: 2 calls (one retried) for the first batch, 2 for the second
    assert first.metrics["rewards/repo_reward/telemetry/judge/calls"] == 2
    assert first.metrics["rewards/repo_reward/telemetry/judge/retries"] == 1
    assert second.metrics["rewards/repo_reward/telemetry/judge/calls"] == 2
    assert second.metrics["rewards/repo_reward/telemetry/judge/retries"] == 0
    assert second.metrics["rewards/repo_reward/telemetry/judge/items"] == 2
    assert first.metrics["rewards/repo_reward/judge/mean"] == 4.0


def test_callable_sync_and_awaited_with_the_same_rewards(echo_rm):
    fn = repo_reward_func(SPEC)
    awaited = call(fn)
    direct = fn(prompts=[PROMPT] * 3, completions=COMPLETIONS, task=TASKS)
    assert isinstance(direct, list) and direct == awaited

    async def inside_a_loop():  # what a sync caller inside async code can do
        return fn.call_sync(prompts=[PROMPT] * 3, completions=COMPLETIONS, task=TASKS)

    assert asyncio.run(inside_a_loop()) == awaited
    assert is_async_callable(fn) and is_async_callable(pickle.loads(pickle.dumps(fn)))
    per_source = source_reward_funcs(SPEC)[1]
    assert per_source(prompts=[PROMPT] * 3, completions=COMPLETIONS, task=TASKS) == [0.0, -10.0, 0.0]


def test_an_unreadable_item_gets_none_and_the_rest_are_scored(echo_rm, caplog):
    fn = repo_reward_func(SPEC)
    bad = [{"role": "robot", "content": "x"}]
    logs = Logs()
    with caplog.at_level("WARNING", logger="repo_sdk_trl"):
        out = fn(
            prompts=[PROMPT] * 3,
            completions=[COMPLETIONS[0], bad, COMPLETIONS[2]],
            task=TASKS,
            log_metric=logs.log_metric,
            log_extra=logs.log_extra,
        )
    assert out[1] is None and out[0] == call(fn)[0] and out[2] == call(fn)[2]
    assert "negotiation: no reward for batch[1].completion[0].role: unknown role 'robot'" in caplog.text
    assert logs.metrics["rewards/negotiation/missing"] == pytest.approx(1 / 3)
    assert logs.extra["negotiation/guard"] == [0.0, None, 0.0]
    # a batch of nothing but bad items still answers, one None each
    assert fn(prompts=["p", "p"], completions=[bad, 42]) == [None, None]


def test_summary_logs_a_few_keys_and_full_logs_everything(echo_rm):
    summary, full = Logs(), Logs()
    call(repo_reward_func(SPEC), summary)
    call(repo_reward_func(SPEC, log="full"), full)
    assert set(summary.metrics) == {
        "rewards/negotiation/rm/mean",
        "rewards/negotiation/guard/mean",
        "rewards/negotiation/length/mean",
        "rewards/negotiation/fired/cot_leak",
        "rewards/negotiation/fired/max_length",
        "rewards/negotiation/combiner/E",
        "rewards/negotiation/combiner/multiplier",
        "rewards/negotiation/missing",
    }
    assert set(summary.metrics) < set(full.metrics)
    assert {"rewards/negotiation/combiner/E_rules", "rewards/negotiation/combiner/E_judge"} <= set(full.metrics)
    with pytest.raises(ConfigError, match="log must be summary or full, got 'loud'"):
        repo_reward_func(SPEC, log="loud")


def test_half_a_surrogate_pair_in_a_prompt_or_completion_is_scored_like_any_text(caplog):
    """A tokenizer decoding a cut emoji never yields one, but a dataset's escaped JSON can; it is text like any."""
    fn = repo_reward_func({"name": "n", "sources": {"rules": ["cot_leak", "repetition", "mixed_script"]}})
    with caplog.at_level("WARNING", logger="repo_sdk_trl"):
        out = fn(
            prompts=["We \udfff offer 95.", [{"role": "user", "content": "hi \ud83d"}], "We offer 95."],
            completions=["ok \ud800 then", [{"role": "assistant", "content": "<think>x\udc00</think>80?"}], "ok"],
        )
    assert out == [0.0, -0.1, 0.0] and "no reward" not in caplog.text
    keys = {s.group for s in fn.samples(["a \ud800", "a \udc00", "a \ud800"], ["x", "x", "x"], {})}
    assert len(keys) == 2  # the group key tells the two prompts apart and keeps the same prompt together
