"""The plugin's readings through the core's C part (repo_sdk.rules.speedups) are its readings in Python.

Sentences, a reply's words, a script's tokens and the short cue words a text holds, each
read with the C module and with it set aside (the module global the plugin reads, set to
None), over random texts drawn from the characters that decide them.
"""

from __future__ import annotations

import random

import pytest
from repo_sdk_negotiation import text
from repo_sdk_negotiation.rules import style

from repo_sdk.rules.speedups import SPEEDUPS

pytestmark = pytest.mark.skipif(SPEEDUPS is None, reason="the C part is not built or ignored (REPO_SDK_PURE_PYTHON)")


def _both(monkeypatch: pytest.MonkeyPatch, module: object, read, value):  # type: ignore[no-untyped-def]
    fast = read(value)
    with monkeypatch.context() as m:
        m.setattr(module, "SPEEDUPS", None)
        return fast, read(value)


def test_sentences_read_in_c_are_the_expression_s(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    alphabet = "ab .!?\u3002\uff01\uff1f\n x\t\u00a0\u3000\u20260"
    for _ in range(30_000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        fast, plain = _both(monkeypatch, text, text._sentences.__wrapped__, t)
        assert fast == plain, t
    assert text.sentences("The price is 80.00 EUR. Thanks!\nBye") == [
        text.Segment(0, 31, "The price is 80.00 EUR. Thanks!"),  # a stop inside a number: the rest of the line
        text.Segment(32, 35, "Bye"),
    ]


def test_words_and_script_tokens_read_in_c_are_the_expressions(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(4)
    alphabet = "ab'é1_²Ⅻ-\u20ac$\u00a3 .!?\nΣς谢İ"
    for _ in range(30_000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        fast, plain = _both(monkeypatch, style, style.words_of, t)
        assert fast == plain, t
        fast_script, plain_script = _both(monkeypatch, style, style._Script, t)
        keys = [(s, len(toks), " ".join(toks)) for s, _, toks in plain_script.sentences]
        assert (fast_script.sentences, fast_script.count) == (keys, plain_script.count), t
        assert fast_script.grams == SPEEDUPS.gram_keys(plain_script.tokens), t
