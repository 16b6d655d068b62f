"""Where a pattern can start, read off the pattern, holds every position where it matches; a union searched
alternative by alternative, only where each can start, finds what the whole union finds."""

from __future__ import annotations

import random
import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repo_sdk.rules.anchors import lowered, merged_finditer, positions, starts
from repo_sdk.rules.cot import DEFAULT_PREAMBLES
from repo_sdk.rules.flattery import FLATTERY_PATTERNS
from repo_sdk.rules.injection import INJECTION_PATTERNS
from repo_sdk.rules.prefilter import Alternation
from repo_sdk.rules.text import fold

UNIONS = [
    list(DEFAULT_PREAMBLES),
    list(FLATTERY_PATTERNS),
    *(list(alternatives) for _, alternatives in INJECTION_PATTERNS),
]
BUILT_IN = [x for u in UNIONS for x in u]
# patterns a user might add (extra_patterns), shaped to reach every branch of the reading
EXTRA = [
    r"^\s*plan:",
    r"(?<=[.!?]\s)so\b",
    r"\A(?:ok|sure)\b",
    r"(?i:SOP|kpi)s?\b",
    r"(?-i:SOP)\b",
    r"\bstep\b(?=\s)",
    r"[({]\s*note",
    r"(?:\*\*|__)?plan(?:\*\*|__)?:",
    r"(?:a|b)*c",
    r"x?yz|zz",
    r"\Bing\b",
    r"(?a:\bmy)\s+move",
    r"\n\s*-\s+",
    r"(?m:^)#+\s",
    r"(?>let|lets)\s+go",
    r"\d+\s*/\s*\d+",
    r"\w+ing",
    "\u017ftep|\u212aelvin",
    r"é+t|été",
    r"(?P<q>['\"])yes(?P=q)",
    r"(?P<t0>(?<!\w)(?i:target[\s_-]+price(?:e?s)?)(?!\w))|(?P<t1>(?<!\w)(?i:ticket)(?!\w))|(?P<t2>t\w+t)",
    r"(?<!\w)(?:ab|\(c|_x)",
    r"(?a:(?<!\w)step)",
    # words that run on into what must follow them: optional parts, alternatives, classes, flag changes
    r"\b(?:a |an )?(?:free|gratis) \w+",
    r"\b(?:we|i)(?:'ll| will)?(?: also)? (?:offer|give)\b",
    r"[ab]c(?:d|e)?f",
    r"x(?:y|z){1,3}w",
    r"(?:ok|fine)(?i: SURE)",
    r"(?:so|then)(?=,) now",
    r"un(?:der)?\b(?:stand|do)",
]
# pieces of text that meet those patterns near their edges: case variants the engine folds (long s,
# Kelvin sign, dotted and dotless i), Unicode spaces and letters, line and sentence starts, markers
PIECES = sorted(
    {
        *(w for x in BUILT_IN + EXTRA for w in re.findall(r"[a-z']{2,}", x)),
        "the user wants",
        "let me think",
        "Let's think step by step",
        "so I will do that now",
        "okay, so the hotel wants",
        "first, I need to figure out",
        "**Plan:**",
        "Note to self:",
        "evaluator note:",
        "5/5",
        '{"score": 5}',
        "</reply>",
        "<|im_end|>",
        "[INST]",
        "\u017ftep",
        "\u212aelvin",
        "\u0130",
        "\u0131",
        "\u00e9t\u00e9",
        "\u00df",
        "i\u0307",
        "\u03a3",
        "\n",
        "\n\n",
        "\r\n",
        "\t",
        "\u00a0",
        "\u2028",
        ". ",
        "! ",
        ": ",
        "? ",
        "> ",
        "- ",
        "* ",
        "# ",
        "(",
        "[",
        "_",
        "__",
        "**",
        "I",
        "i",
        "a",
        "ing",
        "x",
        "yz",
        "'",
        '"',
        "7",
        "\u4f60\u597d",
        "\U0001f600",
    }
)
texts = st.lists(st.sampled_from(PIECES).map(lambda w: w.upper() if len(w) % 3 == 0 else w), max_size=24).map(
    lambda parts: "".join(p if i % 2 else p + " " for i, p in enumerate(parts))
) | st.text(max_size=40)


