"""compute_score as verl's reward managers call it, in-process: the options, the fixed keys, the
fallback, and micro-batching under verl's concurrent calls.

verl's ``naive`` and ``dapo`` reward managers are the real ones (``run_single`` on one
sample, called concurrently as ``RewardLoopWorker.compute_score_batch`` does); only Ray
is left out here (``test_verl_reward_loop.py`` runs them on a Ray cluster).
"""

from __future__ import annotations

import asyncio
import json
import math

import pytest
from repo_sdk_verl.reward import compute_score, compute_score_sync
from repo_sdk_verl.runtime import SPEC_ENV, RewardOptions, runtime_for

from repo_sdk.testing import echo_rm

RULES = {"name": "neg", "sources": {"guard": ["cot_leak", {"name": "max_length", "max_chars": 40, "points": -35}]}}


def info(history=(), task=None, id="d#1"):
    return {
        "id": id,
        "task": json.dumps(task or {}),
        "history": json.dumps([{"role": r, "content": c} for r, c in history]),
    }


def run(coro):
    return asyncio.run(coro)


def test_every_answer_has_the_same_keys_whatever_happens():
    spec = {**RULES, "sources": {**RULES["sources"], "rm": {"type": "echo_rm"}}}
    with echo_rm(name="verl-keys-rm"):
        good = run(compute_score("s", "Deal at 80.", None, info([("user", "95?")], {"target_price": 80}), spec=spec))
        leak = run(compute_score("s", "<think>x</think>" + "y" * 50, None, info(), spec=spec))
        bad = run(compute_score("s", "ok", None, {"history": "{oops"}, spec=spec))
        no_info = run(compute_score("s", "ok", None, None, spec=spec))
    assert list(good) == list(leak) == list(bad) == list(no_info)
    assert list(good)[:3] == ["score", "neg/guard", "neg/rm"]
    assert {k for k in good if "/fired/" in k} == {"neg/fired/cot_leak", "neg/fired/max_length"}
    assert leak["neg/fired/cot_leak"] == leak["neg/fired/max_length"] == 1.0 and good["neg/fired/cot_leak"] == 0.0
    assert good["neg/multiplier"] is not None and good["neg/E"] == 0.0
    assert bad["score"] == 0.0 and bad["neg/error"] == bad["neg/missing"] == 1.0 and bad["neg/rm"] is None
    assert no_info["neg/error"] == 0.0 and isinstance(no_info["score"], float)  # no extra_info: no history, no task


@pytest.mark.parametrize(
    ("extra_info", "message"),
    [
        ({"history": "{oops"}, "extra_info.history: not JSON"),
        (
            {"history": json.dumps([{"role": "hotel", "content": "hi"}])},
            "extra_info.history[0]: not a {role, content} turn",
        ),
        ({"task": "[1, 2]"}, "extra_info.task: expected a JSON dict, got list"),
        ("a string", "extra_info: expected a mapping, got str"),
    ],
)
def test_an_unreadable_sample_is_logged_and_gets_the_documented_fallback(extra_info, message, caplog):
    out = run(compute_score("s", "hi", None, extra_info, spec=RULES, missing_reward=-3.0))
    assert out["score"] == -3.0 and out["neg/error"] == 1.0
    assert message in caplog.text


def test_a_source_that_raises_on_one_sample_costs_only_that_sample():
    from repo_sdk import RewardSource, hookimpl
    from repo_sdk.testing import register_plugin
    from repo_sdk.types import SourceScore

    class Fussy(RewardSource):
        name = "fussy_rm"
        kind = "rm"

        def score(self, samples):
            if any("boom" in s.response for s in samples):
                raise RuntimeError("cannot score 'boom'")
            return [SourceScore(value=1.0) for _ in samples]

    class Plugin:
        @hookimpl
        def register_sources(self, register):
            register(Fussy)

    spec = {"name": "f", "sources": {"rm": {"type": "fussy_rm"}, "guard": ["cot_leak"]}}
    with register_plugin(Plugin(), name="verl-fussy"):

        async def many():
            replies = ["fine", "boom", "<think>x</think>fine", "also fine"]
            return await asyncio.gather(
                *(compute_score("s", r, None, info(), spec=spec, max_wait_ms=20) for r in replies)
            )

        out = run(many())
    assert [o["score"] for o in out] == [1.0, 0.0, 0.9, 1.0]
    assert [o["f/error"] for o in out] == [0.0, 1.0, 0.0, 0.0]


def test_on_error_raise_lets_verl_see_the_error():
    with pytest.raises(ValueError, match=r"extra_info\.history: not JSON"):
        run(compute_score("s", "hi", None, {"history": "{"}, spec=RULES, on_error="raise"))


