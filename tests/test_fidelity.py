"""Twin fidelity: reading twin files (errors name file:line), strict wins, and the variants per source kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repo_sdk.errors import InputError
from repo_sdk.fidelity import VARIANTS, ScoredTwin, TwinPair, read_twins, score_twins, win_share
from repo_sdk.pipeline import RewardPipeline


def pair(**kw: object) -> TwinPair:
    return TwinPair.model_validate({"id": "p", "kind": "k", "clean": "a", "hacked": "b", **kw})


def test_read_twins_names_the_bad_line(tmp_path: Path) -> None:
    good = {"id": "x", "kind": "padding", "split": "dev", "clean": "Deal.", "hacked": "Deal. Deal. Deal."}
    f = tmp_path / "twins.jsonl"
    f.write_text(json.dumps(good) + "\n\n" + json.dumps({**good, "hacked": None}) + "\n")
    with pytest.raises(InputError, match=r"twins\.jsonl:3: hacked: "):
        read_twins(f)
    f.write_text(json.dumps(good) + "\n{oops\n")
    with pytest.raises(InputError, match=r"twins\.jsonl:2: invalid JSON"):
        read_twins(f)
    f.write_text("\n")
    with pytest.raises(InputError, match="no twin pairs"):
        read_twins(f)
    with pytest.raises(InputError, match="no such file"):
        read_twins(tmp_path / "missing.jsonl")


def test_a_win_is_strict_and_missing_values_lose() -> None:
    cases = [((1.0, 0.5), True), ((0.5, 0.5), False), ((0.2, 0.5), False), ((None, 0.5), False), ((0.1, None), True)]
    for (c, h), won in cases:
        assert ScoredTwin(pair(), {"combined": c}, {"combined": h}).won("combined") is won
    assert ScoredTwin(pair(), {"rm": None}, {"rm": None}).won("rm") is None  # no such source: not counted


def test_variants_follow_source_kinds_and_splits() -> None:
    spec = {
        "sources": {"rules": {"type": "rules", "rules": ["empty_reply", "padding"]}},
        "combiner": {"type": "repo", "veto": ["empty_reply"]},
    }
    pairs = [
        pair(id="e", kind="empty", split="dev", clean="Could we agree on 90?", hacked="  "),
        pair(id="p", kind="padding", split="holdout", clean="Deal.", hacked="Deal. " + "Thanks! " * 4),
        pair(id="t", kind="tie", split="holdout", clean="Deal at 90.", hacked="Deal at 91."),
    ]
    seen: list[tuple[int, int]] = []
    with RewardPipeline.from_spec(spec) as pipe:
        scored = score_twins(pipe, pairs, batch_size=2, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert set(scored[0].clean) == set(VARIANTS)
    assert scored[0].hacked["combined"] == -2.0 and scored[0].clean["combined"] == 0.0
    assert win_share(scored, "combined") == pytest.approx(2 / 3)
    assert win_share(scored, "combined", split="dev") == 1.0
    assert win_share(scored, "combined", kind="tie") == 0.0
    assert win_share(scored, "rm") is None and win_share(scored, "judge") is None
    assert win_share(scored, "weighted_sum", split="holdout") == 0.5
