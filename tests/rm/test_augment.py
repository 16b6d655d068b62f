"""Artifact-controlled pairs: each kind does what it says, training uses them, and held-out pairs stay real."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from repo_sdk.rm.augment import AUGMENT_KINDS, augment_pairs
from repo_sdk.rm.pairs import PreferencePair
from repo_sdk.rm.train import RMTrainOptions, train_rm
from repo_sdk.rules import EmptyReply, Flattery, JudgeInjection
from repo_sdk.testing import make_sample

FAST = RMTrainOptions(epochs=2, learning_rate=3e-3, batch_size=8, show_progress=False)


def base_pairs(n: int = 12) -> list[PreferencePair]:
    return [
        PreferencePair(
            task={"hotel": f"Hotel {i}"},
            history=[{"role": "user", "content": f"Hello, Hotel {i} here."}],
            chosen=f"Good morning! Is the twin still at {100 + i} euros per night? Thank you.",
            rejected="Lower it.",
        )
        for i in range(n)
    ]


def test_each_kind_varies_the_chosen_reply_in_its_own_way() -> None:
    pairs = base_pairs()
    out = augment_pairs(pairs, per_pair=len(AUGMENT_KINDS), seed=3)
    kinds = Counter(p.metadata["augment"] for p in out)
    assert set(kinds) == set(AUGMENT_KINDS) and max(kinds.values()) - min(kinds.values()) <= 1
    originals = {p.chosen for p in pairs}
    for p in out:
        kind, rej = p.metadata["augment"], p.rejected
        assert p.chosen in originals and rej != p.chosen
        if kind == "off_prompt":
            assert rej in originals and p.history[0].content not in rej  # another conversation's reply
        elif kind == "padded":
            assert rej.startswith(p.chosen) and len(rej) > len(p.chosen)
        elif kind == "length_matched":
            assert rej.startswith("Lower it.") and len(rej) >= len(p.chosen)
        elif kind == "empty":
            assert EmptyReply().check(make_sample(response=rej))
        elif kind == "judge_text":
            assert JudgeInjection().check(make_sample(response=rej))
        elif kind == "flattery":
            assert Flattery().check(make_sample(response=rej))
        else:
            assert len(rej) > len(p.chosen)  # something spliced in


def test_augmentation_is_seeded_and_rejects_unknown_kinds() -> None:
    pairs = base_pairs()
    assert augment_pairs(pairs, seed=1) == augment_pairs(pairs, seed=1)
    assert augment_pairs(pairs, seed=1) != augment_pairs(pairs, seed=2)
    assert len(augment_pairs(pairs, per_pair=2)) == 24
    with pytest.raises(ValueError, match="unknown augmentation"):
        augment_pairs(pairs, kinds=["padded", "typos"])


def test_train_with_augment_adds_pairs_and_reports_artifact_accuracy(tiny_llama, pairs_file, tmp_path) -> None:
    lines: list[str] = []
    options = FAST.model_copy(update={"base": tiny_llama, "augment": True, "augment_per_pair": 2})
    result = train_rm(pairs_file, tmp_path / "rm", options, log=lines.append)
    assert (result.train_pairs, result.heldout_pairs, result.augmented_pairs) == (32, 8, 64)
    assert result.heldout_artifact_accuracy is not None and 0.0 <= result.heldout_artifact_accuracy <= 1.0
    assert any("augmented with 64 artifact-controlled pairs" in line for line in lines)
    meta = json.loads((tmp_path / "rm" / "repo_rm.json").read_text())
    assert meta["params"]["augment"] == 2 and meta["result"]["augmented_pairs"] == 64
    calibration = json.loads((tmp_path / "rm" / "calibration.json").read_text())
    assert calibration["count"] == 64  # the real training replies (32 pairs x 2), not the augmented ones
