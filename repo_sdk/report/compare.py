"""The eval report's comparisons: bad cases with both replies, per-rule fire-rate deltas, telemetry of both runs.

Telemetry is read from the rows themselves: a source that keeps per-item counters (the
judge: calls, retries, cache hits, latency) writes them in ``details.<source>.telemetry``
of every turn row, so two scored files carry what each run cost without a side file.

Example:
    >>> rows = [{"details": {"judge": {"telemetry": {"calls": 1, "cache_hit": False, "latency_s": 0.5}}}},
    ...         {"details": {"judge": {"telemetry": {"calls": 0, "cache_hit": True, "latency_s": 0.0}}}}]
    >>> row_telemetry(rows)
    {'judge': {'calls': 1, 'cache_hit': 1, 'latency_s': 0.5, 'items': 2}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from repo_sdk.report import explain, stats
from repo_sdk.report.cards import excerpt, rule_spans
from repo_sdk.report.stats import DASH, fmt

if TYPE_CHECKING:
    from repo_sdk.evaluation import EvalResult

__all__ = ["bad_case_rows", "rule_deltas", "row_telemetry", "telemetry_table"]

MAX_CASES = 300
CASE_CHARS = 900


def row_telemetry(turn_rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Per source, the sum of each per-item counter in the rows (booleans count their true items), and ``items``."""
    out: dict[str, dict[str, float]] = {}
    for r in turn_rows:
        details = r.get("details")
        if not isinstance(details, Mapping):
            continue
        for name, d in details.items():
            tel = d.get("telemetry") if isinstance(d, Mapping) else None
            if not isinstance(tel, Mapping):
                continue
            acc = out.setdefault(str(name), {})
            for key, value in tel.items():
                if isinstance(value, bool):
                    acc[key] = acc.get(key, 0) + int(value)
                elif (v := stats.num(value)) is not None:
                    acc[key] = acc.get(key, 0) + (value if isinstance(value, int) else v)
            acc["items"] = acc.get("items", 0) + 1
    return {name: {k: round(v, 4) if isinstance(v, float) else v for k, v in acc.items()} for name, acc in out.items()}


def telemetry_table(runs: Sequence[tuple[str, Mapping[str, Any] | None]]) -> list[tuple[str, list[str]]]:
    """``(counter, [value per run])`` rows for telemetry that is flat or per source, in first-seen order."""
    flat: list[dict[str, str]] = []
    for _, tel in runs:
        values: dict[str, str] = {}
        for key, value in (tel or {}).items():
            items = value.items() if isinstance(value, Mapping) else [(None, value)]
            for k, v in items:
                label = str(key) if k is None else f"{key} · {k}"
                values[label] = fmt(stats.num(v)) if stats.num(v) is not None else str(v)
        flat.append(values)
    labels = list(dict.fromkeys(label for values in flat for label in values))
    return [(label, [values.get(label, DASH) for values in flat]) for label in labels]


def rule_deltas(result: EvalResult) -> list[dict[str, Any]]:
    """Per rule: its fire rate in the baseline and the candidate and the change, largest change first."""
    if result.baseline is None:
        return []
    base, cand = result.baseline.rule_rates, result.candidate.rule_rates
    rows: list[dict[str, Any]] = []
    for rule in sorted(set(base) | set(cand)):
        b, c = base.get(rule, 0.0), cand.get(rule, 0.0)
        rows.append({"rule": rule, "baseline": f"{b:.1%}", "candidate": f"{c:.1%}", "delta": c - b})
    rows.sort(key=lambda r: (-abs(r["delta"]), r["rule"]))
    for r in rows:
        r["delta_text"] = f"{r['delta'] * 100:+.1f} pp"
    return rows


def bad_case_rows(
    result: EvalResult, candidate_rows: Sequence[Mapping[str, Any]], baseline_rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The first :data:`MAX_CASES` bad cases with the baseline's and the candidate's replies, evidence marked."""
    if result.bad_cases is None:
        return []

    def index(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, Any], Mapping[str, Any]]:
        return {(str(r.get("dialogue_id")), r.get("turn_index")): r for r in rows}

    base, cand = index(baseline_rows), index(candidate_rows)
    out = []
    for case in result.bad_cases.cases[:MAX_CASES]:
        key = (case.dialogue_id, case.turn_index)
        pair = []
        for row in (base.get(key), cand.get(key)):
            text = row.get("response") if row is not None and isinstance(row.get("response"), str) else None
            pair.append(
                {
                    "reply": excerpt(text, rule_spans(row), CASE_CHARS) if text is not None and row else None,
                    "reward": fmt(stats.num(row.get("reward"))) if row is not None else DASH,
                    "why": explain.why(row) if row is not None else "",
                }
            )
        out.append({"case": case, "baseline": pair[0], "candidate": pair[1]})
    return out
