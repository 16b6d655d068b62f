"""The shortcuts the built-in rules take for speed find exactly what the plain searches find."""

from __future__ import annotations

import functools
import random
import re

from repo_sdk.rules import text
from repo_sdk.rules.codes import encode
from repo_sdk.rules.views import TextView


def _protected_by_offset(t: str) -> dict[int, tuple[int, str]]:
    """The plain way: every offset of every date, time and phone number, the furthest end kept."""
    cover: dict[int, tuple[int, str]] = {}
    patterns: list[tuple[re.Pattern[str], str]] = [(text._DATES, "date"), (text._TIMES, "time")]
    patterns += [(p, "identifier") for p in text._PHONES]
    if re.search("jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec", t.lower()):
        patterns.append((text._MONTH_DATES, "date"))
    for pattern, kind in patterns:
        for m in pattern.finditer(t):
            for i in range(m.start(), m.end()):
                if i not in cover or cover[i][0] < m.end():
                    cover[i] = (m.end(), kind)
    return cover


def random_texts(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    pieces = [
        "2024-05-01",
        "14:00",
        "3 pm",
        "May 3",
        "3rd of June",
        "+33 1 23 45 67 89",
        "555-123-4567",
        "12/05",
        "room",
        "No.",
        "# ",
        "#",
        "confirmation",
        "80",
        "1,200.50",
        "€",
        " ",
        "\n",
        "-",
        "at",
        "x",
        "10",
        "MAY 3",
        "dismay",
        "Sept. 4th",
        "Dec 31 - Jan 2, 2025",
        "\u017fep 1",
        "mar",
        "k",
    ]
    return [
        "".join(rng.choice(pieces) + rng.choice(["", " ", "  "]) for _ in range(rng.randint(0, 14))) for _ in range(n)
    ]


def test_protected_spans_swept_once_are_the_offsets_covered() -> None:
    for t in random_texts(0, 4000):
        plain = _protected_by_offset(t)
        swept = text._Protected(t)
        assert [swept.at(i) for i in range(len(t) + 1)] == [plain.get(i) for i in range(len(t) + 1)], t


def test_identifier_marker_searched_near_the_end_is_the_plain_search() -> None:
    for t in random_texts(1, 20000):
        before = t[-24:]
        assert text._ident_before(before) == (text._IDENT_BEFORE.search(before) is not None), before


def test_sentence_end_pattern_finds_what_the_written_alternation_finds() -> None:
    written = re.compile(rf"[.!?\u2026]+(?={text._CLOSERS}(?:\s|$)){text._CLOSERS}|[\u3002\uff01\uff1f]+|\n")
    rng = random.Random(2)
    for _ in range(30000):
        t = "".join(rng.choice("ab .!?\u2026\"')]\n\u3002\uff01\uff1f x") for _ in range(rng.randint(0, 30)))
        assert [m.span() for m in text._SENTENCE_END.finditer(t)] == [m.span() for m in written.finditer(t)]


def _sentences_chunk_by_chunk(t: str) -> list[tuple[int, int]]:
    """The plain way: the text cut after each sentence end, each piece stripped, empty pieces dropped."""
    out, pos = [], 0
    for end in [m.end() for m in text._SENTENCE_END.finditer(t)] + [len(t)]:
        chunk = t[pos:end]
        if chunk.strip():
            lead = pos + len(chunk) - len(chunk.lstrip())
            out.append((lead, lead + len(chunk.strip())))
        pos = end
    return out


def test_sentences_found_with_the_whitespace_after_their_ends_are_the_stripped_pieces() -> None:
    rng = random.Random(5)
    alphabet = "ab .!?\u2026\"')]\n\u3002\uff01\uff1f x\t\r\x1c\u00a0\u3000"
    for _ in range(50000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert text.split_sentences(t) == _sentences_chunk_by_chunk(t), t


def test_view_tokens_are_the_tokens_of_the_text_whichever_view_comes_first() -> None:
    rng = random.Random(3)
    words = [
        "Hi",
        "there.",
        "We",
        "can",
        "do",
        "80",
        "EUR!",
        "谢谢",
        "İstanbul",
        "ß",
        "déjà-vu",
        "a_b",
        "\n",
        "…",
        "ok好的x1.",
    ]
    for _ in range(3000):
        t = " ".join(rng.choice(words) for _ in range(rng.randint(0, 20)))
        first, second = TextView(t), TextView(t)
        assert first.tokens == text.tokenize(t)
        second.sentence_tokens  # noqa: B018 - the sentences first: the tokens are taken from them
        assert second.tokens == text.tokenize(t)
        assert [toks for _, toks in second.sentence_tokens] == [text.tokenize(t[a:b]) for a, b in second.sentences]
        assert first.tokens_code == second.tokens_code == encode(text.tokenize(t)) == "".join(second.sentence_codes)
    cjk_read = 0  # texts holding CJK that were read sentence by sentence, split where a sentence holds none
    same_length = [w for w in words if len(w.lower()) == len(w)]  # (else the tokens are read from the text)
    for _ in range(300):
        t = " ".join(rng.choice(same_length) for _ in range(rng.randint(50, 200)))
        view = TextView(t)
        cjk_read += view._cjk_apart is not None
        assert [toks for _, toks in view.sentence_tokens] == [text.tokenize(t[a:b]) for a, b in view.sentences]
        assert view.tokens == text.tokenize(t)
    assert cjk_read > 100


def test_token_gaps_blanked_split_anywhere_is_the_token_expression_there() -> None:
    from repo_sdk.rules.views import token_gaps_blanked

    rng = random.Random(4)
    # ASCII, accented and other-script letters, digits of other scripts, combining marks, emoji, dashes,
    # quotes, every kind of space str.split knows, control characters, CJK, a lone surrogate, underscores
    alphabet = list("aZ9_ .,!-'\t\n\x1c\x1f\x7f") + list(
        "éçßİКж٣\u0301\u200d😀—\u2019«\u00a0\u2028\u3000\u0085\ufeff\ud800€ⅷ²谢한ｱ"
    )
    blanked_some = 0
    for _ in range(20000):
        lower = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24))).lower()
        spaced = token_gaps_blanked(lower)
        if spaced is None:  # only for a text holding a token of one character (CJK; not halfwidth kana)
            assert "谢" in lower or "한" in lower, lower
            continue
        blanked_some += 1
        assert len(spaced) == len(lower)
        a, b = sorted(rng.randint(0, len(lower)) for _ in range(2))
        assert spaced.split() == text.TOKEN.findall(lower), lower
        assert spaced[a:b].split() == text.TOKEN.findall(lower, a, b), (lower, a, b)
    assert blanked_some > 10000
    long = "".join(rng.choice(alphabet) for _ in range(40_000)).lower().replace("谢", "x").replace("한", "y")
    assert token_gaps_blanked(long).split() == text.TOKEN.findall(long)  # type: ignore[union-attr]
    many_symbols = "".join(chr(0x2190 + i) + "a" for i in range(40))  # 40 kinds of arrow between words
    assert token_gaps_blanked(many_symbols) is None and TextView(many_symbols).tokens == ["a"] * 40