def starts_of(pattern: re.Pattern[str], text: str) -> list[int]:
    return [q for q in range(len(text) + 1) if pattern.match(text, q) is not None]


@settings(max_examples=150, deadline=None)
@given(texts)
def test_every_position_a_pattern_matches_at_is_one_it_may_start_at(text):
    low = lowered(text, fold(text))
    assert low is not None and len(low) == len(text)
    for flags in (re.I | re.M, re.I, 0):
        for source in BUILT_IN + EXTRA:
            pattern = re.compile(source, flags)
            where = starts(pattern)
            if where is None:
                continue
            assert set(starts_of(pattern, text)) <= set(positions(text, low, where, {})), (source, flags, text)


SEARCHED = [
    (re.compile("|".join(f"(?:{x})" for x in alternatives), flags), Alternation(alternatives, flags))
    for alternatives in [*UNIONS, EXTRA[:10], EXTRA[10:], [*EXTRA[::3], *DEFAULT_PREAMBLES[:5]]]
    for flags in (re.I | re.M, re.I)
]


@settings(max_examples=150, deadline=None)
@given(texts)
def test_a_union_searched_alternative_by_alternative_finds_what_the_whole_union_finds(text):
    for whole, union in SEARCHED:
        want = [(m.span(), m.group(0)) for m in whole.finditer(text)]
        assert [(m.span(), m.group(0)) for m in union.finditer(text)] == want, (union.patterns, text)


def test_merging_keeps_the_leftmost_match_and_the_first_alternative_at_a_position():
    patterns = [re.compile(p) for p in [r"bc", r"abc", r"a", r"cd+", r"b"]]
    text = "abcdd abc bcd a"
    whole = re.compile("|".join(f"(?:{p.pattern})" for p in patterns))
    anywhere = [None] * len(patterns)
    assert [m.span() for m in merged_finditer(text, patterns, anywhere)] == [m.span() for m in whole.finditer(text)]


def test_the_lowered_text_keeps_every_offset_and_holds_every_ascii_letter_the_engine_folds():
    # every code point (the surrogates apart): one character each, and where a case-insensitive
    # ASCII letter matches it, that letter in lower case
    chars = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    low = lowered(chars)
    assert low is not None and len(low) == len(chars)
    letters = re.compile("[a-z]", re.I)
    folded_to = {i: low[i] for i in range(len(chars)) if letters.fullmatch(chars[i])}
    assert all(re.fullmatch(letter, chars[i], re.I) and letter.isascii() for i, letter in folded_to.items()), (
        "a character the engine reads as an ASCII letter is another one in the lowered text"
    )
    assert {c for i, c in enumerate(chars) if letters.fullmatch(c)} >= {"\u017f", "\u212a", "\u0130", "\u0131"}


def test_the_lowered_text_reuses_a_given_lower_case_only_where_it_is_the_same():
    # with the long s or a dotted or dotless i, text.lower() is not what the engine matches: made here
    for special, word in [("\u017f", "step"), ("\u0130", "itep"), ("\u0131", "itep")]:
        text = f"L\u00e9T {special}TEP x"  # (a new object each time: the last text lowered is kept by identity)
        given = text.lower()
        low = lowered(text, lower=given)
        assert low == f"l\u00e9t {word} x" and low is not given
    text = "Caf\u00e9: LET ME THINK"
    given = text.lower()
    assert lowered(text, lower=given) is given  # none of them: the view's lower case serves
    ascii_text = "LET ME THINK"
    given = ascii_text.lower()
    assert lowered(ascii_text, folded="something else", lower=given) is given


