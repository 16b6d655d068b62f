"""The totals of a scoring run (the summary table), and the brief of a turn row they are counted from.

:func:`brief` keeps what :class:`ScoreSummary` reads of a turn row, a few fields out of
a row that holds the reply and every hit's evidence. The process that scores a group
writes its turns' briefs beside its rows (one ``summary`` line in the run's journal),
so finishing a run counts the briefs and copies the rows as they are, where it parsed
every row again. Counting a brief is counting its row: the totals are the same.

Example:
    >>> row = {"dialogue_id": "d1", "turn_index": 1, "sample_id": "d1#1", "reward": -10.0,
    ...        "sources": {"rules": -10.0, "judge": None}, "reasons": {"judge": "not run"},
    ...        "fired": [{"rule": "cot_leak"}], "details": {}}
    >>> summary = ScoreSummary()
    >>> summary.add_brief(brief(row))
    >>> summary.turns, summary.reward_mean, dict(summary.rule_turns), summary.first_none
    (1, -10.0, {'cot_leak': 1}, {'judge': 'not run'})
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repo_sdk.degenerate import Degenerate, SourceTally
from repo_sdk.rows import TurnRow
from repo_sdk.shared_ids import SharedIds

__all__ = ["Brief", "ScoreSummary", "brief"]

#: ``[dialogue_id, turn_index, reward, sources, rules fired (sorted), {source: reason} of the sources that
#: gave None (or None), {source: error} of those that raised (or None), sample_id (when one raised)]``
Brief = list[Any]


def brief(row: Mapping[str, Any]) -> Brief:
    """What :class:`ScoreSummary` reads of one turn row, as a small JSON array (see :data:`Brief`)."""
    sources = row["sources"]
    none = {name: row["reasons"].get(name, "") for name, v in sources.items() if v is None} or None
    errors = {name: d["error"] for name, d in row["details"].items() if "error" in d} or None
    return [
        row.get("dialogue_id"),
        row.get("turn_index"),
        row["reward"],
        sources,
        sorted({h["rule"] for h in row["fired"]}),
        none,
        errors,
        row["sample_id"] if errors else None,
    ]


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
        self.add_brief(brief(row))

    def add_brief(self, turn: Sequence[Any]) -> None:
        """Count one turn row from its :func:`brief`."""
        dialogue_id, turn_index, reward, sources, rules, none, errors, sample_id = turn
        self.turns += 1
        self.ids.add(dialogue_id, turn_index)
        if reward is not None:
            self.reward_sum += reward
            self.reward_count += 1
            self.reward_min = reward if self.reward_min is None else min(self.reward_min, reward)
        self.tally.add_row(sources)
        for name, v in sources.items():
            if v is None:
                self.source_none[name] += 1
                self.first_none.setdefault(name, none.get(name, ""))
            else:
                self.source_sums[name] = self.source_sums.get(name, 0.0) + v
                self.source_counts[name] += 1
        self.rule_turns.update(rules)
        for name, error in (errors or {}).items():  # the source raised on this turn (--on-error skip)
            self.source_errors[name] += 1
            self.first_error.setdefault(name, f"{sample_id}: {error}")