def test_closeness_by_bisection_is_closeness_one_by_one() -> None:
    from repo_sdk.rules.numeric import _close, close_to_any

    rng = random.Random(4)
    for _ in range(20000):
        values = sorted(
            rng.choice([80.0, 80.005, 79.99, 1e15, 0.0, 95.5, 100.0]) + rng.choice([0, 0.01, -0.01, 1e-12])
            for _ in range(rng.randint(0, 6))
        )
        value = rng.choice([80.0, 80.01, 79.98, 1e15 + 0.125, 0.01, 95.5, 100.02])
        tol = rng.choice([0.0, 0.01, 0.5])
        assert close_to_any(value, values, tol, 0.0) == any(_close(value, r, tol, 0.0) for r in values)


def _segments_run_by_run(t: str) -> list[tuple[str, int, int, int]]:
    """The plain way: every run of one script's letters, neighbouring runs of one script joined."""
    from repo_sdk.rules.script import SCRIPTS

    runs = re.compile("|".join(f"(?P<{name}>[{chars}]+)" for name, chars in SCRIPTS.items()))
    out: list[tuple[str, int, int, int]] = []
    script, start, end, letters = "", 0, 0, 0
    for m in runs.finditer(t):
        found, (a, b) = m.lastgroup or "", m.span()
        if found == script:
            end, letters = b, letters + b - a
            continue
        if letters:
            out.append((script, start, end, letters))
        script, start, end, letters = found, a, b, b - a
    if letters:
        out.append((script, start, end, letters))
    return out


