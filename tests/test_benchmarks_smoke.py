"""The rules benchmark runs end to end on a few dialogues (its figures are read in docs/benchmarks.md,
never asserted: this checks only that it runs and prints every measurement)."""

from __future__ import annotations

import re

from benchmarks import rules_realistic


def test_rules_realistic_prints_every_measurement(capsys) -> None:
    assert (
        rules_realistic.main(
            ["--dialogues", "6", "--repeat", "1", "--workers", "2", "--max-kb", "16", "--packs", "five"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "[five] " in out and re.search(r"\(a\) 1 worker: [\d,]+ turns/s", out)
    assert "2 workers:" in out and re.search(r"varied\s+2\s", out) and re.search(r"loop\s+2\s", out)
    assert re.search(r"varied: [\d.]+ s per MB at the costliest rate from 16 KB up", out) and "ratio bare / sdk" in out


def test_rules_vs_before_runs_both_checkouts_and_prints_the_estimate(capsys, tmp_path) -> None:
    from pathlib import Path

    from benchmarks import rules_vs_before

    here = Path(rules_vs_before.__file__).resolve().parents[1]  # this checkout stands in for the code before
    args = ["--before", str(here), "--dialogues", "8", "--rounds", "1", "--packs", "five"]
    assert rules_vs_before.main(args) == 0
    out = capsys.readouterr().out
    assert re.search(r"\[five\] round 1 before: \d+ turns, [\d,]+ turns/s", out) and "round 1 now:" in out
    assert re.search(r"now / before = [\d.]+x .* target 20,000 \(\d+%\)", out)
    assert re.search(r"now / before = [\d.]+x \(median of the rounds' ratios\).* target 20,000", out)
    assert re.search(r"\[five\] the rounds' ratios: [\d.]+x$", out, re.M)
    end_to_end = r"besides its turns: [\d.]+ s CPU here, about [\d.]+ s there; end to end on the issue's 66,853 turns"
    assert re.search(rf"\[five\] the command {end_to_end}: about [\d,]+ turns/s .* target 20,000 \(\d+%\)$", out, re.M)
    assert rules_vs_before.main(["--before", str(tmp_path)]) == 1  # no repo_sdk there: said, not a traceback


def test_hostile_replies_prints_each_kind_at_each_size(capsys) -> None:
    from benchmarks import hostile_replies

    kinds = ["digits", "CJK, 7 characters", "sigmas and digits"]
    assert hostile_replies.main(["--kb", "2", "8", "--packs", "generic", "--kinds", *kinds]) == 0
    out = capsys.readouterr().out
    assert "[generic] seconds per reply:" in out and re.search(r"2 KB\s+8 KB\s+growth", out)
    for kind in kinds:
        assert re.search(rf"{re.escape(kind)}\s+[\d.]+\s+[\d.]+\s+[\d.]+", out), kind
    for kind, make in hostile_replies.KINDS.items():  # each kind is exactly the size asked for
        assert len(make(3000)) == 3000, kind


def test_rule_costs_charges_each_rule_and_the_rest(capsys) -> None:
    from benchmarks import rule_costs

    assert rule_costs.main(["--dialogues", "6", "--packs", "five"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\[five\] [\d,]+ turns in [\d.]+ s of CPU: [\d,]+ us per turn", out)
    shares = {}
    for name in ("repetition", "cot_leak", "format_breakage", "mixed_script", "max_length", "(the rest"):
        found = re.search(rf"{re.escape(name)}.*?\s([\d,.]+) us\s+([\d.]+)%", out)
        assert found, name
        shares[name] = float(found.group(2))
    assert 99.0 <= sum(shares.values()) <= 101.0  # the rules and the rest make up the run
    assert shares["repetition"] > 0 and shares["(the rest"] > 0
