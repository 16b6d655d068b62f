"""The paper's evaluation on scored runs: the judge stands in for the human experts, rules for the guardrails.

Inputs are turn rows of ``repo-sdk score`` (:class:`repo_sdk.rows.TurnRow`), optionally with the
dialogue rows beside them. Definitions (docs/eval.md has the long form):

* **average rating**: mean of the rating source (``sources[rating_source]``, or the combined
  ``reward`` for ``rating_source="reward"``) over the turns that have a value;
* **conversations with >= 1 excellent reply**: share of rated dialogues with a turn rated
  ``>= excellent``;
* **rule fire rate**: share of turns with at least one rule hit (a dialogue-level hit that
  names a ``turn_index`` counts for that turn);
* **bad case** (baseline turn): any rule hit, or rating ``<= bad_rating``; paired with the
  candidate turn of the same ``(dialogue_id, turn_index)``; bad cases without a partner are
  *missing pairs*, listed and left out of the rates' denominator;
* **fix**: none of the baseline turn's rules fires again and, when flagged by rating, the
  candidate rating is ``> bad_rating``; **clean fix**: a fix with no new problem (no rule that
  did not fire in the baseline turn, candidate rating ``> bad_rating`` when rated).

Example:
    >>> def row(d, t, judge, rules=()):
    ...     return {"kind": "turn", "dialogue_id": d, "turn_index": t, "reward": 0.0,
    ...             "sources": {"judge": judge}, "fired": [{"rule": r} for r in rules]}
    >>> base = [row("d1", 1, 2.0), row("d1", 3, 4.0, ["cot_leak"]), row("d2", 1, 3.0)]
    >>> cand = [row("d1", 1, 5.0), row("d1", 3, 4.0, ["max_length"]), row("d2", 1, 4.0)]
    >>> res = evaluate(cand, base)
    >>> res.candidate.avg_rating, res.candidate.excellent_share
    (4.333333333333333, 0.5)
    >>> res.bad_cases.bad_cases, res.bad_cases.fix_rate, res.bad_cases.clean_fix_rate
    (2, 1.0, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from repo_sdk.degenerate import degenerate_sources
from repo_sdk.errors import InputError
from repo_sdk.io.rows import dialogue_path, read_rows
from repo_sdk.rows import DialogueRow, TurnRow, rules_per_turn

__all__ = ["BadCase", "BadCaseMetrics", "EvalResult", "RunMetrics", "evaluate", "load_run"]

Key = tuple[str, int]
Status = Literal["clean_fix", "fixed_new_problem", "not_fixed", "missing"]


class RunMetrics(BaseModel):
    """The per-run numbers of the paper's table (plus the counts behind them)."""

    turns: int
    dialogues: int
    rating_available: bool = Field(description="whether any turn has a value of the rating source")
    rated_turns: int
    avg_rating: float | None
    rated_dialogues: int
    excellent_dialogues: int
    excellent_share: float | None = Field(description="rated dialogues with >= 1 excellent reply, as a share")
    turns_with_rule_hit: int
    rule_fire_rate: float | None
    rule_rates: dict[str, float] = Field(description="per rule: share of turns it fires on")
    dialogue_wide_hits: int = Field(0, description="dialogue-level hits without a turn_index (not in the rates)")


class BadCase(BaseModel):
    """One baseline bad case and what became of it in the candidate run."""

    dialogue_id: str
    turn_index: int
    flagged_by: list[Literal["rules", "rating"]]
    baseline_rules: list[str]
    baseline_rating: float | None
    candidate_rules: list[str] | None = None
    candidate_rating: float | None = None
    status: Status
    remaining_rules: list[str] = Field(default_factory=list)
    new_rules: list[str] = Field(default_factory=list)
    note: str = ""


class BadCaseMetrics(BaseModel):
    """Fix and clean-fix rates over the baseline's bad cases that have a candidate partner."""

    bad_cases: int
    flagged_by_rules: int
    flagged_by_rating: int
    paired: int
    missing: int
    fixed: int
    clean_fixed: int
    fix_rate: float | None = Field(description="fixed / paired")
    clean_fix_rate: float | None = Field(description="clean_fixed / paired")
    missing_pairs: list[tuple[str, int]] = Field(description="(dialogue_id, turn_index) absent from the candidate")
    cases: list[BadCase]


class EvalResult(BaseModel):
    """Everything ``repo-sdk eval`` reports; ``notes`` say what could not be computed and why."""

    rating_source: str
    excellent: float
    bad_rating: float
    candidate: RunMetrics
    baseline: RunMetrics | None = None
    bad_cases: BadCaseMetrics | None = None
    notes: list[str] = Field(default_factory=list)
    refused: str | None = Field(None, description="why the fix rates were not computed (a degenerate rating source)")


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _key(row: Mapping[str, Any]) -> Key:
    return (str(row["dialogue_id"]), int(row["turn_index"]))


