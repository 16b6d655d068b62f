"""The C part of the rules (repo_sdk/rules/native.c) finds what the Python it stands in for finds.

Each function against its Python reading: the regular expression or loop the rules use
where the module is not built, over every code point where a character class is involved
and over random texts drawn from the characters that matter. Then the whole pipeline: the
rows of generated logs scored with the module and without it (``REPO_SDK_PURE_PYTHON=1``
in a fresh interpreter) are the same bytes.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rapidfuzz.distance import Indel

from benchmarks.corpus import write_corpus
from benchmarks.rules_realistic import scaffold
from repo_sdk.rules import codes, script, text
from repo_sdk.rules.speedups import SPEEDUPS

C = SPEEDUPS  # the module itself (None where it is ignored or not built: the test below says which)
needs_c = pytest.mark.skipif(C is None, reason="the C part is not built or ignored (REPO_SDK_PURE_PYTHON)")

EVERY_CHARACTER = "".join(chr(c) + " " for c in range(0x110000))  # lone surrogates too: a str may hold them


def test_the_c_part_is_built_where_make_setup_ran() -> None:
    # a compiler is part of the project's machines: an install that silently lost the C part would run the
    # generic rules a third slower with nothing said
    if os.environ.get("REPO_SDK_PURE_PYTHON"):
        assert SPEEDUPS is None
    else:
        assert SPEEDUPS is not None, "repo_sdk/rules/native.c was not built: is a C compiler installed?"


@needs_c
def test_sentences_split_in_c_are_the_python_splitter_s() -> None:
    rng = random.Random(5)
    alphabet = "ab .!?\u2026\"')]\n\u3002\uff01\uff1f x\t\r\x1c\u00a0\u3000\u201d\u2019\ud800"
    for _ in range(60_000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert C.split_sentences(t) == text.split_sentences(t), t
    long = "One. Two!\n" * 50_000 + "no end"
    assert C.split_sentences(long) == text.split_sentences(long)


@needs_c
def test_sentence_tokens_in_c_are_the_token_expression_s() -> None:
    spans = [(0, len(EVERY_CHARACTER))]
    codes_, tokens, every, code = C.sentence_tokens(EVERY_CHARACTER, spans)
    assert tokens[0] == every == text.TOKEN.findall(EVERY_CHARACTER) and code == codes_[0]
    assert codes_[0] == C.encode(tokens[0]) and len(codes_[0]) == len(tokens[0])
    rng = random.Random(1)
    alphabet = "ab Z9_-'é谢\u3041\uac00\u00b2\u2167İ.\ud83d"
    for _ in range(40_000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        cuts = sorted(rng.randint(-2, len(t) + 2) for _ in range(4))
        spans = [(cuts[0], cuts[1]), (cuts[2], cuts[3])]
        found_codes, found, every, code = C.sentence_tokens(t, spans)
        assert found == [text.TOKEN.findall(t, max(s, 0), max(e, 0)) for s, e in spans], (t, spans)
        assert found_codes == [C.encode(toks) for toks in found]
        assert every == found[0] + found[1] and code == C.encode(every)


@needs_c
def test_sentence_tokens_in_c_of_many_and_long_tokens() -> None:
    # more tokens than the first buffer holds, in one span and over many; words longer than the kept ones
    rng = random.Random(3)
    words = ["we", "can", "offer", "café", "x" * 65, "y" * 300, "谢", "80"]
    t = " ".join(rng.choice(words) for _ in range(5_000))
    cuts = sorted(rng.sample(range(len(t)), 40))
    for spans in ([(0, len(t))], list(zip(cuts[::2], cuts[1::2], strict=True))):
        codes_, found, every, code = C.sentence_tokens(t, spans)
        assert found == [text.TOKEN.findall(t, s, e) for s, e in spans]
        assert every == [tok for toks in found for tok in toks] and code == C.encode(every) == "".join(codes_)


@needs_c
def test_equal_tokens_get_equal_codes_and_tokens_met_again_are_the_same() -> None:
    first = C.sentence_tokens("we can offer 80 we", [(0, 18)])[1][0]
    again = C.sentence_tokens("WE? we!".lower(), [(0, 7)])[2]
    assert first[0] == first[4] == again[0] == again[1] == "we"
    assert C.encode(["we", "x", "we"])[0] == C.encode(["we"]) == C.encode(["w" + "e"])
    assert {C.encode([w]) for w in (f"w{i}" for i in range(5000))} <= {chr(c) for c in range(128)}
    with pytest.raises(TypeError, match="token 1 is int"):
        C.encode(["a", 1])
    with pytest.raises(TypeError, match="spans must be"):
        C.sentence_tokens("a b", [(0,)])  # (longer tuples, segments, are read by their first two)


@needs_c
def test_close_codes_in_c_are_rapidfuzz_s() -> None:
    rng = random.Random(3)
    for trial in range(6000):
        alpha = ("abc", "abcdefgh", "".join(map(chr, range(128))))[trial % 3]
        size = rng.choice([3, 10, 63, 64, 65, 130])
        code = "".join(rng.choice(alpha) for _ in range(rng.randint(0, size)))
        others = ["".join(rng.choice(alpha) for _ in range(rng.randint(0, size))) for _ in range(rng.randint(0, 12))]
        if code and rng.random() < 0.3:
            others.append(code[:-1] + "x")
        cutoff = rng.choice([0.5, 0.7, 0.85 - 1e-6, 0.95, 1.0])
        want = [i for i, o in enumerate(others) if Indel.normalized_similarity(code, o, score_cutoff=cutoff) >= cutoff]
        assert C.close_codes(code, others, cutoff) == want, (code, others, cutoff)
        assert C.any_close([code, "\x7f" * 3], others, cutoff)[0] == bool(want)
    assert C.close_codes("ab", ["ab", "é"], 0.5) is None  # not ASCII: rapidfuzz's to say
    assert C.any_close(["ab"], ["é"], 0.5) is None


@needs_c
def test_first_repeats_found_in_c_are_the_python_loop_s(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    words = ["a", "b", "c", "d", "e", "hh", "ii"]
    for _ in range(4000):
        base = [[rng.choice(words) for _ in range(rng.randint(1, 10))] for _ in range(3)]
        texts = []
        for _ in range(rng.randint(0, 10)):
            t = list(rng.choice(base))
            if rng.random() < 0.5:
                t[rng.randrange(len(t))] = rng.choice(words)
            texts.append(t)
        coded = [codes.encode(t) for t in texts]
        if len(coded) > 2 and rng.random() < 0.2:
            coded[1] = coded[0]  # two different texts under one code
        threshold = rng.choice([0.5, 0.85, 1.0])
        found = codes.first_repeats(texts, coded, threshold)
        with monkeypatch.context() as m:
            m.setattr(codes, "_CLOSE_EARLIER", None)
            m.setattr(codes, "_CLOSE_CODES", None)
            assert found == codes.first_repeats(texts, coded, threshold), (texts, coded)


@needs_c
def test_the_character_tests_in_c_are_the_expressions_over_every_code_point() -> None:
    letters = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
    assert C.letter_words(EVERY_CHARACTER) == set(letters.findall(EVERY_CHARACTER))
    words = re.compile(r"[\w\u20ac$\u00a3]+")
    (read,), _, _ = C.script_keys(EVERY_CHARACTER, [(0, len(EVERY_CHARACTER))])
    assert read[2] == " ".join(words.findall(EVERY_CHARACTER))
    others = [c for c in range(0x110000) if script._patterns().other_scripts.match(chr(c))]
    assert [c for c in range(0x110000) if C.any_in_ranges(chr(c), script._OTHER_BOUNDS)] == others
    rng = random.Random(4)
    for _ in range(40_000):
        t = "".join(rng.choice("ab'é1_²½Ⅻ-\u20ac$\u00a3 .") for _ in range(rng.randint(0, 16)))
        assert C.letter_words(t) == set(letters.findall(t)), t
        among = frozenset(rng.sample(["a", "b", "ab", "é", "a'b", "ba", "bé", "x", "Ⅻ", "'", ""], 4))
        assert C.letter_words_in(t, C.word_set(among)) == among & set(letters.findall(t)), (t, among)
        a = rng.randint(0, len(t))
        b = rng.randint(a, len(t))
        assert C.script_keys(t, [(a, b)])[0] == [
            ((a, b), len(words.findall(t, a, b)), " ".join(words.findall(t, a, b)))
        ], t
    with pytest.raises(TypeError, match="not one word_set made"):
        C.letter_words_in("ab", frozenset(["ab"]))
    with pytest.raises(TypeError, match="word 1 is not str"):
        C.word_set(["ab", 3])
    many = ["z" + "".join(chr(97 + int(d)) for d in str(i)) for i in range(5000)]  # (a table past its first size)
    assert C.letter_words_in("xzbh zejjj zfaaa z", C.word_set(many)) == {"zejjj"}  # (z17: zbh, z4999: zejjj)


@needs_c
def test_a_script_s_keys_are_its_sentences_joined_and_its_trigrams_hashed() -> None:
    words = re.compile(r"[\w\u20ac$\u00a3]+")
    rng = random.Random(10)
    for _ in range(20_000):
        t = "".join(rng.choice(["ab", "é", "谢", "\U0001f600", "1", "_", "€", " ", ". ", "\n", "x"]) for _ in range(20))
        spans = C.line_sentences(t)
        read, grams, count = C.script_keys(t, spans)
        tokens = [words.findall(t, a, b) for a, b in spans]
        assert read == [(s, len(toks), " ".join(toks)) for s, toks in zip(spans, tokens, strict=True)], (
            t
        )  # (strs: narrowest kind)
        every = [w for toks in tokens for w in toks]
        assert count == len(every) and grams == C.gram_keys(every), t
        assert len(grams) // 8 == len({tuple(every[i : i + 3]) for i in range(len(every) - 2)}), t


@needs_c
def test_segments_are_the_named_tuples_made_in_python() -> None:
    from repo_sdk_negotiation.text import Segment

    t = "Hello. é 谢谢!\n ok"
    spans = C.line_sentences(t)
    made = C.segments(Segment, t, spans)
    assert made == tuple(Segment(a, b, t[a:b]) for a, b in spans) and all(type(s) is Segment for s in made)
    assert made[1].text == "é 谢谢!"

    class WithFields(tuple):  # a __dict__ of its own: not a plain tuple layout
        pass

    for bad in (dict, WithFields):
        with pytest.raises(TypeError, match="not a tuple type without fields"):
            C.segments(bad, t, spans)
    with pytest.raises(TypeError, match="spans must be"):
        C.segments(Segment, t, [(0, 1), [2, 3]])


@needs_c
def test_characters_present_are_what_a_search_finds() -> None:
    marks = '"#()*+-<[]_`{}~\u201c\u201d\u2022\u3008\u3009\u300a\u300b\u300c\u300d\u300e\u300f\u3010\u3011\uff08\uff09'
    pattern = re.compile("[" + re.escape(marks) + "]")
    rng = random.Random(6)
    for _ in range(40_000):
        t = "".join(rng.choice(marks + "ab 谢é\U0001f600\x00") for _ in range(rng.randint(0, 20)))
        assert set(C.chars_present(t, marks)) == set(pattern.findall(t)), t
    with pytest.raises(ValueError, match="at most 64"):
        C.chars_present("x", "a" * 65)


def _rows(root: Path, spec: Path, logs: Path, pure: bool) -> bytes:
    out = root / f"{spec.stem}-{'pure' if pure else 'c'}.jsonl"
    env = {**os.environ, "REPO_SDK_PURE_PYTHON": "1" if pure else ""}
    cmd = [str(Path(sys.executable).with_name("repo-sdk")), "score", str(logs), "-c", str(spec), "--only", "rules"]
    cmd += ["-o", str(out), "--on-error", "skip", "--workers", "1", "--no-progress"]
    done = subprocess.run(cmd, env=env, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return out.read_bytes() + out.with_name(out.stem + ".dialogues.jsonl").read_bytes()


@needs_c
@pytest.mark.timeout(300)
def test_rows_with_the_c_part_are_the_rows_without_it(tmp_path: Path) -> None:
    logs = tmp_path / "logs.jsonl"
    write_corpus(logs, 120, seed=11, huge_rate=0.02, max_huge=64 * 1024)  # chit-chat, negotiations, a few long replies
    for pack in ("five", "generic", "negotiation"):
        spec = scaffold(tmp_path, pack)
        with_c, without = _rows(tmp_path, spec, logs, pure=False), _rows(tmp_path, spec, logs, pure=True)
        assert with_c == without, pack
        fired = [json.loads(line)["fired"] for line in with_c.splitlines() if b'"kind":"turn"' in line[:20]]
        assert sum(map(len, fired)) > 50  # (rules fired: the rows compared are not empty of hits)


@needs_c
def test_long_tokens_are_never_held_so_hostile_replies_cannot_fill_memory() -> None:
    long_word = "ab" * 50_000  # a 100 KB "word": a reply a policy stuck in a loop writes
    reply = f"so {long_word}"
    token = C.sentence_tokens(reply, [(0, len(reply))])[1][0][1]
    assert token == long_word and sys.getrefcount(token) == 2  # only this name (and the call's argument) hold it
    word = f"qz{random.randrange(10**9)}"  # (a word no other test has met: nothing else holds it)
    short = C.sentence_tokens(f"the {word}", [(0, len(word) + 4)])[1][0][1]
    assert short == word and sys.getrefcount(short) == 3  # a short one is kept, to be handed out again
    assert C.sentence_tokens(f"a {word}", [(0, len(word) + 2)])[1][0][1] is short


def test_the_python_codes_keep_no_long_token() -> None:
    held = codes._Codes()
    assert held["ab" * 50_000] == held["ab" * 50_000] and len(held) == 0
    assert held["price"] == held["price"] and list(held) == ["price"]


@needs_c
def test_close_codes_of_long_codes_sharing_a_prefix_and_a_suffix_are_rapidfuzz_s() -> None:
    """Long codes (several words of bits) are compared past their common prefix and suffix: copies, copies
    edited in a few places, codes that share only a prefix or a suffix, and unrelated ones."""
    rng = random.Random(13)
    for trial in range(3000):
        alpha = ("ab", "abcdefgh", "".join(map(chr, range(128))))[trial % 3]
        code = "".join(rng.choice(alpha) for _ in range(rng.choice([65, 128, 129, 300, 1000])))
        others = []
        for _ in range(6):
            edited = list(code)
            for _ in range(rng.choice([0, 1, 2, 5, 40])):
                at = rng.randrange(len(edited) + 1)
                kind = rng.random()
                if kind < 0.4 and edited:
                    del edited[min(at, len(edited) - 1)]
                elif kind < 0.7:
                    edited.insert(at, rng.choice(alpha))
                elif edited:
                    edited[min(at, len(edited) - 1)] = rng.choice(alpha)
            other = "".join(edited)
            cut = rng.randrange(len(other) + 1)
            shape = rng.random()
            if shape < 0.15:  # only a prefix in common
                other = other[:cut] + "".join(rng.choice(alpha) for _ in range(rng.randint(0, 200)))
            elif shape < 0.3:  # only a suffix
                other = "".join(rng.choice(alpha) for _ in range(rng.randint(0, 200))) + other[cut:]
            others.append(other)
        # (below a round figure, as the rules' cutoffs on codes are: a tie is rounded either way)
        cutoff = rng.choice([0.5, 0.85, 0.95, 0.999, 1.0]) - 1e-6
        want = [i for i, o in enumerate(others) if Indel.normalized_similarity(code, o, score_cutoff=cutoff) >= cutoff]
        assert C.close_codes(code, others, cutoff) == want, (code, others, cutoff)
