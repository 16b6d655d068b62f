"""The pack as a whole: registration, specs, the rules source, docstring examples, and robustness."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import repo_sdk.rules
from repo_sdk.config import parse_spec
from repo_sdk.interfaces import Rule
from repo_sdk.plugins import get_registry
from repo_sdk.rules import BUILTIN_RULES
from repo_sdk.sources.rules_source import RulesSource
from repo_sdk.testing import make_sample
from repo_sdk.types import Turn

NAMES = {
    "forbidden_terms",
    "cot_leak",
    "mixed_script",
    "repetition",
    "max_length",
    "empty_reply",
    "judge_injection",
    "flattery",
    "padding",
    "format_breakage",
    "numeric_consistency",
}

FULL_SPEC = {
    "sources": {
        "rules": [
            {"name": "forbidden_terms", "terms": ["ticket", {"term": "KPI", "case_sensitive": True}], "points": -20},
            {"name": "cot_leak", "extra_patterns": ["^note to self"]},
            {"name": "mixed_script", "primary": "latin", "allowed": ["cjk"]},
            {"name": "repetition", "threshold": 0.9, "metric": "jaccard"},
            {"name": "max_length", "max_chars": 400, "max_words": 80, "max_sentences": 6},
            {"name": "format_breakage", "numbered": True, "json_objects": False},
            {
                "name": "numeric_consistency",
                "fields": ["current_price", "target_price"],
                "min_field": "target_price",
                "max_field": "current_price",
                "only_currency": False,
                "history_roles": ["user"],
            },
        ]
    }
}


def test_builtin_rules_are_registered() -> None:
    registry = get_registry()
    assert {cls.name for cls in BUILTIN_RULES} == NAMES
    for cls in BUILTIN_RULES:
        assert registry.rules[cls.name].obj is cls
        assert registry.rules[cls.name].package == "repo-sdk"
        assert cls.description and cls.__doc__ and ">>>" in cls.__doc__


def test_params_forbid_extra_keys_and_describe_every_field() -> None:
    for cls in BUILTIN_RULES:
        assert cls.Config.model_config.get("extra") == "forbid", cls.name
        for name, field in cls.Config.model_fields.items():
            assert field.description, f"{cls.name}.{name} has no description"


def test_short_and_full_specs_validate() -> None:
    short = parse_spec({"sources": {"rules": sorted(NAMES)}})
    assert short.sources["rules"].params["rules"] == sorted(NAMES)
    full = parse_spec(FULL_SPEC)
    names = [r["name"] for r in full.sources["rules"].params["rules"]]
    assert names == [r["name"] for r in FULL_SPEC["sources"]["rules"]]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"name": "forbidden_terms", "wholeword": True}, "sources.rules.rules[0].wholeword: unknown key"),
        ({"name": "mixed_script", "primary": "klingon"}, "sources.rules.rules[0].primary"),
        ({"name": "repetition", "threshold": 2}, "sources.rules.rules[0].threshold"),
        ({"name": "numeric_consistency", "min_value": 5, "max_value": 1}, "must not exceed"),
        ({"name": "forbidden_terms", "terms": [{"term": "(", "regex": True}]}, "invalid regular expression"),
    ],
)
def test_bad_params_name_the_key(rule: dict[str, object], message: str) -> None:
    with pytest.raises(Exception, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_spec({"sources": {"rules": [rule]}})


def test_rules_source_sums_the_pack() -> None:
    source = RulesSource.build(sorted(NAMES))
    sample = make_sample(
        response="<think>x</think>\n## Offer\nYour ticket: we pay €95. 谢谢",
        task={"current_price": 100, "target_price": 80},
    )
    [score] = source.score([sample])
    fired = sorted(h.rule for h in score.details["hits"])
    assert fired == ["cot_leak", "forbidden_terms", "format_breakage", "mixed_script", "numeric_consistency"]
    assert score.value == pytest.approx(-10 - 5 - 10 - 10 - 10)
    clean = make_sample(response="Hi! Could we talk about the twin room at 80 EUR?", task={"target_price": 80})
    assert source.score([clean])[0].value == 0.0


def _rule_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(repo_sdk.rules.__path__, "repo_sdk.rules."))


@pytest.mark.parametrize("module", ["repo_sdk.rules", *_rule_modules()])
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def _all_rules() -> list[Rule]:
    rules: list[Rule] = [cls() for cls in BUILTIN_RULES]
    rules.append(repo_sdk.rules.FormatBreakage(repo_sdk.rules.FormatBreakageParams(numbered=True, min_list_items=1)))
    rules.append(repo_sdk.rules.MaxLength(repo_sdk.rules.MaxLengthParams(max_chars=5, max_words=2, max_sentences=1)))
    rules.append(
        repo_sdk.rules.NumericConsistency(
            repo_sdk.rules.NumericConsistencyParams(min_value=1, max_value=2, plain_min=0, history_roles=["user"])
        )
    )
    rules.append(repo_sdk.rules.MixedScript(repo_sdk.rules.MixedScriptParams(primary="cyrillic", min_letters=1)))
    rules.append(repo_sdk.rules.Repetition(repo_sdk.rules.RepetitionParams(min_tokens=1, threshold=0.5)))
    return rules


RULES = _all_rules()
# arbitrary unicode, mixed with pieces that make the rules' patterns match
TEXT = st.lists(
    st.one_of(
        st.text(max_size=8),
        st.sampled_from(list("0123456789.,-€$¥元 \n*#`|[](){}<>\"'“”（）【】:;%/")),  # noqa: RUF001
        st.sampled_from(["<think>", "</think>", "ticket", "80", "1,200", "EUR", "May ", "the user wants", "**", "```"]),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(response=TEXT, earlier=TEXT, price=st.one_of(st.none(), st.integers(0, 10_000), st.floats(allow_nan=True)))
def test_rules_never_raise_and_spans_stay_in_the_reply(response: str, earlier: str, price: float | None) -> None:
    sample = make_sample(
        response=response,
        task={"current_price": price, "target_price": 80, "currency": "EUR"},
        history=[Turn(role="assistant", content=earlier), Turn(role="user", content=earlier)],
    )
    for rule in RULES:
        for hit in rule.check(sample):
            assert hit.rule == rule.name and hit.points == rule.points
            assert hit.span is not None
            start, end = hit.span
            assert 0 <= start <= end <= len(response)
            piece = response[start:end]
            assert hit.evidence == piece or (len(piece) > 200 and hit.evidence == piece[:199] + "…")