def test_script_segments_in_one_match_each_are_the_runs_joined() -> None:
    from repo_sdk.rules.script import SCRIPTS, script_segments

    # letters of every script (the ends of each range too), and what lies between them
    letters = sorted({c for chars in SCRIPTS.values() for c in re.findall(r".-.|.", chars) for c in (c[0], c[-1])})
    between = [" ", "  ", "-", "'", "1", "!", "\n", "\u00d7", "\u3002", "\U0001f600", "\u0301", "_", "\u00b7"]
    rng = random.Random(7)
    for _ in range(3000):
        t = "".join(
            rng.choice(letters) * rng.randint(1, 3) if rng.random() < 0.6 else rng.choice(between)
            for _ in range(rng.randint(0, 30))
        )
        assert [(s.script, s.start, s.end, s.letters) for s in script_segments(t)] == _segments_run_by_run(t), t
    # mostly ASCII with a few other characters: a segment's non-ASCII characters are read one by one
    words = ["we", "can", "offer", "80", "EUR", "per", "night", "Tack", "x"]
    rare = ["\u00e9", "\u00fc", "\u0301", "\U0001f600", "\u00d7", "\ud800", "\u0416", "\u4f60", "\u01c5", "\u00df"]
    for _ in range(3000):
        pieces = [rng.choice(rare) if rng.random() < 0.06 else rng.choice(words) for _ in range(rng.randint(1, 60))]
        t = "".join(p + rng.choice([" ", ", ", "-", ""]) for p in pieces)
        assert [(s.script, s.start, s.end, s.letters) for s in script_segments(t)] == _segments_run_by_run(t), t
    # the classes of the scripts share no character: a segment never swallows another script's letter
    every = "".join(chr(c) for c in range(0x30000) if not 0xD800 <= c <= 0xDFFF)
    found = [{m.start() for m in re.finditer(f"[{chars}]", every)} for chars in SCRIPTS.values()]
    assert sum(map(len, found)) == len(set().union(*found))


def test_format_patterns_written_to_start_with_their_first_character_find_what_the_written_ones_find() -> None:
    from repo_sdk.rules import format as fmt

    written = {
        fmt._EMPHASIS: re.compile(
            r"\*\*(?=\S)[^*\n]{1,300}?(?<=\S)\*\*|(?<!\w)__(?=\S)[^_\n]{1,300}?(?<=\S)__(?!\w)"
            r"|(?<![*\w])\*(?=[^\s*])[^*\n]{1,300}?(?<=[^\s*])\*(?![*\w])"
        ),
        fmt._JSON_START: re.compile(r"[\[{]\s*[\"'][^\"'\n]{1,80}[\"']\s*:|\[\s*\{"),
    }
    rng = random.Random(4)
    for _ in range(30000):
        t = "".join(
            rng.choice(["*", "**", "_", "__", "a", "b c", " ", "\n", "{", "[", '"k"', "'", ":", "1"])
            for _ in range(rng.randint(0, 24))
        )
        for fast, plain in written.items():
            assert [m.span() for m in fast.finditer(t)] == [m.span() for m in plain.finditer(t)], (fast.pattern, t)


def test_format_finders_skipped_for_want_of_a_string_find_nothing() -> None:
    from repo_sdk.rules import format as fmt

    rng = random.Random(5)
    for _ in range(20000):
        t = "".join(
            rng.choice(["`", "``", "~~", "~", "-", "--", "|", " ", "\n", "[a]", "(b)", "](", "x", ":"])
            for _ in range(rng.randint(0, 24))
        )
        assert fmt._code(t) == fmt._spans(fmt._FENCE, t) + fmt._spans(fmt._INLINE_CODE, t), t
        assert fmt._tables(t) == [
            (t.rfind("\n", 0, max(0, m.start() - 1)) + 1, m.end()) for m in fmt._TABLE_RULE.finditer(t)
        ]
        assert ("](" in t) or not fmt._spans(fmt._LINK, t), t


def test_a_month_is_in_the_text_where_it_is_in_the_lower_cased_text() -> None:
    from repo_sdk.rules.text import _has_month

    rng = random.Random(6)
    pieces = ["MaY", "dEc", "ma", "y", "\u0130", "\u212a", "\u017f", "\u00df", "ep", "S", "jun", "x", " ", "\u0131"]
    for _ in range(20000):
        t = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        plain = re.search("jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec", t.lower()) is not None
        assert _has_month(t) is plain, t


