"""The scaffold's generic rules (used when repo-sdk-negotiation is not installed) on the scaffold's dialogues.

They must stay silent on the clean negotiations (counter-offers between target
and current price, yen written with ¥, hotel names in kanji, "train tickets")
and still catch the planted cases they are able to see.
"""

from __future__ import annotations

import json

import jinja2
import yaml

from repo_sdk.pipeline import RewardPipeline
from repo_sdk.templates_builtin import templates_dir
from repo_sdk.types import Dialogue


def generic_rules_spec() -> dict:
    text = (templates_dir() / "init" / "spec.yaml.j2").read_text()
    spec = yaml.safe_load(jinja2.Template(text).render(negotiation=False, rm=False))
    return {"sources": {"rules": spec["sources"]["rules"]}}


def fired_by_dialogue() -> dict[str, tuple[str, set[str]]]:
    lines = (templates_dir() / "init" / "dialogues.jsonl").read_text(encoding="utf-8").splitlines()
    out = {}
    with RewardPipeline.from_spec(generic_rules_spec()) as pipe:
        for line in filter(str.strip, lines):
            record = json.loads(line)
            samples = Dialogue.model_validate(record).samples()
            rules = {h.rule for r in pipe.score(samples) for h in r.fired}
            out[record["id"]] = (record["metadata"]["kind"], rules)
    return out


def test_generic_rules_are_silent_on_clean_dialogues_and_catch_planted_ones():
    fired = fired_by_dialogue()
    clean = {i: rules for i, (kind, rules) in fired.items() if kind == "clean"}
    assert len(clean) >= 4 and all(not rules for rules in clean.values()), clean
    caught = set().union(*(rules for kind, rules in fired.values() if kind != "clean"))
    assert {"forbidden_terms", "cot_leak", "numeric_consistency", "repetition"} <= caught
