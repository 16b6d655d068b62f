"""Prefilters never skip a text a pattern matches, and a union searched with the alternatives a text may match
finds what the whole union finds; fast JSON lines read back as the standard library's."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from repo_sdk.io.fastjson import dumps_line, loads
from repo_sdk.rules.cot import DEFAULT_PREAMBLES
from repo_sdk.rules.flattery import FLATTERY_PATTERNS
from repo_sdk.rules.injection import INJECTION_PATTERNS
from repo_sdk.rules.prefilter import Alternation, Prefilter
from repo_sdk.rules.text import fold
from repo_sdk.scoring import hit_row
from repo_sdk.types import RuleHit

UNIONS = [list(FLATTERY_PATTERNS), *(list(alternatives) for _, alternatives in INJECTION_PATTERNS)]
PATTERNS = [re.compile(p, re.I | re.M) for p in [*DEFAULT_PREAMBLES, *(x for u in UNIONS for x in u)]] + [
    re.compile(r"(?-i:SOP|KPI)s?\b|\bwork[- ]?orders?\b", re.I),
    re.compile(r"\d+ (?:euros?|EUR)\b"),
    re.compile(r"(?:ab)+c|x{2,}y?z"),
    re.compile(r"(?P<t0>(?<!\w)(?i:target[\s_-]+price(?:e?s)?)(?!\w))|(?P<t1>(?<!\w)(?i:ticket)(?!\w))|(?P<t2>t\w+t)"),
]
WORDS = sorted(
    {w for p in PATTERNS for g in Prefilter(p).needs for w in g} | {"\u0130", "\u017f", "\u212a", " ", ".", "\n", ":"}
)
WORDS += ["you are", "your team is", "the best", "truly", "I have ever met", "5", "/", "{", "<", ">", "|", "'"]
pieces = st.sampled_from(WORDS).map(lambda w: w.upper() if len(w) % 2 else w) | st.text(max_size=3)


@settings(max_examples=400, deadline=None)
@given(st.lists(pieces, max_size=14).map(" ".join))
def test_a_skipped_text_has_no_match(text):
    folded = fold(text)
    for pattern in PATTERNS:
        if not Prefilter(pattern).may_match(folded):
            assert pattern.search(text) is None, (pattern.pattern, text)


@settings(max_examples=300, deadline=None)
@given(st.lists(pieces, max_size=20).map(" ".join))
def test_a_union_of_the_alternatives_a_text_may_match_finds_what_the_whole_union_finds(text):
    for alternatives in UNIONS:
        whole = re.compile("|".join(f"(?:{x})" for x in alternatives), re.I | re.M)
        union = Alternation(alternatives, re.I | re.M)
        assert [m.span() for m in union.finditer(text)] == [m.span() for m in whole.finditer(text)], text


@settings(max_examples=300, deadline=None)
@given(st.lists(pieces, max_size=14).map(" ".join))
def test_a_prefilter_answers_as_its_substring_tests(text):
    # the words of every pattern are found in one pass over the text and looked up: the same answers
    filters = [Prefilter(p) for p in PATTERNS]
    alone = [all(any(w in fold(text) for w in g) for g in f.needs) for f in filters]
    assert [f.may_match(fold(text)) for f in filters] == alone, text


def test_prefilter_reads_the_words_off_the_pattern():
    p = Prefilter(re.compile(r"\blet me think\b|step[- ]by[- ]step", re.I))
    assert p.may_match(fold("LET ME THINK")) and p.may_match("step by step") and not p.may_match("let us go")
    assert Prefilter(re.compile(r"\w+")).needs == []  # nothing literal: every text may match


def test_fast_json_lines_round_trip_like_the_standard_library():
    row = {"a": [1, 2.5, None, True], "span": (3, 4), "text": "é 你好 \u2028", "big": 2**70, 1: "int key"}
    assert json.loads(dumps_line(row)) == json.loads(json.dumps(row, ensure_ascii=False))
    assert loads(b'{"x": 1}') == {"x": 1} and loads('{"x": NaN}')["x"] != 0
    try:
        loads("{bad")
    except json.JSONDecodeError as exc:
        assert exc.msg and exc.colno == 2
    else:  # pragma: no cover
        raise AssertionError("malformed JSON must raise JSONDecodeError")


def test_hit_rows_are_the_model_dump():
    hit = RuleHit(rule="r", points=-5.0, reason="why", span=(1, 2), evidence="x", turn_index=3)
    assert hit_row(hit) == hit.model_dump()
    assert list(hit_row(hit)) == list(RuleHit.model_fields)  # a new field must reach the rows too


def test_half_a_surrogate_pair_keeps_every_rule_reading_the_text() -> None:
    """Such a string is not UTF-8, which the automata take: the rules fall back to their substring tests."""
    from repo_sdk.pipeline import RewardPipeline
    from repo_sdk.rules import CotLeak
    from repo_sdk.rules.text import extract_numbers
    from repo_sdk.testing import make_sample

    for half in ("\ud800", "\udc00"):
        reply = f"<think>the user wants a deal{half}</think> Let me think step by step. On May 3 we pay 80 EUR{half}."
        plain = reply.replace(half, "")
        found = [h.reason for h in CotLeak().check(make_sample(response=reply))]
        assert len(found) == 2 and found == [h.reason for h in CotLeak().check(make_sample(response=plain))]
        assert [m.kind for m in extract_numbers(reply)] == ["date", "money"]
    rules = ["cot_leak", "repetition", "mixed_script", "format_breakage", "flattery", "padding", "judge_injection"]
    with RewardPipeline.from_spec({"sources": {"rules": rules}}) as pipe:
        result = pipe.score([make_sample(response="<think>plan\ud800</think> You are a genius! 80 EUR?")])[0]
    assert result.sources["rules"].value is not None, result.sources["rules"].reason