NUMBER_PIECES = (
    "1 12 80 95 120 1995 2024 07 0 1,200 1.200,50 1.200.000 95.50 80,5 12k 1\u00a0200 \u0663 "
    "\u20ac $ US$ us$ HK$ A$ \u00a3 \u00a5 \uffe5 \u5143 EUR eur Eur USD RMB rmb chf cny euros dollars yuan "
    "% \uff05 percent per cent pct st nd rd th \u017ft \u017f \u212a k x 5G A380 "
    "nights rooms guests days km m\u00b2 sqm floor stars times double twin "
    "# No. no. N\u00b0 \u2116 room rm tel phone order booking ref code id flight gate apt suite "
    "- \u2013 ~ to at for price rate of per night each a / 2024-05-01 14:00 3pm May 3rd 5\u5e74 \u665a \u4eba "
    "in since year and or is"
).split(" ")


def number_texts(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    seps = [" ", " ", "", ", ", ". ", "\n", "\u00a0", "\u202f", "-", " - ", "  ", "\t"]
    return ["".join(rng.choice(NUMBER_PIECES) + rng.choice(seps) for _ in range(rng.randint(1, 20))) for _ in range(n)]


class _Everything:
    """A set holding everything: the guard it replaces lets every search run."""

    def __contains__(self, item: object) -> bool:
        return True


def test_numbers_read_with_the_guards_are_the_numbers_read_without(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    texts = number_texts(3, 6000)
    guarded = [text.extract_numbers(t) for t in texts]
    assert sum(map(len, guarded)) > 10000  # the texts hold numbers of every kind
    assert {m.kind for found in guarded for m in found} == {
        "money", "number", "percent", "date", "time", "count", "ordinal", "identifier"
    }  # fmt: skip
    for name in ("_PREFIX_LAST", "_PERCENT_FIRST", "_ORDINAL_FIRST", "_IDENT_LAST", "_IDENT_WORDS"):
        monkeypatch.setattr(text, name, _Everything())
    monkeypatch.setattr(text, "_may_count", lambda after: True)
    assert [text.extract_numbers(t) for t in texts] == guarded


def test_a_count_is_looked_for_only_where_its_unit_can_start() -> None:
    for t in number_texts(4, 20000):
        after = t[-40:]
        if text._COUNT.match(after):
            assert text._may_count(after), after
    assert text._may_count(" double rooms") and text._may_count("-\u212am") and not text._may_count(" and 2 or 3")


@functools.cache
def _ignoring_case(letters: str) -> frozenset[str]:
    """Every code point the regex engine matches to one of ``letters`` when case is ignored."""
    one = re.compile(f"(?i:[{letters}])")
    return frozenset(c for c in map(chr, range(0x110000)) if one.fullmatch(c))


def test_fold_takes_each_letter_matching_an_ascii_one_to_that_one() -> None:
    letters = "abcdefghijklmnopqrstuvwxyz"
    found = _ignoring_case(letters)
    assert {"\u017f", "\u212a", "\u0131", "\u0130"} <= found  # long s, Kelvin sign, dotless and dotted i
    for c in found:
        assert text.fold(c) in letters and re.fullmatch(f"(?i:{text.fold(c)})", c), repr(c)


def test_the_guards_hold_every_character_their_patterns_can_start_or_end_with() -> None:
    code_ends = "".join({code[-1] for code in text._CODES.split("|")})
    assert _ignoring_case(code_ends) | set("$\u20ac\u00a3\u00a5\uffe5") <= text._PREFIX_LAST
    assert _ignoring_case("p") | {"%", "\uff05"} <= text._PERCENT_FIRST
    assert _ignoring_case("sntr") <= text._ORDINAL_FIRST
    assert {unit.split("(")[0].rstrip("?s")[:2] for unit in text._UNITS.split("|")} <= text._UNIT_HEADS


def test_fenced_code_found_by_one_search_per_fence_is_what_the_fence_pattern_finds() -> None:
    from repo_sdk.rules.format import _FENCE, _fenced

    rng = random.Random(11)
    parts = ["```", "~~~", " ", "\t", "\n", "x", "py", "```\n", "\n```", "\n~~~ \n", "a b", "`", "\r\n"]
    for _ in range(20000):
        t = "".join(rng.choice(parts) for _ in range(rng.randint(0, 25)))
        assert _fenced(t) == [m.span() for m in _FENCE.finditer(t) if m.end() > m.start()], repr(t)
