"""What the core does for every plugin, whatever the plugin declares: max_hits on any rule,
unknown keys refused, a source REPO has no role for refused, points and values finite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from repo_sdk import ConfigError, RewardPipeline, RewardSource, Rule, SourceScore, hookimpl
from repo_sdk.cli import app
from repo_sdk.sources.rules_source import RulesSource
from repo_sdk.testing import make_dialogue, make_sample, register_plugin


class LooseParams(BaseModel):  # no extra="forbid", no max_hits: what a plugin author writes first
    word: str = "deal"


class EveryWord(Rule):
    """One hit per occurrence of a word."""

    name = "test.every_word"
    Params = LooseParams
    default_points = -5.0

    def check(self, sample):
        word = self.params.word
        return [self.hit(f"said {word}", evidence=word) for _ in range(sample.response.lower().count(word))]


class EachTurn(Rule):
    """A dialogue rule: one hit per word in every assistant turn."""

    name = "test.each_turn"
    scope = "dialogue"

    def check_dialogue(self, dialogue):
        return [
            self.hit("word", turn_index=i)
            for i, t in enumerate(dialogue.turns)
            if t.role == "assistant"
            for _ in t.content.split()
        ]


class Length(RewardSource):
    """A source that sets no kind."""

    name = "test.length"

    def score(self, samples):
        return [SourceScore(value=float(len(s.response))) for s in samples]


class Plugin:
    @hookimpl
    def register_rules(self, register):
        register(EveryWord)
        register(EachTurn)

    @hookimpl
    def register_sources(self, register):
        register(Length)


@pytest.fixture(autouse=True)
def plugin():
    with register_plugin(Plugin(), name="contract-plugin"):
        yield


def test_every_rule_takes_max_hits_whatever_its_params_declare() -> None:
    reply = make_sample(response="Deal? deal! DEAL, deal.")
    assert len(RulesSource.build(["test.every_word"]).check(reply)) == 4
    capped = RulesSource.build([{"name": "test.every_word", "max_hits": 2}]).score([reply])[0]
    assert capped.value == -10.0 and len(capped.details["hits"]) == 2
    # a built-in declares max_hits in its own params; both routes give the same cap
    cot = RulesSource.build([{"name": "cot_leak", "max_hits": 1}])
    assert cot.turn_rules[0].params.max_hits == 1 and cot.turn_rules[0].max_hits == 1


def test_max_hits_of_a_dialogue_rule_caps_each_turn() -> None:
    dialogue = make_dialogue([("user", "hi"), ("assistant", "a b c"), ("user", "ok"), ("assistant", "d e")])
    source = RulesSource.build([{"name": "test.each_turn", "max_hits": 2}])
    hits = source.score_dialogue(dialogue).details["hits"]
    assert [h.turn_index for h in hits] == [1, 1, 3, 3]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "test.every_word", "max_hits": 0}, "sources.rules.rules[0].max_hits: Input should be greater than"),
        ({"name": "test.every_word", "wrod": "no"}, "sources.rules.rules[0].wrod: unknown key"),
        (
            {"name": "test.every_word", "points": float("inf")},
            "sources.rules.rules[0].points: Input should be a finite",
        ),
    ],
)
def test_rule_entries_are_checked_for_every_rule(entry: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        RewardPipeline.from_spec({"sources": {"rules": [entry]}})


def test_unknown_source_keys_are_refused_though_the_model_would_ignore_them(tmp_path: Path) -> None:
    class LooseConfig(BaseModel):
        scale: float = 1.0

    class Scaled(Length):
        name = "test.scaled"
        kind = "rm"
        Config = LooseConfig

    class More:
        @hookimpl
        def register_sources(self, register):
            register(Scaled)

    with register_plugin(More(), name="more"):
        with pytest.raises(ConfigError, match=r"sources.rm.sclae: unknown key"):
            RewardPipeline.from_spec({"sources": {"rm": {"type": "test.scaled", "sclae": 2}}})


def test_a_source_without_kind_under_repo_is_a_validation_error(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  rules: [cot_leak]\n  length: test.length\ncombiner: {type: repo}\n")
    with pytest.raises(ConfigError, match="source 'length' has kind 'other', so the repo combiner gives it no role"):
        RewardPipeline.from_spec(spec)
    result = CliRunner().invoke(app, ["validate", str(spec)])
    assert result.exit_code == 1
    assert f"{spec}:4: combiner: source 'length' has kind 'other'" in result.output
    # named in a role, or under a combiner that uses every source, it counts
    for combiner in ("{type: repo, rm: length}", "{type: repo, judge: [length]}", "{type: weighted_sum}"):
        spec.write_text(f"sources:\n  rules: [cot_leak]\n  length: test.length\ncombiner: {combiner}\n")
        with RewardPipeline.from_spec(spec) as pipe:
            assert pipe.score([make_sample(response="hey")])[0].reward is not None
    listing = json.loads(CliRunner().invoke(app, ["plugins", "--json"]).output)
    assert "test.length" in {s["name"] for s in listing["sources"]}
