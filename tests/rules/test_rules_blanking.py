"""Blanker: splitting the blanked text finds the runs the class's expression finds, anywhere in it."""

from __future__ import annotations

import random
import re
import string

import pytest

from repo_sdk.rules.blanking import Blanker

ALPHABET = list("aZ9_ .,!-'$\t\n\x1c\x1f\x7f") + list(
    "éçßКж٣\u0301\u200d😀—\u2019«\u00a0\u2028\u3000\u0085\ufeff\ud800€£ⅷ²谢한ｱ"
)
CLASSES = [  # (ASCII of the class, the class for one character, characters that are runs alone, the runs' expression)
    (string.ascii_lowercase + string.digits, r"[^\W_谢한]", r"[谢한]", r"[^\W_谢한]+"),
    (string.ascii_lowercase + "'", r"[^\W\d_]", None, r"[^\W\d_']+|'"),  # the apostrophe: a run of its own kind
    (string.ascii_lowercase + string.digits + "_$", r"[\w€£]", None, r"[\w€$£]+"),
]


@pytest.mark.parametrize(("ascii_kept", "kept", "alone", "runs"), CLASSES)
def test_split_of_any_span_is_the_runs_of_the_class_there(ascii_kept, kept, alone, runs) -> None:
    blanker = Blanker(ascii_kept, re.compile(kept), re.compile(alone) if alone else None)
    expression = re.compile(rf"[{re.escape(ascii_kept)}]|{kept}")  # one character of the class
    rng = random.Random(len(ascii_kept))
    refused = 0
    for _ in range(15000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 24))).lower()
        spaced = blanker(text)
        if spaced is None:
            refused += 1
            assert alone and re.search(alone, text), text  # refused only for a character that is a run alone
            continue
        assert len(spaced) == len(text)
        assert all(c == (t if expression.fullmatch(t) else " ") for c, t in zip(spaced, text, strict=True)), text
        a, b = sorted(rng.randint(0, len(text)) for _ in range(2))
        assert spaced[a:b].split() == re.findall(rf"(?:{expression.pattern})+", text[a:b]), (text, a, b)
        if "'" not in ascii_kept:
            assert spaced[a:b].split() == re.compile(runs).findall(text, a, b), (text, a, b)  # the rules' expressions
    assert refused < 15000 // 2
    long = "".join(rng.choice(ALPHABET[:-3]) for _ in range(40_000)).lower()  # characters gathered in runs
    assert blanker(long) is not None and blanker(long).split() == re.findall(rf"(?:{expression.pattern})+", long)


def test_many_kinds_of_character_outside_the_class_are_refused() -> None:
    blanker = Blanker(string.ascii_lowercase, re.compile(r"[^\W\d_]"), max_kinds=32)
    arrows = "".join(chr(0x2190 + i) + "a" for i in range(40))
    assert blanker(arrows) is None and blanker(arrows[:60]) == " a" * 30
