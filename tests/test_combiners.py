"""Combiners: REPO's enhancement properties (hypothesis) and the other mixes."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from repo_sdk import ConfigError, RewardPipeline
from repo_sdk.combiners import GateCombiner, MinCombiner, NormalizeThenSumCombiner, RepoCombiner, WeightedSumCombiner
from repo_sdk.combiners.repo import RepoConfig, enhance
from repo_sdk.combiners.weighted_sum import WeightedSumConfig, check_weights
from repo_sdk.interfaces import Combined, Combiner
from repo_sdk.plugin_config import NoConfig
from repo_sdk.testing import make_sample
from repo_sdk.types import RewardResult, SourceScore
from repo_sdk.types import SourceScore as S

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
points = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)
ns = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False)


def repo(rm: float | None, judge: float | None = 0.0, rules: float | None = 0.0, **cfg: object) -> object:
    c = RepoCombiner(RepoConfig(rm="rm", judge=["judge"], rules=["rules"], **cfg))
    return c.combine([None], {"rm": [S(value=rm)], "judge": [S(value=judge)], "rules": [S(value=rules)]})[0]


@given(r=finite, ej=points, er=points, n=ns)
def test_repo_multiplier_in_0_2_and_sign_preserved(r: float, ej: float, er: float, n: float) -> None:
    out = repo(r, ej, er, n=n)
    if r == 0:
        assert out.reward == 0.0
        return
    assert 0.0 - 1e-12 <= out.details["multiplier"] <= 2.0 + 1e-12
    assert out.reward == pytest.approx(r * out.details["multiplier"])
    assert out.reward == 0.0 or math.copysign(1, out.reward) == math.copysign(1, r)
    assert abs(out.reward) <= 2 * abs(r) + 1e-9


@given(r=finite, e1=points, e2=points, n=ns)
def test_repo_reward_monotone_in_e(r: float, e1: float, e2: float, n: float) -> None:
    lo, hi = sorted((e1, e2))
    assert enhance(r, lo, n) <= enhance(r, hi, n) + 1e-9 * max(1.0, abs(r))


@given(r=finite, e=points)
def test_repo_matches_paper_formula(r: float, e: float) -> None:
    clipped = max(-100.0, min(100.0, e))
    sign = (r > 0) - (r < 0)
    assert repo(r, e, 0.0).reward == pytest.approx(r * (1 + sign * clipped / 100))


@pytest.mark.parametrize(
    ("rm", "judge", "rules", "cfg", "expected"),
    [
        (1.0, 50.0, 0.0, {}, 1.5),  # positive E amplifies a positive reward
        (-1.0, 50.0, 0.0, {}, -0.5),  # ... and eases a negative one
        (1.0, -30.0, -20.0, {}, 0.5),  # negative E weakens a positive reward
        (-1.0, -30.0, -20.0, {}, -1.5),  # ... and deepens a negative one
        (2.0, -400.0, 0.0, {}, 0.0),  # clipped at -n: the multiplier bottoms out at 0
        (0.0, 50.0, 0.0, {}, 0.0),  # rm_zero=keep: the formula's 0
        (0.0, 50.0, 0.0, {"rm_zero": "enhancement"}, 0.5),
        (0.0, 50.0, 0.0, {"rm_zero": "enhancement", "rm_zero_scale": 0.1}, 0.05),
        (None, 50.0, 0.0, {}, None),  # missing RM -> None by default
        (None, 50.0, 0.0, {"missing_rm": "enhancement"}, 0.5),
        (1.0, None, -50.0, {}, 0.5),  # missing judge counts 0 points (neutral)
        (1.0, None, -50.0, {"missing_enhancer": "none"}, None),
        (1.0, 5.0, 5.0, {"n": 10.0}, 2.0),
    ],
)
def test_repo_policies(rm, judge, rules, cfg, expected) -> None:
    out = repo(rm, judge, rules, **cfg)
    assert out.reward == (pytest.approx(expected) if expected is not None else None)


def test_repo_without_rm_is_enhancement_over_n() -> None:
    c = RepoCombiner(RepoConfig(rules=["rules"]))
    assert c.combine([None], {"rules": [S(value=-30.0)]})[0].reward == pytest.approx(-0.3)


def test_repo_points_map_override_from_spec() -> None:
    spec = {
        "sources": {"rules": ["cot_leak"]},
        "combiner": {"type": "repo", "rules": {"rules": {"scale": 2.0}}},
    }
    with RewardPipeline.from_spec(spec) as pipe:
        [r] = pipe.score([make_sample(response="<think>x</think>ok")])
    assert r.details["E_rules"] == -20.0
    assert r.reward == pytest.approx(-0.2)


@pytest.mark.parametrize(
    ("combiner", "message"),
    [
        ({"type": "repo", "rm": "nope"}, "combiner.rm: 'nope' is not a source"),
        ({"type": "repo", "judge": ["rules", "ghost"]}, "combiner.judge: 'ghost' is not a source"),
        ({"type": "weighted_sum", "weights": [1.0, 2.0]}, "weights (2) must match sources (1"),
        ({"type": "weighted_sum", "weights": {"ghost": 1.0}}, "unknown source(s) ['ghost']"),
        ({"type": "min", "sources": ["ghost"]}, "unknown source(s) ['ghost']"),
    ],
)
def test_bad_source_references_are_clear_errors(combiner: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}, "combiner": combiner})
    assert message in str(info.value)


@given(n=st.integers(min_value=0, max_value=6), m=st.integers(min_value=1, max_value=6))
def test_weights_sources_mismatch(n: int, m: int) -> None:
    names = [f"s{i}" for i in range(m)]
    if n == m:
        assert list(check_weights([1.0] * n, names)) == names
    else:
        with pytest.raises(ConfigError, match=rf"weights \({n}\) must match sources \({m}"):
            check_weights([1.0] * n, names)


def test_weighted_sum_missing_policies() -> None:
    scores = {"a": [S(value=1.0), S(value=None)], "b": [S(value=2.0), S(value=3.0)]}
    skip = WeightedSumCombiner(WeightedSumConfig(weights={"a": 2.0, "b": 1.0})).combine([None, None], scores)
    assert [c.reward for c in skip] == [4.0, 3.0]
    assert skip[1].details["missing"] == ["a"]
    none = WeightedSumCombiner(WeightedSumConfig(missing="none")).combine([None, None], scores)
    assert [c.reward for c in none] == [3.0, None]


def test_min_takes_worst_present() -> None:
    out = MinCombiner().combine([None, None], {"a": [S(value=0.5), S(value=None)], "b": [S(value=-1.0), S(value=None)]})
    assert out[0].reward == -1.0 and out[0].details["argmin"] == "b"
    assert out[1].reward is None


def test_normalize_then_sum_per_group_and_per_source() -> None:
    samples = [make_sample(group="p1"), make_sample(group="p1"), make_sample(group="p2"), make_sample(group="p2")]
    # source b is 1000x the scale of a; after normalisation both weigh the same
    scores = {
        "a": [S(value=0.0), S(value=1.0), S(value=5.0), S(value=5.0)],
        "b": [S(value=0.0), S(value=1000.0), S(value=7.0), S(value=9.0)],
    }
    out = [c.reward for c in NormalizeThenSumCombiner().combine(samples, scores)]
    assert out[0] == pytest.approx(-2.0, abs=1e-4) and out[1] == pytest.approx(2.0, abs=1e-4)
    # group p2: a has no spread (contributes 0), b is z-scored within the group only
    assert out[2] == pytest.approx(-1.0, abs=1e-4) and out[3] == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize(("mode", "value", "expected"), [("cap", -1.0, -1.0), ("set", -5.0, -5.0), ("floor", 0.9, 0.9)])
def test_gate_vetoes_when_named_rule_fires(mode: str, value: float, expected: float) -> None:
    spec = {
        "sources": {"rules": [{"name": "cot_leak", "points": 30}]},
        "combiner": {"type": "gate", "rules": ["cot_leak"], "mode": mode, "value": value, "inner": {"type": "repo"}},
    }
    with RewardPipeline.from_spec(spec) as pipe:
        fired, clean = pipe.score([make_sample(response="<think>x</think>ok"), make_sample(response="ok")])
    assert isinstance(pipe.combiner, GateCombiner)
    assert fired.reward == pytest.approx(expected)
    assert fired.details["gate"] == ["cot_leak"] and fired.details["ungated"] == pytest.approx(0.3)
    assert clean.reward == 0.0 and "gate" not in clean.details


class _IntCombiner(Combiner[NoConfig]):
    """A plugin combiner returning an int reward (and a float for the second sample)."""

    name: ClassVar[str] = "t.int"

    def combine(self, samples: Any, scores: Any) -> list[Combined]:
        return [Combined(1 if i == 0 else 0.5, {"k": i}) for i, _ in enumerate(samples)]


def test_a_combiners_reward_of_another_type_is_validated_into_a_float() -> None:
    from repo_sdk.score_steps import combine_results

    samples = [make_sample(response="a"), make_sample(response="b")]
    outputs = [[SourceScore(value=-10.0), SourceScore(value=0.0)]]
    results = combine_results(_IntCombiner(), ["rules"], samples, outputs)
    assert [(type(r.reward), r.reward) for r in results] == [(float, 1.0), (float, 0.5)]
    assert [r.details for r in results] == [{"k": 0}, {"k": 1}] and results[1].sources["rules"].value == 0.0
    assert results[0] == RewardResult(reward=1.0, sources={"rules": SourceScore(value=-10.0)}, details={"k": 0})

    class LookAlike:  # a plugin source's own object with a score's attributes, not a SourceScore
        value, reason, details = 1.0, "", {}

    with pytest.raises(ValidationError, match=r"sources\.rules"):
        combine_results(_IntCombiner(), ["rules"], samples[:1], [[LookAlike()]])
