"""REPO and the RM's scale: positive scales, the veto, and `validate`'s warning about unnormalised RMs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from repo_sdk import ConfigError
from repo_sdk.cli import app
from repo_sdk.combiners.repo import RepoCombiner, RepoConfig
from repo_sdk.combiners.rm_scale import rm_scale_warnings
from repo_sdk.config import load
from repo_sdk.rm.normalize import Normalizer, calibration_stats, sigmoid
from repo_sdk.rm.source import CalibrationRef, RMConfig
from repo_sdk.types import SourceScore as S

STATS = calibration_stats([-3.0, -1.0, -0.5, 0.0, 0.2, 0.9, 1.5, 4.0])
HIT = {"rule": "empty_reply", "points": -100.0}


def repo(**kw: object) -> RepoCombiner:
    return RepoCombiner(RepoConfig(rm="rm", rules=["rules"], **kw))  # type: ignore[arg-type]


def test_a_signed_rm_lets_a_penalised_reply_outrank_a_clean_one_and_a_positive_scale_does_not() -> None:
    # raw RM: the clean reply scores slightly negative, the hacked one positive with a full penalty
    raw = {"rm": [S(value=-0.2), S(value=1.5)], "rules": [S(value=0.0), S(value=-100.0)]}
    clean, hacked = (c.reward for c in repo().combine([None, None], raw))
    assert hacked == 0.0 and clean is not None and clean < hacked  # the hole REPO has on a signed scale
    pos = Normalizer.from_calibration(STATS, "positive_quantile", floor=0.1)
    scaled = {"rm": [S(value=pos(-0.2)), S(value=pos(1.5))], "rules": raw["rules"]}
    clean, hacked = (c.reward for c in repo().combine([None, None], scaled))
    assert clean is not None and hacked is not None and clean > hacked


@given(
    raw=st.floats(-50, 50),
    floor=st.floats(0.01, 0.99),
    e=st.floats(-500, 500),
    method=st.sampled_from(["positive_quantile", "sigmoid"]),
)
def test_positive_scales_stay_in_floor_to_one_and_penalties_only_lower_the_reward(
    raw: float, floor: float, e: float, method: str
) -> None:
    norm = Normalizer.from_calibration(STATS, method, floor=floor)  # type: ignore[arg-type]
    r_rm = norm(raw)
    assert norm.positive and floor <= r_rm <= 1.0
    scores = {"rm": [S(value=r_rm)] * 2, "rules": [S(value=0.0), S(value=min(e, 0.0))]}
    rewards = [c.reward for c in repo().combine([None, None], scores)]
    assert rewards[1] <= rewards[0] and 0.0 <= rewards[1]


def test_positive_quantile_is_monotone_and_sigmoid_does_not_overflow() -> None:
    norm = Normalizer.from_calibration(STATS, "positive_quantile", floor=0.5)
    values = [norm(x) for x in (-10, -3, -0.7, 0.1, 1.0, 3.9, 10)]
    assert values == sorted(values) and values[0] == 0.5 and values[-1] == 1.0
    assert sigmoid(-1e6) == 0.0 and sigmoid(1e6) == 1.0
    assert Normalizer(method="sigmoid", floor=0.2)(0.0) == pytest.approx(0.6)


@given(r_rm=st.floats(0.01, 1.0), e_judge=st.floats(-50, 50), e_rules=st.floats(-1000, 0))
def test_a_vetoed_reply_sits_below_every_reward_the_formula_gives(r_rm: float, e_judge: float, e_rules: float) -> None:
    comb = RepoCombiner(RepoConfig(rm="rm", judge=["judge"], rules=["rules"], veto=["empty_reply"]))
    scores = {
        "rm": [S(value=r_rm), S(value=1.0)],
        "judge": [S(value=e_judge), S(value=50.0)],
        "rules": [S(value=e_rules), S(value=-100.0, details={"hits": [HIT]})],
    }
    clean, vetoed = comb.combine([None, None], scores)
    assert vetoed.reward == -1.0 and clean.reward is not None and clean.reward > vetoed.reward
    assert vetoed.details["veto"] == ["empty_reply"] and vetoed.details["unvetoed"] is not None
    assert {"E", "E_judge", "E_rules"} <= set(vetoed.details)  # the breakdown is kept for rows and reports


def test_veto_default_without_rm_and_explicit_value() -> None:
    scores = {"rules": [S(value=-500.0), S(value=-100.0, details={"hits": [HIT]})]}
    no_rm = RepoCombiner(RepoConfig(rules=["rules"], veto=["empty_reply"]))
    assert [c.reward for c in no_rm.combine([None, None], scores)] == [-1.0, -2.0]
    custom = RepoCombiner(RepoConfig(rules=["rules"], veto=["empty_reply"], veto_reward=-7.5))
    assert custom.combine([None, None], scores)[1].reward == -7.5


def test_veto_names_must_be_rules() -> None:
    spec = {
        "sources": {"rules": {"type": "rules", "rules": ["cot_leak"]}},
        "combiner": {"type": "repo", "veto": ["nope"]},
    }
    with pytest.raises(ConfigError, match=r"combiner\.veto.*unknown rule"):
        load(spec)


def test_scale_of_each_normalize_setting_and_its_validation() -> None:
    def scale(normalize: object) -> str:
        return RMConfig(path="rm", normalize=normalize).scale()  # type: ignore[arg-type]

    assert scale("none") == "raw"
    assert scale({"mean": 0.0, "std": 1.0}) == "signed"
    assert scale("rm/calibration.json") == "signed"
    assert scale({"file": "c.json", "method": "quantile"}) == "signed"
    assert scale({"file": "c.json", "method": "positive_quantile"}) == "positive"
    assert scale({"method": "sigmoid"}) == scale("sigmoid") == "positive"
    assert CalibrationRef(file="c.json", method="positive_quantile").positive_floor == 0.1
    for bad, msg in (
        ({"method": "quantile"}, "needs a calibration file"),
        ({"file": "c.json", "method": "zscore", "floor": 0.2}, "floor applies"),
        ({"file": "c.json", "method": "positive_quantile", "floor": 0.0}, "floor > 0"),
        ({"file": "c.json", "method": "positive_quantile", "floor": 1.0}, "less than 1"),
    ):
        with pytest.raises(ValueError, match=msg):
            CalibrationRef.model_validate(bad)


def _spec(tmp_path: Path, normalize: object, combiner: dict[str, object]) -> Path:
    rm = {"type": "rm", "path": "rm", "normalize": normalize}
    spec = {"sources": {"rm": rm, "rules": ["cot_leak"]}, "combiner": combiner}  # the rule a gate names
    path = tmp_path / "spec.yaml"
    path.write_text(json.dumps(spec))  # JSON is YAML
    return path


@pytest.mark.parametrize(
    ("normalize", "combiner", "warned"),
    [
        ("none", {"type": "repo"}, "normalize: none"),
        ("rm/calibration.json", {"type": "repo"}, "signed scale"),
        ({"file": "rm/calibration.json", "method": "positive_quantile"}, {"type": "repo"}, None),
        ("sigmoid", {"type": "repo"}, None),
        ("none", {"type": "gate", "rules": ["cot_leak"], "inner": {"type": "repo"}}, "normalize: none"),
        ("none", {"type": "weighted_sum"}, None),
    ],
)
def test_validate_warns_when_repo_sits_on_an_unnormalised_rm(
    tmp_path: Path, normalize: object, combiner: dict[str, object], warned: str | None
) -> None:
    path = _spec(tmp_path, normalize, combiner)
    (tmp_path / "rm").mkdir()  # validate checks that the RM folder the spec names holds a model config
    (tmp_path / "rm" / "config.json").write_text('{"model_type": "llama", "num_labels": 1}')
    quantiles = {str(q): q - 0.5 for q in (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)}
    (tmp_path / "rm" / "calibration.json").write_text(json.dumps({"mean": 0.0, "std": 1.0, "quantiles": quantiles}))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.output
    assert ": ok" in res.output
    warnings = [line for line in res.output.splitlines() if line.startswith("warning:")]
    if warned is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and warned in warnings[0] and "sources.rm.normalize" in warnings[0]
        assert "positive_quantile" in warnings[0]
    assert len(rm_scale_warnings(load(path))) == (warned is not None)


def test_every_turn_row_carries_the_repo_breakdown() -> None:
    from repo_sdk.pipeline import RewardPipeline
    from repo_sdk.scoring import score_dialogues
    from repo_sdk.testing import make_dialogue

    spec = {
        "sources": {"rules": {"type": "rules", "rules": ["cot_leak", "empty_reply"]}},
        "combiner": {"type": "repo", "veto": ["empty_reply"]},
    }
    turns_in = [("user", "Hi"), ("assistant", "Deal at 90."), ("user", "?"), ("assistant", "<think>x</think>Ok")]
    dialogue = make_dialogue([*turns_in, ("user", "Hello?"), ("assistant", "...")])
    with RewardPipeline.from_spec(spec) as pipe:
        turns = [r for r in score_dialogues(pipe, [dialogue]) if r["kind"] == "turn"]
    assert [r["reward"] for r in turns] == [0.0, -0.1, -2.0]
    for row in turns:
        assert {"E", "E_judge", "E_rules", "multiplier"} <= set(row["combiner"]), row["combiner"]
    assert [r["combiner"]["E_rules"] for r in turns] == [0.0, -10.0, -100.0]
    assert turns[2]["combiner"]["veto"] == ["empty_reply"] and turns[2]["combiner"]["unvetoed"] == -1.0