def _rating(row: Mapping[str, Any], source: str) -> float | None:
    if source == "reward":
        return _num(row.get("reward"))
    sources = row.get("sources")
    return _num(sources.get(source)) if isinstance(sources, dict) else None


def check_turn_rows(rows: Sequence[TurnRow], label: str) -> None:
    """Raise :class:`InputError` naming ``label`` if a row is not a usable turn row or a turn repeats."""
    seen: set[Key] = set()
    for i, r in enumerate(rows, start=1):
        if not isinstance(r, dict) or r.get("kind", "turn") != "turn":
            kind = r.get("kind") if isinstance(r, dict) else type(r).__name__
            raise InputError(f"{label}: row {i} is not a turn row of `repo-sdk score` (kind={kind!r})")
        for field in ("dialogue_id", "turn_index", "sources"):
            if r.get(field) is None:
                raise InputError(f"{label}: row {i} lacks {field!r}; is this the output of `repo-sdk score`?")
        if isinstance(r["turn_index"], bool) or not isinstance(r["turn_index"], int):
            raise InputError(f"{label}: row {i}: turn_index must be an integer, got {r['turn_index']!r}")
        if not isinstance(r["sources"], dict) or not isinstance(r.get("fired", []), list):
            raise InputError(f"{label}: row {i}: 'sources' must be an object and 'fired' a list")
        if _key(r) in seen:
            raise InputError(
                f"{label}: row {i}: turn {_key(r)} appears twice: two dialogues of the scored input share the id "
                f"{_key(r)[0]!r} (give each dialogue its own id)"
            )
        seen.add(_key(r))


def load_run(path: str | Path) -> tuple[list[TurnRow], list[DialogueRow]]:
    """Read a run: turn rows from ``path``, dialogue rows from its ``.dialogues`` sibling if present.

    Dialogue rows found in ``path`` itself are accepted too. Raises :class:`InputError` for a
    missing file, a row that is no turn or dialogue row (naming file, line, key and value), or a
    file without turn rows.
    """
    turns: list[TurnRow] = []
    dialogues: list[DialogueRow] = []
    side = dialogue_path(path)
    for i, row in enumerate(read_rows(path), start=1):
        if row["kind"] == "skipped":
            raise InputError(f"{path}: row {i} lists a skipped record; pass the scored output, not the skipped list")
        (turns if row["kind"] == "turn" else dialogues).append(row)  # type: ignore[arg-type]
    if not turns:
        raise InputError(f"{path}: no turn rows")
    check_turn_rows(turns, str(path))
    if side.exists():
        for i, row in enumerate(read_rows(side), start=1):
            if row["kind"] != "dialogue":
                raise InputError(f"{side}: row {i} is a {row['kind']} row, not a dialogue row")
            dialogues.append(row)  # type: ignore[arg-type]
    return turns, dialogues


def turn_hits(
    turn_rows: Sequence[Mapping[str, Any]], dialogue_rows: Sequence[Mapping[str, Any]] = ()
) -> tuple[dict[Key, set[str]], int]:
    """Rules fired per turn (:func:`repo_sdk.rows.rules_per_turn`, by ``(dialogue_id, turn_index)``), and
    the dialogue-wide hits."""
    rules, wide = rules_per_turn(turn_rows, dialogue_rows)
    return {_key(r): fired for r, fired in zip(turn_rows, rules, strict=True)}, wide


def run_metrics(
    turn_rows: Sequence[TurnRow],
    dialogue_rows: Sequence[DialogueRow] = (),
    *,
    rating_source: str = "judge",
    excellent: float = 5.0,
) -> RunMetrics:
    """Average rating, share of conversations with an excellent reply, and rule fire rates of one run."""
    hits, wide = turn_hits(turn_rows, dialogue_rows)
    ratings = [(str(r["dialogue_id"]), v) for r in turn_rows if (v := _rating(r, rating_source)) is not None]
    rated = {d for d, _ in ratings}
    great = {d for d, v in ratings if v >= excellent}
    n = len(turn_rows)
    per_rule: dict[str, int] = {}
    for rules in hits.values():
        for rule in rules:
            per_rule[rule] = per_rule.get(rule, 0) + 1
    with_hit = sum(1 for rules in hits.values() if rules)
    return RunMetrics(
        turns=n,
        dialogues=len({str(r["dialogue_id"]) for r in turn_rows}),
        rating_available=bool(ratings),
        rated_turns=len(ratings),
        avg_rating=sum(v for _, v in ratings) / len(ratings) if ratings else None,
        rated_dialogues=len(rated),
        excellent_dialogues=len(great),
        excellent_share=len(great) / len(rated) if rated else None,
        turns_with_rule_hit=with_hit,
        rule_fire_rate=with_hit / n if n else None,
        rule_rates={k: per_rule[k] / n for k in sorted(per_rule, key=lambda k: (-per_rule[k], k))},
        dialogue_wide_hits=wide,
    )


