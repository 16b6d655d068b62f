"""The totals of a scoring run (the summary table), counted a group of turn rows at a time.

:func:`group_totals` keeps what :class:`ScoreSummary` reads of a group's turn rows (a few
fields out of rows that hold the replies and every hit's evidence) as one small JSON object.
The process that scores a group writes it beside the group's rows (one ``totals`` line in
the run's journal), so finishing a run adds one object a group and copies the rows as they
are, where it parsed every row again. Adding a group's totals is adding its rows one by one:
the totals are the same (:meth:`ScoreSummary.add_turn` adds a group of one row).

Example:
    >>> row = {"dialogue_id": "d1", "turn_index": 1, "sample_id": "d1#1", "reward": -10.0,
    ...        "sources": {"rules": -10.0, "judge": None}, "reasons": {"judge": "not run"},
    ...        "fired": [{"rule": "cot_leak"}], "details": {}}
    >>> summary = ScoreSummary()
    >>> summary.add_group(group_totals([row, {**row, "turn_index": 3, "fired": []}]))
    >>> summary.turns, summary.reward_mean, dict(summary.rule_turns), summary.first_none
    (2, -10.0, {'cot_leak': 1}, {'judge': 'not run'})
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from repo_sdk.degenerate import Degenerate, SourceTally
from repo_sdk.rows import TurnRow
from repo_sdk.shared_ids import SharedIds

__all__ = ["GroupTotals", "ScoreSummary", "group_totals"]

#: ``{"turns": rows, "ids": [[dialogue_id, first turn_index, last turn_index], ...] (runs of rows of one
#: dialogue, in order), "rewards": [reward, ...] (those not None, in order), "sources": {source: [[value,
#: ...] (those not None, in order), turns it gave None, the reason of the first of those (or None)]},
#: "rules": {rule: turns it fired on}, "errors": {source: [turns it raised on, "sample_id: error" of the
#: first]}}``
GroupTotals = dict[str, Any]


def group_totals(turns: Sequence[Mapping[str, Any]]) -> GroupTotals:
    """What :class:`ScoreSummary` reads of some turn rows (in input order), as one small JSON object
    (see :data:`GroupTotals`)."""
    ids: list[list[Any]] = []
    run: list[Any] = [object(), None, None]  # the current run of ids: [dialogue_id, first, last turn_index]
    sources: dict[str, list[Any]] = {}
    errors: dict[str, list[Any]] = {}
    for row in turns:
        dialogue_id, index = row.get("dialogue_id"), row.get("turn_index")
        if dialogue_id == run[0] and type(index) is int and type(run[2]) is int and index > run[2]:
            run[2] = index  # the same dialogue, further on
        else:
            run = [dialogue_id, index, index]
            ids.append(run)
        for name, value in row["sources"].items():
            held = sources.get(name)
            if held is None:
                held = sources[name] = [[], 0, None]
            if value is not None:
                held[0].append(value)
            else:
                held[1] += 1
                if held[1] == 1:
                    held[2] = row["reasons"].get(name, "")
        if row["details"]:
            for name, details in row["details"].items():
                if "error" in details:  # the source raised on this turn (--on-error skip)
                    counted = errors.setdefault(name, [0, f"{row['sample_id']}: {details['error']}"])
                    counted[0] += 1
    fired = (sorted({h["rule"] for h in row["fired"]}) for row in turns if row["fired"])
    return {
        "turns": len(turns),
        "ids": ids,
        "rewards": [reward for row in turns if (reward := row["reward"]) is not None],
        "sources": sources,
        "rules": Counter(chain.from_iterable(fired)),
        "errors": errors,
    }


@dataclass
class ScoreSummary:
    """Totals of a finished run, for the summary table."""

    dialogues: int = 0
    turns: int = 0
    skipped: int = 0
    resumed_from: int = 0
    resumed_blocks: int = 0  # the ray engine: blocks an interrupted run had finished
    engine: str = ""  # how a run was spread out (the ray engine: actors, CPUs, blocks)
    timings: dict[str, float] = field(default_factory=dict)  # the ray engine: seconds per phase
    reward_sum: float = 0.0
    reward_count: int = 0
    reward_min: float | None = None
    source_sums: dict[str, float] = field(default_factory=dict)
    source_counts: Counter[str] = field(default_factory=Counter)
    source_none: Counter[str] = field(default_factory=Counter)
    source_errors: Counter[str] = field(default_factory=Counter)
    first_error: dict[str, str] = field(default_factory=dict)
    first_none: dict[str, str] = field(default_factory=dict)
    set_aside: dict[str, str] = field(default_factory=dict)
    rule_turns: Counter[str] = field(default_factory=Counter)
    telemetry: dict[str, dict[str, float]] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)
    tally: SourceTally = field(default_factory=SourceTally)
    ids: SharedIds = field(default_factory=SharedIds)

    @property
    def degenerate(self) -> list[Degenerate]:
        """Sources constant on >= 90% of their scored turns or None on >= 50% (repo_sdk.degenerate)."""
        return self.tally.degenerate()

    @property
    def reward_mean(self) -> float | None:
        return self.reward_sum / self.reward_count if self.reward_count else None

    def add_turn(self, row: TurnRow) -> None:
        """Count one turn row."""
        self.add_group(group_totals([row]))

    def add_group(self, totals: GroupTotals) -> None:
        """Count a group of turn rows from its :func:`group_totals`."""
        self.turns += totals["turns"]
        for dialogue_id, first, last in totals["ids"]:
            self.ids.add_run(dialogue_id, first, last)
        rewards = totals["rewards"]
        if rewards:
            self.reward_sum = sum(rewards, self.reward_sum)  # (in order, as one at a time)
            self.reward_count += len(rewards)
            low = min(rewards)
            self.reward_min = low if self.reward_min is None else min(self.reward_min, low)
        for name, (values, none, first_none) in totals["sources"].items():
            self.tally.add_values(name, values, none)
            if values:
                self.source_sums[name] = sum(values, self.source_sums.get(name, 0.0))
                self.source_counts[name] += len(values)
            if none:
                self.source_none[name] += none
                self.first_none.setdefault(name, first_none)
        self.rule_turns.update(totals["rules"])
        for name, (count, first) in totals["errors"].items():
            self.source_errors[name] += count
            self.first_error.setdefault(name, first)