def test_no_reward_is_the_fallback_not_a_crash(write_spec):
    # the RM is left out (only=...): REPO's missing-RM policy gives None for the reward
    spec = {
        "name": "m",
        "sources": {"rm": {"type": "echo_rm"}, "guard": ["cot_leak"]},
        "combiner": {"type": "repo", "missing_rm": "none"},
    }
    with echo_rm(name="verl-none-rm"):
        out = run(compute_score("s", "ok", None, info(), spec=spec, only=["guard"], missing_reward=-1.0))
    assert out["score"] == -1.0 and out["m/missing"] == 1.0 and out["m/error"] == 0.0 and out["m/rm"] is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "no reward spec: set +reward.custom_reward_function.reward_kwargs.spec"),
        ({"spec": RULES, "max_btach": 3}, "reward_kwargs.max_btach: unknown key"),
        ({"spec": RULES, "on_error": "ignore"}, "reward_kwargs.on_error: Input should be 'fallback' or 'raise'"),
        ({"spec": "/no/such/spec.yaml"}, "/no/such/spec.yaml"),
        ({"spec": {"sources": {"g": ["no_such_rule"]}}}, "no_such_rule"),
    ],
)
def test_a_bad_configuration_stops_the_run_with_one_line(kwargs, message, monkeypatch):
    monkeypatch.delenv(SPEC_ENV, raising=False)
    with pytest.raises(Exception, match=None) as err:
        run(compute_score("s", "hi", None, info(), **kwargs))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_spec_can_come_from_the_environment(write_spec, monkeypatch):
    monkeypatch.setenv(SPEC_ENV, str(write_spec(RULES)))
    out = compute_score_sync("s", "<think>x</think>", None, info())
    assert out["score"] == -0.1 and out["neg/fired/cot_leak"] == 1.0


def test_huge_and_empty_replies_score(write_spec):
    out = run(compute_score("s", "é" * 1_000_000, None, info([("user", "hi")]), spec=RULES))
    empty = run(compute_score("s", "", None, info([("user", "hi")]), spec=RULES))
    assert out["neg/fired/max_length"] == 1.0 and out["score"] == -0.35
    assert empty["score"] == 0.0 and empty["neg/error"] == 0.0


# verl's reward managers, real, in-process ------------------------------------------------------

verl = pytest.importorskip("verl")


@pytest.fixture
def verl_manager(tokenizer_dir, write_spec):
    """verl's reward manager for a config, on the event loop verl's reward worker would run it on."""
    from repo_sdk_verl.testing import compose_config
    from verl.trainer.ppo.reward import load_reward_manager

    def make(spec, *, manager="naive", fn="compute_score", extra=()):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        config = compose_config(
            [
                "reward.custom_reward_function.path=pkg://repo_sdk_verl.reward",
                f"reward.custom_reward_function.name={fn}",
                f"+reward.custom_reward_function.reward_kwargs.spec={write_spec(spec)}",
                f"reward.reward_manager.name={manager}",
                *extra,
            ]
        )
        from transformers import AutoTokenizer

        return loop, load_reward_manager(config, AutoTokenizer.from_pretrained(tokenizer_dir))

    return make


def rows_for(replies, history=(("user", "95 EUR?"),)):
    from repo_sdk_verl.samples import row_of

    from repo_sdk.types import Sample, Turn

    out = []
    for i, _ in enumerate(replies):
        s = Sample(
            id=f"d#{i}",
            task={"target_price": 80 + i},
            history=[Turn(role=r, content=c) for r, c in history],
            response="",
        )
        row = row_of(s, index=i, data_source="repo_sdk")
        out.append(row | {"raw_prompt": row["prompt"]})
    return out


@pytest.mark.parametrize(
    ("manager", "fn"), [("naive", "compute_score"), ("naive", "compute_score_sync"), ("dapo", "compute_score")]
)
def test_verls_managers_get_one_batched_pipeline_call_for_concurrent_samples(verl_manager, tokenizer, manager, fn):
    from repo_sdk_verl.testing import reward_batch

    spec = {**RULES, "name": f"batch_{manager}_{fn}"}
    loop, mgr = verl_manager(spec, manager=manager, fn=fn)
    replies = [f"Could you do {80 + i} EUR?" if i % 3 else f"<think>{i}</think>ok" for i in range(24)]
    data = reward_batch(tokenizer, rows_for(replies), replies)

    async def gather():  # what RewardLoopWorker.compute_score_batch does
        return await asyncio.gather(*(mgr.run_single(data[i : i + 1]) for i in range(len(data))))

    outs = loop.run_until_complete(gather())
    runtime = runtime_for(
        RewardOptions.from_kwargs({"spec": mgr.config.reward.custom_reward_function.reward_kwargs.spec})
    )
    assert [o["reward_score"] for o in outs] == [-0.1 if i % 3 == 0 else 0.0 for i in range(24)]
    assert {tuple(o["reward_extra_info"]) for o in outs} == {tuple(outs[0]["reward_extra_info"])}
    assert runtime.stats["calls"] == 24 and runtime.stats["batches"] < 24 / 2, runtime.stats
    loop.close()


def test_verls_remote_manager_refuses_the_async_function_and_takes_the_sync_one(verl_manager):
    with pytest.raises(AssertionError, match="Async reward score is not supported"):
        verl_manager(RULES, manager="remote")
    assert not math.isnan(compute_score_sync("s", "ok", None, info(), spec=RULES)["score"])
