"""The report's sections as plain data for the page template (charts as ready SVG markup).

Everything user-provided (ids, replies, reasons, evidence, rule names) stays a plain
string here and is escaped by the template's autoescape; only SVG produced by
:mod:`repo_sdk.report.svg` (which escapes its own text) and the highlighted reply
(escaped segment by segment) are marked safe.

Example:
    >>> ctx = build_sections([{"dialogue_id": "d1", "turn_index": 1, "reward": 0.5,
    ...                        "sources": {"rules": 0.0}, "fired": [], "response": "Hi"}], [])
    >>> ctx["summary"]["turns"], [s["name"] for s in ctx["distributions"]]
    (1, ['reward', 'rules'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from repo_sdk.degenerate import degenerate_sources
from repo_sdk.report import stats, svg
from repo_sdk.report.stats import COMBINED, DASH, fmt

if TYPE_CHECKING:
    from repo_sdk.evaluation import EvalResult

__all__ = ["build_sections", "color_of", "highlight"]

_COLORS = {COMBINED: "#4f46e5", "rm": "#0d9488", "judge": "#d97706", "rules": "#e11d48"}
_PALETTE = ("#7c3aed", "#0284c7", "#65a30d", "#c026d3", "#ea580c", "#475569")
MAX_POINTS = 3000


def color_of(name: str, names: Sequence[str] = ()) -> str:
    """A stable colour per source: fixed for reward/rm/judge/rules, from a palette otherwise."""
    if name in _COLORS:
        return _COLORS[name]
    others = [n for n in names if n not in _COLORS]
    return _PALETTE[(others.index(name) if name in others else len(name)) % len(_PALETTE)]


def highlight(text: str, spans: Sequence[tuple[int, int, str]]) -> Markup:
    """``text`` escaped, with each ``(start, end, rule)`` span (clipped, overlaps merged) in ``<mark>``.

    Example:
        >>> str(highlight("a <b> c", [(2, 5, "tag")]))
        'a <mark title="tag">&lt;b&gt;</mark> c'
    """
    clean = sorted((max(0, s), min(len(text), e), rule) for s, e, rule in spans if min(len(text), e) > max(0, s))
    merged: list[list[Any]] = []
    for s, e, rule in clean:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
            merged[-1][2] += f", {rule}" if rule not in merged[-1][2].split(", ") else ""
        else:
            merged.append([s, e, rule])
    out, pos = [], 0
    for s, e, rule in merged:
        out.append(escape(text[pos:s]))
        out.append(f'<mark title="{escape(rule)}">{escape(text[s:e])}</mark>')
        pos = e
    out.append(escape(text[pos:]))
    return Markup("".join(out))


def _spans(row: Mapping[str, Any]) -> list[tuple[int, int, str]]:
    out = []
    for h in row.get("fired") or []:
        span = h.get("span") if isinstance(h, dict) else None
        if isinstance(span, (list, tuple)) and len(span) == 2 and all(isinstance(x, int) for x in span):
            out.append((span[0], span[1], str(h.get("rule"))))
    return out


def _summary(
    turns: Sequence[dict[str, Any]],
    dialogues: Sequence[dict[str, Any]],
    names: list[str],
    telemetry: Mapping[str, Any] | None,
) -> dict[str, Any]:
    rewards = stats.values_of(turns, COMBINED)
    ids = {str(r.get("dialogue_id")) for r in turns} | {str(d.get("dialogue_id")) for d in dialogues}
    per_source = []
    for name in [COMBINED, *names]:
        vals = stats.values_of(turns, name)
        per_source.append(
            {
                "name": name,
                "color": color_of(name, names),
                "n": len(vals),
                "missing": len(turns) - len(vals),
                "mean": fmt(stats.mean(vals)),
                "min": fmt(min(vals) if vals else None),
                "max": fmt(max(vals) if vals else None),
            }
        )
    flat: list[tuple[str, str]] = []
    for key, value in (telemetry or {}).items():
        if isinstance(value, Mapping):
            flat.extend((f"{key} · {k}", fmt(v) if stats.num(v) is not None else str(v)) for k, v in value.items())
        else:
            flat.append((str(key), fmt(value) if stats.num(value) is not None else str(value)))
    hit_sets, wide = stats.turn_rules(turns, dialogues)
    with_hit = sum(1 for rules in hit_sets if rules)
    return {
        "turns": len(turns),
        "dialogues": len(ids - {"None"}) if turns or dialogues else 0,
        "mean": fmt(stats.mean(rewards)),
        "min": fmt(min(rewards) if rewards else None),
        "max": fmt(max(rewards) if rewards else None),
        "reward_missing": len(turns) - len(rewards),
        "with_hit": with_hit,
        "hit_share": f"{with_hit / len(turns):.1%}" if turns else DASH,
        "sources": per_source,
        "telemetry": flat,
        "dialogue_wide_hits": wide,
        "degenerate": [d.message() for d in degenerate_sources(turns)],
    }


_COMBINER_TERMS = ("E", "E_judge", "E_rules", "multiplier")


def _worst(turns: Sequence[dict[str, Any]], names: list[str], k: int) -> list[dict[str, Any]]:
    out = []
    for r in stats.worst_turns(turns, k):
        reasons = r.get("reasons") if isinstance(r.get("reasons"), dict) else {}
        response = r.get("response") if isinstance(r.get("response"), str) else ""
        hits = [h for h in r.get("fired") or [] if isinstance(h, dict)]
        out.append(
            {
                "dialogue_id": str(r.get("dialogue_id")),
                "turn_index": r.get("turn_index"),
                "reward": fmt(stats.num(r.get("reward"))),
                "sources": [(n, fmt(stats.value_of(r, n))) for n in names],
                "combiner": _combiner_terms(r.get("combiner")),
                "hits": [
                    {
                        "rule": str(h.get("rule")),
                        "points": fmt(stats.num(h.get("points"))),
                        "reason": str(h.get("reason") or ""),
                        "evidence": str(h.get("evidence") or ""),
                    }
                    for h in hits
                ],
                "judge_reason": str(reasons.get("judge") or ""),
                "other_reasons": [(str(n), str(v)) for n, v in reasons.items() if n not in ("judge", "rules") and v],
                "reply": highlight(response, _spans(r)),
                "length": len(response),
            }
        )
    return out


def _combiner_terms(details: Any) -> list[tuple[str, str]]:
    """The combiner's breakdown of one turn (REPO: E, E_judge, E_rules, multiplier, veto) as label/value pairs."""
    if not isinstance(details, dict):
        return []
    out = [(k, fmt(stats.num(details.get(k)))) for k in _COMBINER_TERMS if stats.num(details.get(k)) is not None]
    if isinstance(details.get("veto"), list) and details["veto"]:
        out.append(("veto", ", ".join(str(v) for v in details["veto"])))
    return out


