"""The core APIs trainer adapters build on: one source built alone, the spec's rules, one metrics breakdown."""

from __future__ import annotations

import asyncio
import math

import pytest

from repo_sdk import ConfigError, RewardPipeline, RewardSource, SourceScore, hookimpl
from repo_sdk.breakdown import breakdown, mean
from repo_sdk.pipeline import build_source
from repo_sdk.testing import echo_rm, make_sample, register_plugin


class Odd(RewardSource):
    """A source with what a buggy plugin gives: NaN, infinity, an error on one reply."""

    name = "test.odd"
    kind = "judge"
    item_telemetry_keys = ("calls",)

    def score(self, samples):
        out = []
        for s in samples:
            if s.response == "boom":
                raise ValueError("cannot read 'boom'")
            value = {"nan": math.nan, "inf": math.inf}.get(s.response, 2.0)
            out.append(SourceScore(value=value, details={"telemetry": {"calls": 1}} if s.response != "nan" else {}))
        return out


class OddPlugin:
    @hookimpl
    def register_sources(self, register):
        register(Odd)


SPEC = {
    "name": "neg",
    "sources": {
        "rm": "echo_rm",
        "odd": "test.odd",
        "guard": ["cot_leak", {"name": "max_length", "max_chars": 30}],
    },
    "combiner": {"type": "repo", "missing_enhancer": "none"},
}
REPLIES = ["Deal at 80?", "<think>push</think>80?", "nan", "inf", "boom", ""]


@pytest.fixture
def plugins():
    with echo_rm(), register_plugin(OddPlugin(), name="odd-plugin"):
        yield


def test_build_source_builds_what_the_pipeline_builds(plugins) -> None:
    samples = [make_sample(response=r, task={"target_price": 80}) for r in REPLIES if r != "boom"]
    with RewardPipeline.from_spec(SPEC) as pipe:
        for name in ("rm", "guard"):
            alone = build_source(SPEC, name)
            assert type(alone) is type(pipe.sources[name])
            assert alone.score(samples) == pipe.sources[name].score(samples)
    with pytest.raises(ConfigError, match=r"unknown source 'judge' \(sources: \['guard', 'odd', 'rm'\]\)"):
        build_source(SPEC, "judge")


def test_rule_names_by_scope() -> None:
    spec = {"sources": {"a": ["cot_leak", "max_length"], "b": ["max_length", "format_breakage"]}}
    with RewardPipeline.from_spec(spec) as pipe:
        assert pipe.rule_names() == ["cot_leak", "max_length", "format_breakage"]
        assert pipe.rule_names("turn") == pipe.rule_names() and pipe.rule_names("dialogue") == []


def test_breakdown_of_a_hostile_batch(plugins) -> None:
    with RewardPipeline.from_spec(SPEC) as pipe:
        results = pipe.score([make_sample(response=r, task={"target_price": 80}) for r in REPLIES])
        b = breakdown(results, rules=pipe.rule_names("turn"), telemetry={"odd": ["calls"]})
    assert list(b.sources) == ["rm", "odd", "guard"]
    # NaN and infinity are refused as values (a NaN would pass REPO's clip as the largest E): those
    # replies get a source error, as the one the source raised on does, and no reward
    assert b.sources["odd"] == [2.0, 2.0, None, None, None, 2.0]
    assert [results[i].sources["odd"].reason.split(": ")[1] for i in (2, 3, 4)] == ["ValidationError"] * 2 + [
        "ValueError"
    ]
    assert b.error == [0, 0, 1, 1, 1, 0] and b.missing == b.error
    assert results[4].source_errors() == {"odd": "ValueError: cannot read 'boom'"}
    assert b.fired == {"cot_leak": [0, 1, 0, 0, 0, 0], "max_length": [0] * 6}
    assert b.telemetry == {"odd": {"calls": [1.0, 1.0, 0.0, 0.0, 0.0, 1.0]}}
    assert b.combiner["E_rules"] == [0.0, -10.0, 0.0, 0.0, 0.0, 0.0]
    assert b.combiner["multiplier"][2:5] == [None] * 3  # no reward, no multiplier
    assert all(len(v) == 6 for v in [*b.sources.values(), *b.fired.values(), *b.combiner.values(), b.missing])


def test_fired_elsewhere_false_keeps_the_key_set_fixed() -> None:
    with RewardPipeline.from_spec({"sources": {"guard": ["cot_leak"], "more": ["max_length"]}}, only=["guard"]) as p:
        results = p.score([make_sample(response="x" * 5000)])
    # max_length's source is left out by `only`, so nothing of it fires or is reported
    assert breakdown(results, rules=["cot_leak"], fired_elsewhere=False).fired == {"cot_leak": [0.0]}
    assert breakdown([], rules=["cot_leak"]).fired == {}


def test_both_adapters_report_the_same_breakdown(plugins) -> None:
    """TRL's batch means and OpenRLHF's per-sample logs are the one breakdown, keyed two ways."""
    trl = pytest.importorskip("repo_sdk_trl")
    openrlhf = pytest.importorskip("repo_sdk_openrlhf")
    from repo_sdk_openrlhf.chat import PlainSplitter

    fn = trl.RepoRewardFunction(SPEC, task_column=None)
    metrics: dict[str, float] = {}
    asyncio.run(fn.acall(prompts=["Q:"] * len(REPLIES), completions=REPLIES, log_metric=metrics.__setitem__))
    service = openrlhf.RewardService.from_spec(SPEC, splitter=PlainSplitter())
    logs = service.answer([f"Q:{r}" for r in REPLIES], ["Q:"] * len(REPLIES))["extra_logs"]
    assert fn.rule_names() == service.rule_names == ["cot_leak", "max_length"]
    for rule in service.rule_names:
        assert metrics[f"rewards/neg/fired/{rule}"] == pytest.approx(mean(logs[f"neg/fired/{rule}"]))
    assert metrics["rewards/neg/missing"] == pytest.approx(mean(logs["neg/missing"]))
    assert metrics["rewards/neg/guard/mean"] == pytest.approx(mean(logs["neg/guard"]))
    assert logs["neg/odd"] == [2.0, 2.0, 0.0, 0.0, 0.0, 2.0] and logs["neg/error"] == [0, 0, 1, 1, 1, 0]
    assert metrics["rewards/neg/odd/mean"] == 2.0  # over the replies it scored
    service.close()
    fn.close()
