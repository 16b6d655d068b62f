"""Near-misses: replies that came close to firing a rule, for the report's rule sections.

A rule with a notion of "close" returns the parameters of a looser copy of itself from
:meth:`repo_sdk.interfaces.Rule.near_miss_params` (``max_length`` at 80 % of its limits,
``repetition`` 0.1 below its threshold, ...). A reply that copy fires on while the rule
itself passed it is a near-miss. The copies run after scoring, over the same dialogues,
only when a report is asked for: scoring itself never pays for them.

Example:
    >>> from repo_sdk import RewardPipeline
    >>> from repo_sdk.testing import make_dialogue
    >>> pipe = RewardPipeline.from_spec({"sources": {"rules": [{"name": "max_length", "max_chars": 20}]}})
    >>> d = make_dialogue([("user", "Hi"), ("assistant", "x" * 18), ("assistant", "x" * 30)], id="d1")
    >>> rows = [{"dialogue_id": "d1", "turn_index": 1, "fired": []},
    ...         {"dialogue_id": "d1", "turn_index": 2, "fired": [{"rule": "max_length"}]}]
    >>> found = find_near_misses(pipe, [d], rows)
    >>> found["max_length"].turns, found["max_length"].examples[0].turn_index
    (1, 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from repo_sdk.interfaces import Rule
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.sources.rules_source import RulesSource
from repo_sdk.types import Dialogue, RuleHit

__all__ = ["NearMiss", "NearMisses", "find_near_misses", "near_miss_rules"]

EXAMPLES = 3


@dataclass(frozen=True)
class NearMiss:
    """One reply that came close to firing a rule: where it is and what the looser copy said."""

    dialogue_id: str
    turn_index: int
    reason: str
    span: tuple[int, int] | None
    evidence: str


@dataclass
class NearMisses:
    """A rule's near-misses over a run: how many turns, and up to three examples (different dialogues first)."""

    turns: int = 0
    examples: list[NearMiss] = field(default_factory=list)


def near_miss_rules(pipe: RewardPipeline) -> list[RulesSource]:
    """One rules source per rules source of ``pipe``, holding the looser copies of its turn rules that have one."""
    out = []
    for src in pipe.sources.values():
        if not isinstance(src, RulesSource):
            continue
        looser = [_looser(rule) for rule in src.turn_rules]
        kept = [rule for rule in looser if rule is not None]
        if kept:
            out.append(RulesSource(src.config, kept))
    return out


def _looser(rule: Rule) -> Rule | None:
    params = rule.near_miss_params()
    return None if params is None else type(rule)(params, rule.points)


def find_near_misses(
    pipe: RewardPipeline, dialogues: Iterable[Dialogue], turn_rows: Sequence[Mapping[str, Any]]
) -> dict[str, NearMisses]:
    """Near-misses per rule (every rule with a notion of one gets an entry, perhaps empty).

    Args:
        pipe: the pipeline that scored the run (its rules sources are read, not run).
        dialogues: the run's dialogues, as scored.
        turn_rows: the run's turn rows: a rule that fired on a turn (``fired``) is no near-miss there,
            and a turn without a row (skipped, unreadable) is not looked at.
    """
    looser = near_miss_rules(pipe)
    found = {rule.name: NearMisses() for src in looser for rule in src.turn_rules}
    if not found:
        return found
    fired: dict[tuple[str, int], set[str]] = {}
    for row in turn_rows:
        names = {str(h.get("rule")) for h in row.get("fired") or [] if isinstance(h, Mapping)}
        fired[(str(row.get("dialogue_id")), row.get("turn_index"))] = names  # type: ignore[index]
    seen: dict[str, set[str]] = {name: set() for name in found}
    spare: dict[str, list[NearMiss]] = {name: [] for name in found}  # more of the same dialogues, if room is left
    for dialogue in dialogues:
        samples = [s for s in dialogue.samples() if (dialogue.id, s.metadata["turn_index"]) in fired]
        if not samples:
            continue
        for src in looser:
            for sample, score in zip(samples, src.score(samples), strict=True):
                index = sample.metadata["turn_index"]
                hits: list[RuleHit] = score.details.get("hits", [])
                first: dict[str, RuleHit] = {}
                for hit in hits:
                    if hit.rule not in fired[(dialogue.id, index)]:
                        first.setdefault(hit.rule, hit)
                for name, hit in first.items():
                    miss = NearMiss(dialogue.id, index, hit.reason, hit.span, hit.evidence)
                    _add(found[name], seen[name], spare[name], miss)
    for name, entry in found.items():
        entry.examples += spare[name][: EXAMPLES - len(entry.examples)]
    return found


def _add(entry: NearMisses, dialogues_seen: set[str], spare: list[NearMiss], miss: NearMiss) -> None:
    """Count ``miss``; keep it as an example while there is room, one per dialogue first."""
    entry.turns += 1
    if len(entry.examples) < EXAMPLES and miss.dialogue_id not in dialogues_seen:
        entry.examples.append(miss)
        dialogues_seen.add(miss.dialogue_id)
    elif len(spare) < EXAMPLES:
        spare.append(miss)
