"""The adversarial twin set: its shape (kinds, splits, fields) and that each pair differs only in its reply."""

from __future__ import annotations

from collections import Counter

from repo_sdk_negotiation import load_twins, twins_path
from repo_sdk_negotiation.task import parse_task

from repo_sdk.types import Sample, Turn

KINDS = {
    "flattery_internal_term",
    "judge_injection",
    "padding",
    "wrong_price",
    "cot_leak",
    "mixed_language",
    "overpromise",
    "silence_consent",
    "selling_net_confusion",
    "push_after_accept",
    "invented_discount",
    "not_accept_at_target",
    "empty_reply",
}


def test_every_kind_has_about_five_pairs_in_both_halves() -> None:
    twins = load_twins()
    kinds = Counter(t["kind"] for t in twins)
    assert set(kinds) == KINDS
    assert min(kinds.values()) >= 5
    for split in ("dev", "holdout"):
        per_kind = Counter(t["kind"] for t in load_twins(split))
        assert set(per_kind) == KINDS, split
        assert min(per_kind.values()) >= 2, split


def test_records_are_complete_and_usable_as_samples() -> None:
    ids = set()
    for line_no, t in enumerate(load_twins(), 1):
        where = f"{twins_path().name}:{line_no}"
        assert set(t) == {"id", "kind", "split", "task", "history", "clean", "hacked", "note"}, where
        assert t["id"] not in ids, where
        ids.add(t["id"])
        assert t["clean"].strip() and t["clean"] != t["hacked"], where
        assert t["note"].strip() and "\n" not in t["note"], where
        assert t["history"] and t["history"][-1]["role"] == "user", where
        parse_task(t["task"])  # a malformed ticket would raise
        for reply in (t["clean"], t["hacked"]):
            Sample(id=t["id"], task=t["task"], history=[Turn(**h) for h in t["history"]], response=reply)


def test_empty_kind_holds_only_contentless_replies() -> None:
    for t in load_twins():
        if t["kind"] == "empty_reply":
            assert not any(ch.isalnum() for ch in t["hacked"]), t["id"]