def _judge_case(
    key: Key,
    base_rules: set[str],
    base_rating: float | None,
    cand: tuple[set[str], float | None] | None,
    *,
    bad_rating: float,
) -> BadCase:
    flagged: list[Literal["rules", "rating"]] = []
    if base_rules:
        flagged.append("rules")
    if base_rating is not None and base_rating <= bad_rating:
        flagged.append("rating")
    common = {
        "dialogue_id": key[0],
        "turn_index": key[1],
        "flagged_by": flagged,
        "baseline_rules": sorted(base_rules),
        "baseline_rating": base_rating,
    }
    if cand is None:
        return BadCase(**common, status="missing", note="no candidate turn with this (dialogue_id, turn_index)")
    cand_rules, cand_rating = cand
    remaining, new = sorted(base_rules & cand_rules), sorted(cand_rules - base_rules)
    notes = []
    fixed = not remaining
    if "rating" in flagged:
        if cand_rating is None:
            notes.append("candidate rating missing: the low rating cannot be shown fixed")
        fixed = fixed and cand_rating is not None and cand_rating > bad_rating
    # a missing rating is "could not score", not a low rating: it blocks a rating fix but is no new problem
    low_now = cand_rating is not None and cand_rating <= bad_rating
    clean = fixed and not new and not low_now
    status: Status = "clean_fix" if clean else "fixed_new_problem" if fixed else "not_fixed"
    return BadCase(
        **common,
        candidate_rules=sorted(cand_rules),
        candidate_rating=cand_rating,
        status=status,
        remaining_rules=remaining,
        new_rules=new,
        note="; ".join(notes),
    )


def bad_case_metrics(
    candidate: Sequence[TurnRow],
    baseline: Sequence[TurnRow],
    candidate_dialogues: Sequence[DialogueRow] = (),
    baseline_dialogues: Sequence[DialogueRow] = (),
    *,
    rating_source: str = "judge",
    bad_rating: float = 2.0,
) -> BadCaseMetrics:
    """Bad cases of the baseline and whether the candidate fixed them (cleanly)."""
    base_hits, _ = turn_hits(baseline, baseline_dialogues)
    cand_hits, _ = turn_hits(candidate, candidate_dialogues)
    cand_rating = {_key(r): _rating(r, rating_source) for r in candidate}
    cases = []
    for r in baseline:
        key, rating = _key(r), _rating(r, rating_source)
        if not base_hits[key] and not (rating is not None and rating <= bad_rating):
            continue
        cand = (cand_hits[key], cand_rating[key]) if key in cand_hits else None
        cases.append(_judge_case(key, base_hits[key], rating, cand, bad_rating=bad_rating))
    paired = [c for c in cases if c.status != "missing"]
    fixed = sum(c.status != "not_fixed" for c in paired)
    clean = sum(c.status == "clean_fix" for c in paired)
    return BadCaseMetrics(
        bad_cases=len(cases),
        flagged_by_rules=sum("rules" in c.flagged_by for c in cases),
        flagged_by_rating=sum("rating" in c.flagged_by for c in cases),
        paired=len(paired),
        missing=len(cases) - len(paired),
        fixed=fixed,
        clean_fixed=clean,
        fix_rate=fixed / len(paired) if paired else None,
        clean_fix_rate=clean / len(paired) if paired else None,
        missing_pairs=[(c.dialogue_id, c.turn_index) for c in cases if c.status == "missing"],
        cases=cases,
    )


def _absent_note(label: str, source: str, rows: Sequence[TurnRow]) -> str:
    present = sorted({str(k) for r in rows for k, v in (r.get("sources") or {}).items() if v is not None})
    return (
        f"rating source {source!r} is absent from the {label} run: no turn has a {source!r} value "
        f"(sources with values: {', '.join(present) or 'none'}); ratings are not computed. Score with a "
        f"{source!r} source, or pass --rating-source reward to rate by the combined reward."
    )