def _dialogues(dialogues: Sequence[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    def key(d: dict[str, Any]) -> tuple[bool, float]:
        v = stats.num(d.get("reward_mean"))
        return (v is None, v if v is not None else 0.0)

    return [
        {
            "dialogue_id": str(d.get("dialogue_id")),
            "turns": d.get("turns"),
            "mean": fmt(stats.num(d.get("reward_mean"))),
            "min": fmt(stats.num(d.get("reward_min"))),
            "fired": d.get("fired_count") or 0,
            "worst_rule": str(d.get("worst_rule") or DASH),
            "dialogue_rules": sorted(
                {str(h.get("rule")) for h in d.get("dialogue_fired") or [] if isinstance(h, dict)}
            ),
        }
        for d in sorted(dialogues, key=key)[:k]
    ]


def _eval(result: EvalResult) -> dict[str, Any]:
    def pct(v: float | None) -> str:
        return DASH if v is None else f"{v:.2%}"

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
            [f"{pct(m.excellent_share)} ({m.excellent_dialogues}/{m.rated_dialogues})" for _, m in runs],
        ),
        (
            "rule fire rate (turns with a hit)",
            [f"{pct(m.rule_fire_rate)} ({m.turns_with_rule_hit}/{m.turns})" for _, m in runs],
        ),
    ]
    ctx: dict[str, Any] = {
        "runs": [n for n, _ in runs],
        "metrics": metric_rows,
        "notes": result.notes,
        "rating_source": result.rating_source,
        "bad_rating": fmt(result.bad_rating),
    }
    b = result.bad_cases
    if b is not None:
        ctx["bad"] = {
            "rows": [
                ("bad cases in the baseline", str(b.bad_cases)),
                ("… flagged by rules / by rating", f"{b.flagged_by_rules} / {b.flagged_by_rating}"),
                ("paired with a candidate turn", str(b.paired)),
                ("missing pairs (not in the rates)", str(b.missing)),
                ("bad-case fix rate", f"{pct(b.fix_rate)} ({b.fixed}/{b.paired})"),
                ("clean fix rate", f"{pct(b.clean_fix_rate)} ({b.clean_fixed}/{b.paired})"),
            ],
            "cases": b.cases[:300],
            "more": max(0, len(b.cases) - 300),
        }
    return ctx


