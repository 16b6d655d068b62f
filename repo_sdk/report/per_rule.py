"""One section per rule: where it fires, examples of its hits, and what a hit costs in reward.

A rule counts for a turn when it fired on it, or when a dialogue-level hit names that
turn (as in ``repo-sdk eval``). The reward of the turns it fired on is set beside that of
the clean turns (no rule fired at all), so a rule whose hits do not lower the reward (an
RM that out-weighs it, a combiner that ignores it) shows at once. Rules of the spec that
never fired are listed too when the caller knows them (``repo-sdk score --report``).

Near-misses (replies that came close to firing: :mod:`repo_sdk.near_miss`) are shown for
the rules that have a notion of one, when the caller found them (``repo-sdk score
--report`` does); the note above the sections says which case holds.

Example:
    >>> rows = [{"dialogue_id": "d", "turn_index": i, "reward": r, "response": "x",
    ...          "fired": [{"rule": "cot_leak", "points": -10.0}] if r < 0 else []}
    ...         for i, r in enumerate([-0.5, 0.5, 0.7])]
    >>> [s] = rule_sections(rows, [], ContextIndex(rows, []), [])
    >>> s["rule"], s["turns"], s["hit_mean"], s["clean_mean"]
    ('cot_leak', 1, '-0.5', '0.6')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from repo_sdk.report import stats
from repo_sdk.report.cards import ContextIndex, excerpt, rule_spans, turn_card
from repo_sdk.report.stats import COMBINED, fmt
from repo_sdk.rows import DialogueRow, TurnRow, rules_per_turn

__all__ = ["near_miss_note", "rule_sections"]

EXAMPLES = 3


def near_miss_note(near: Mapping[str, Any] | None) -> str:
    """The one line above the rule sections saying where near-misses were looked for.

    Example:
        >>> near_miss_note(None).startswith("not looked for")
        True
        >>> near_miss_note({"repetition": object()})
        'looked for with repetition: replies a looser copy of the rule fires on while the rule passes them'
    """
    if near is None:
        return "not looked for in this report (`repo-sdk score --report` looks for them)"
    if not near:
        return "none of these rules has a notion of a reply that came close to firing"
    rules = ", ".join(sorted(near))
    return f"looked for with {rules}: replies a looser copy of the rule fires on while the rule passes them"


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
    near: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Per rule (most frequent first, then configured rules that never fired): counts, rewards, examples.

    ``near`` maps a rule to its near-misses (:class:`repo_sdk.near_miss.NearMisses`: ``turns`` and
    ``examples`` with ``dialogue_id``, ``turn_index``, ``reason``, ``span``); a rule in it gets a
    near-miss count and example cards.
    """
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
    order += sorted({*configured, *wide, *(near or {})} - set(where))
    by_key = {(str(r.get("dialogue_id")), r.get("turn_index")): r for r in turns} if near else {}
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
                "near": _near(near[rule], by_key, context, names, len(turns)) if near and rule in near else None,
            }
        )
    return out


def _near(
    found: Any, by_key: Mapping[tuple[str, Any], Mapping[str, Any]], context: ContextIndex, names: Sequence[str], n: int
) -> dict[str, Any]:
    """A rule's near-miss count and example cards, the looser copy's evidence marked in the reply."""
    cards = []
    for miss in found.examples:
        row = by_key.get((str(miss.dialogue_id), miss.turn_index))
        if row is None:
            continue
        card = turn_card(row, context, names, label=f"came close: its looser copy says {miss.reason!r}")
        spans = rule_spans(row)
        if miss.span is not None:
            spans.append((miss.span[0], miss.span[1], "near-miss"))
        card["reply"] = excerpt(str(row.get("response") or ""), spans)
        cards.append(card)
    return {"turns": found.turns, "share": f"{found.turns / n:.1%}" if n else stats.DASH, "examples": cards}
