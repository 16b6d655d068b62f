"""The evaluation section of the report: the paper's table, bad cases with both replies, rule deltas.

Example:
    >>> from repo_sdk.evaluation import evaluate
    >>> rows = [{"kind": "turn", "dialogue_id": "d", "turn_index": 1, "reward": 0.1,
    ...          "sources": {"judge": 4.0}, "fired": [], "response": "fine"}]
    >>> base = [dict(rows[0], fired=[{"rule": "cot_leak"}], response="<think>")]
    >>> ev = eval_section(evaluate(rows, base), rows, base, [])
    >>> [r["rule"] for r in ev["deltas"]], str(ev["bad"]["cases"][0]["baseline"]["reply"])
    (['cot_leak'], '&lt;think&gt;')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from repo_sdk.report.compare import bad_case_rows, rule_deltas
from repo_sdk.report.stats import DASH, fmt
from repo_sdk.rows import DialogueRow, TurnRow

if TYPE_CHECKING:
    from repo_sdk.evaluation import EvalResult

__all__ = ["eval_section"]


def _pct(v: float | None) -> str:
    return DASH if v is None else f"{v:.2%}"


def eval_section(
    result: EvalResult,
    candidate_rows: Sequence[TurnRow],
    baseline_rows: Sequence[TurnRow],
    baseline_dialogues: Sequence[DialogueRow],
) -> dict[str, Any]:
    """The template data of the evaluation section (``baseline_rows`` empty when the caller has none)."""
    runs = (
        [("baseline", result.baseline), ("candidate", result.candidate)]
        if result.baseline
        else [("candidate", result.candidate)]
    )
    metric_rows = [
        ("turns", [str(m.turns) for _, m in runs]),
        ("dialogues", [str(m.dialogues) for _, m in runs]),
        (f"rated turns ({result.rating_source})", [str(m.rated_turns) for _, m in runs]),
        ("average rating", [fmt(m.avg_rating) for _, m in runs]),
        (
            f"conversations with ≥1 excellent reply (≥ {fmt(result.excellent)})",
            [f"{_pct(m.excellent_share)} ({m.excellent_dialogues}/{m.rated_dialogues})" for _, m in runs],
        ),
        (
            "rule fire rate (turns with a hit)",
            [f"{_pct(m.rule_fire_rate)} ({m.turns_with_rule_hit}/{m.turns})" for _, m in runs],
        ),
    ]
    ctx: dict[str, Any] = {
        "runs": [n for n, _ in runs],
        "metrics": metric_rows,
        "notes": result.notes,
        "rating_source": result.rating_source,
        "bad_rating": fmt(result.bad_rating),
        "deltas": rule_deltas(result),
        "replies": bool(baseline_rows),
    }
    b = result.bad_cases
    if b is not None:
        ctx["bad"] = {
            "rows": [
                ("bad cases in the baseline", str(b.bad_cases)),
                ("… flagged by rules / by rating", f"{b.flagged_by_rules} / {b.flagged_by_rating}"),
                ("paired with a candidate turn", str(b.paired)),
                ("missing pairs (not in the rates)", str(b.missing)),
                ("bad-case fix rate", f"{_pct(b.fix_rate)} ({b.fixed}/{b.paired})"),
                ("clean fix rate", f"{_pct(b.clean_fix_rate)} ({b.clean_fixed}/{b.paired})"),
            ],
            "cases": bad_case_rows(result, candidate_rows, baseline_rows),
            "more": max(0, len(b.cases) - 300),
        }
    return ctx