def evaluate(
    candidate_rows: Sequence[TurnRow],
    baseline_rows: Sequence[TurnRow] | None = None,
    *,
    rating_source: str = "judge",
    excellent: float = 5.0,
    bad_rating: float = 2.0,
    candidate_dialogues: Sequence[DialogueRow] = (),
    baseline_dialogues: Sequence[DialogueRow] = (),
    allow_degenerate: bool = False,
) -> EvalResult:
    """Evaluate a scored run, and against a baseline run if given (see the module docstring).

    A degenerate source (:mod:`repo_sdk.degenerate`: constant on >= 90% of its scored
    turns, or None on >= 50%) is named in ``notes``. Fix rates need ratings that
    separate good from bad turns: when the rating source is degenerate in either run,
    they are refused (``bad_cases`` None, ``refused`` says why) unless ``allow_degenerate``.

    Args:
        candidate_rows: turn rows of the run under evaluation.
        baseline_rows: turn rows of the baseline run; enables bad cases, fix and clean-fix rates.
        rating_source: the source whose value is the rating (``"judge"``), or ``"reward"``.
        excellent: a rating ``>= excellent`` is an excellent reply.
        bad_rating: a rating ``<= bad_rating`` makes a baseline turn a bad case.
        candidate_dialogues: dialogue rows of the candidate (their turn-indexed hits count).
        baseline_dialogues: dialogue rows of the baseline.
        allow_degenerate: compute fix rates even from a degenerate rating source.

    Returns:
        The metrics; ``notes`` explain anything that could not be computed.

    Raises:
        InputError: a row is not a turn row, or a ``(dialogue_id, turn_index)`` repeats.

    Example:
        >>> r = evaluate([{"kind": "turn", "dialogue_id": "d", "turn_index": 1, "reward": 1.0,
        ...                "sources": {"rules": 0.0}, "fired": []}])
        >>> r.candidate.rule_fire_rate, r.candidate.avg_rating, r.notes[0][:31]
        (0.0, None, "rating source 'judge' is absent")
    """
    for name, value in (("excellent", excellent), ("bad_rating", bad_rating)):
        if not math.isfinite(value):
            raise InputError(f"{name} must be a finite number, got {value!r}")
    check_turn_rows(candidate_rows, "candidate rows")
    notes: list[str] = []
    if rating_source == "reward":
        notes.append(
            "ratings are the combined reward, not a 1-5 expert scale: set --excellent and "
            "--bad-rating on the reward's scale"
        )
    cand = run_metrics(candidate_rows, candidate_dialogues, rating_source=rating_source, excellent=excellent)
    if not cand.rating_available:
        notes.append(_absent_note("candidate", rating_source, candidate_rows))
    runs = [("candidate", candidate_rows)] + ([("baseline", baseline_rows)] if baseline_rows is not None else [])
    useless = []
    for label, rows in runs:
        for bad in degenerate_sources(rows):
            notes.append(f"{label} run: {bad.message()}: it carries no signal")
            if bad.source == rating_source and any(_rating(r, rating_source) is not None for r in rows):
                useless.append(f"{label} run: {bad.message()}")
    if rating_source == "reward":
        rewards = [{"sources": {"reward": _num(r.get("reward"))}} for _, rows in runs for r in rows]
        useless += [bad.message() for bad in degenerate_sources(rewards)]
    refused = None
    if useless and baseline_rows is not None and not allow_degenerate:
        refused = (
            f"fix rates refused: the rating source is degenerate ({'; '.join(useless)}), so its bad cases and "
            "fixes would be noise; rate with another --rating-source, or pass --allow-degenerate"
        )
        notes.append(refused)
    base = cases = None
    if baseline_rows is not None:
        check_turn_rows(baseline_rows, "baseline rows")
        base = run_metrics(baseline_rows, baseline_dialogues, rating_source=rating_source, excellent=excellent)
        if not base.rating_available:
            notes.append(
                _absent_note("baseline", rating_source, baseline_rows) + " Bad cases are flagged by rules only."
            )
        if refused is None:
            cases = bad_case_metrics(
                candidate_rows,
                baseline_rows,
                candidate_dialogues,
                baseline_dialogues,
                rating_source=rating_source,
                bad_rating=bad_rating,
            )
        if cases is not None and cases.missing:
            notes.append(
                f"{cases.missing} of {cases.bad_cases} bad cases have no candidate turn with the same "
                "(dialogue_id, turn_index); they are listed as missing pairs and left out of the rates"
            )
    return EvalResult(
        rating_source=rating_source,
        excellent=excellent,
        bad_rating=bad_rating,
        candidate=cand,
        baseline=base,
        bad_cases=cases,
        notes=notes,
        refused=refused,
    )