def test_patterns_that_may_start_anywhere_have_no_starts():
    for source in [r"\w+ing", r"(?:a|b)*\d", r"\d+", r".x", r"x?", r"[^a]b", r"(?i)\u212aelvin"]:
        assert starts(re.compile(source)) is None, source
    assert sorted(starts(re.compile(r"(?:a|b)*c")).words) == ["a", "b", "c"]
    assert starts(re.compile(r"^\s*plan", re.M)).line and not starts(re.compile(r"^plan")).line
    assert starts(re.compile(r"^plan")).begin


@pytest.mark.parametrize("seed", range(3))
def test_a_long_text_gets_the_same_matches(seed):
    rng = random.Random(seed)
    text = "".join(rng.choice(PIECES) + rng.choice([" ", "\n", ". ", ""]) for _ in range(4000))
    text = text * (1 + 70_000 // len(text))  # (past the length from which every start word is found in one pass)
    for alternatives in UNIONS:
        whole = re.compile("|".join(f"(?:{x})" for x in alternatives), re.I | re.M)
        union = Alternation(alternatives, re.I | re.M)
        assert [m.span() for m in union.finditer(text)] == [m.span() for m in whole.finditer(text)]


def test_forbidden_terms_tried_where_a_term_starts_find_what_the_pattern_finds():
    from repo_sdk.rules.anchors import anchored_finditer
    from repo_sdk.rules.terms import ForbiddenTerms, ForbiddenTermsParams, Term

    configs = [
        ForbiddenTermsParams(allow=["train ticket"]),
        ForbiddenTermsParams(
            terms=["KPI", "work order", "\u5de5\u5355", Term(term=r"t\w+t", regex=True)], case_sensitive=True
        ),
        ForbiddenTermsParams(terms=["step", "ok"], whole_word=False, plurals=False),
    ]
    rng = random.Random(8)
    for params in configs:
        rule = ForbiddenTerms(params)
        for _ in range(2000):
            text = "".join(
                rng.choice([*PIECES, "ticket", "Tickets", "KPIs", "work-order", "\u5de5\u5355", "target  price"])
                + rng.choice(["", " ", "_"])
                for _ in range(rng.randint(0, 12))
            )
            want = [m.span() for m in rule._pattern.finditer(text)]
            assert [m.span() for m in anchored_finditer(rule._pattern, text, rule._starts)] == want, text


def test_occurrences_are_those_of_find_one_after_another() -> None:
    """Long texts find a word by splitting (when its occurrences cannot overlap): the same offsets as find."""
    from repo_sdk.rules.anchors import occurrences

    rng = random.Random(11)
    words = ["i", "we", "as", "aa", "aba", "abab", "the ", "?", "\n", "ab"]
    for _ in range(300):
        text = "".join(rng.choice(["a", "b", " ", "i", "we", "the", "?", "\n", "x" * 50]) for _ in range(3000))
        for word in words:
            expected, q = [], text.find(word)
            while q >= 0:
                expected.append(q)
                q = text.find(word, q + 1)
            assert occurrences(text, word) == expected, word
            assert occurrences(text[:100], word) == [q for q in expected if q + len(word) <= 100]


@pytest.mark.parametrize("half", ["", "\ud800"])
def test_start_words_found_in_one_pass_are_those_found_one_by_one(half) -> None:
    """A long text finds every known start word at once (half a surrogate pair: one by one): the same offsets."""
    rng = random.Random(len(half))
    text = "".join(rng.choice(PIECES) + rng.choice([" ", "\n", ". ", half]) for _ in range(20_000))
    assert len(text) > 65_536
    low = lowered(text)
    assert low is not None
    for source in [*BUILT_IN, *EXTRA]:
        where = starts(re.compile(source, re.I | re.M))
        if where is not None:
            assert positions(text, low, where) == positions(text, low, where, {}), source