def build_sections(
    turn_rows: Sequence[dict[str, Any]],
    dialogue_rows: Sequence[dict[str, Any]],
    *,
    telemetry: Mapping[str, Any] | None = None,
    eval_result: EvalResult | None = None,
    worst: int = 20,
) -> dict[str, Any]:
    """The template context: summary, distributions, rules, correlation, length, worst turns, eval."""
    turns = [r for r in turn_rows if isinstance(r, dict)]
    dialogues = [d for d in dialogue_rows if isinstance(d, dict)]
    names = stats.source_names(turns)
    series = [COMBINED, *names]
    dists = []
    for name in series:
        vals = stats.values_of(turns, name)
        dists.append(
            {
                "name": name,
                "color": color_of(name, names),
                "n": len(vals),
                "missing": len(turns) - len(vals),
                "mean": fmt(stats.mean(vals)),
                "svg": Markup(
                    svg.histogram(
                        stats.histogram_bins(vals), color=color_of(name, names), label=f"distribution of {name}"
                    )
                ),
            }
        )
    rates = stats.fire_rates(turns, dialogues)
    corr_names = [n for n in series if stats.values_of(turns, n)]
    points = [(float(stats.reply_length(r)), v) for r in turns if (v := stats.value_of(r, COMBINED)) is not None]
    r_len = stats.pearson([p[0] for p in points], [p[1] for p in points])
    shown = points[:: max(1, -(-len(points) // MAX_POINTS))]
    return {
        "summary": _summary(turns, dialogues, names, telemetry),
        "distributions": dists,
        "rules": {
            "svg": Markup(
                svg.bars(
                    [(rule, share, f"{share:.1%} · {n} turns") for rule, n, share in rates],
                    color=_COLORS["rules"],
                    max_value=1.0,
                    label="rule fire rates",
                )
            ),
            "count": len(rates),
        },
        "correlation": {
            "svg": Markup(svg.heatmap(corr_names, stats.correlation_matrix(turns, corr_names)))
            if len(corr_names) >= 2
            else None,
            "names": corr_names,
        },
        "length": {
            "svg": Markup(
                svg.scatter(
                    shown, color=_COLORS[COMBINED], x_label="reply length (characters)", y_label="combined reward"
                )
            ),
            "r": fmt(r_len),
            "n": len(points),
            "shown": len(shown),
            "r_value": r_len,
        },
        "worst": _worst(turns, names, worst),
        "dialogues": _dialogues(dialogues, 15),
        "eval": _eval(eval_result) if eval_result is not None else None,
    }
