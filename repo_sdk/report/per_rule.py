"""One section per rule: where it fires, examples of its hits, and what a hit costs in reward.

A rule counts for a turn when it fired on it, or when a dialogue-level hit names that
turn (as in ``repo-sdk eval``). The reward of the turns it fired on is set beside that of
the clean turns (no rule fired at all), so a rule whose hits do not lower the reward (an
RM that out-weighs it, a combiner that ignores it) shows at once. Rules of the spec that
never fired are listed too when the caller knows them (``repo-sdk score --report``).

Rules report hits only: none has a near-miss notion (a reply that came close to firing),
so each section says so rather than guessing one.

Example:
    >>> rows = [{"dialogue_id": "d", "turn_index": i, "reward": r, "response": "x",
    ...          "fired": [{"rule": "cot_leak", "points": -10.0}] if r < 0 else []}
    ...         for i, r in enumerate([-0.5, 0.5, 0.7])]
    >>> [s] = rule_sections(rows, [], ContextIndex(rows, []), [])
    >>> s["rule"], s["turns"], s["hit_mean"], s["clean_mean"]
    ('cot_leak', 1, '-0.5', '0.6')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from repo_sdk.report import stats
from repo_sdk.report.cards import ContextIndex, turn_card
from repo_sdk.report.stats import COMBINED, fmt
from repo_sdk.rows import DialogueRow, TurnRow, rules_per_turn

__all__ = ["NEAR_MISS_NOTE", "rule_sections"]

EXAMPLES = 3
NEAR_MISS_NOTE = "no near-misses: rules report hits only, none has a notion of a reply that came close to firing"


def _examples(indices: list[int], turns: Sequence[TurnRow], k: int) -> list[int]:
    """Up to ``k`` of ``indices``: one per dialogue first, in run order, then more of the same dialogues."""
    picked: list[int] = []
    seen: set[str] = set()
    for i in indices:
        if len(picked) == k:
            break
        if (d := str(turns[i].get("dialogue_id"))) not in seen:
            seen.add(d)
            picked.append(i)
    for i in indices:
        if len(picked) >= k:
            break
        if i not in picked:
            picked.append(i)
    return sorted(picked)


def rule_sections(
    turns: Sequence[TurnRow],
    dialogues: Sequence[DialogueRow],
    context: ContextIndex,
    names: Sequence[str],
    configured: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Per rule (most frequent first, then configured rules that never fired): counts, rewards, examples."""
    per_turn, _ = rules_per_turn(turns, dialogues)
    where: dict[str, list[int]] = {}
    for i, rules in enumerate(per_turn):
        for rule in rules:
            where.setdefault(rule, []).append(i)
    clean = [v for i, r in enumerate(turns) if not per_turn[i] and (v := stats.value_of(r, COMBINED)) is not None]
    points: dict[str, list[float]] = {}
    for r in turns:
        for h in r.get("fired") or []:
            if isinstance(h, dict) and (p := stats.num(h.get("points"))) is not None:
                points.setdefault(str(h.get("rule")), []).append(p)
    wide: dict[str, list[str]] = {}
    for d in dialogues:
        for h in d.get("dialogue_fired") or []:
            if isinstance(h, dict) and type(h.get("turn_index")) is not int:
                wide.setdefault(str(h.get("rule")), []).append(str(d.get("dialogue_id")))
    order = sorted(where, key=lambda rule: (-len(where[rule]), rule))
    order += sorted({*configured, *wide} - set(where))
    out = []
    for n, rule in enumerate(order):
        hit = where.get(rule, [])
        rewards = [v for i in hit if (v := stats.value_of(turns[i], COMBINED)) is not None]
        hit_mean, clean_mean = stats.mean(rewards), stats.mean(clean)
        out.append(
            {
                "rule": rule,
                "anchor": f"rule-{n}",
                "turns": len(hit),
                "share": f"{len(hit) / len(turns):.1%}" if turns else stats.DASH,
                "points": fmt(stats.mean(points.get(rule, []))),
                "hit_mean": fmt(hit_mean),
                "hit_n": len(rewards),
                "clean_mean": fmt(clean_mean),
                "clean_n": len(clean),
                "delta": fmt(hit_mean - clean_mean) if hit_mean is not None and clean_mean is not None else stats.DASH,
                "wide": sorted(set(wide.get(rule, []))),
                "examples": [turn_card(turns[i], context, names) for i in _examples(hit, turns, EXAMPLES)],
            }
        )
    return out
