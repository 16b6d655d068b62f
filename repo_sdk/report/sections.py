"""The report's sections as plain data for the page template (charts as ready SVG markup).

Everything user-provided (ids, replies, reasons, evidence, rule names) stays a plain
string here and is escaped by the template's autoescape; only SVG produced by
:mod:`repo_sdk.report.svg` (which escapes its own text) and highlighted replies
(:mod:`repo_sdk.report.cards`, escaped segment by segment) are marked safe.

Example:
    >>> ctx = build_sections([{"dialogue_id": "d1", "turn_index": 1, "reward": 0.5,
    ...                        "sources": {"rules": 0.0}, "fired": [], "response": "Hi"}], [])
    >>> ctx["summary"]["turns"], [s["name"] for s in ctx["distributions"]]
    (1, ['reward', 'rules'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from repo_sdk.degenerate import degenerate_sources
from repo_sdk.report import agreement, compare, stats, svg
from repo_sdk.report.cards import ContextIndex, highlight, turn_card
from repo_sdk.report.eval_section import eval_section
from repo_sdk.report.per_rule import near_miss_note, rule_sections
from repo_sdk.report.stats import COMBINED, DASH, Bin, fmt
from repo_sdk.rows import DialogueRow, TurnRow, rules_per_turn

if TYPE_CHECKING:
    from repo_sdk.evaluation import EvalResult

__all__ = ["build_sections", "color_of", "highlight"]

_COLORS = {COMBINED: "#4f46e5", "rm": "#0d9488", "judge": "#d97706", "rules": "#e11d48"}
_PALETTE = ("#7c3aed", "#0284c7", "#65a30d", "#c026d3", "#ea580c", "#475569")
MAX_POINTS = 3000
DISAGREEMENTS = 5


def color_of(name: str, names: Sequence[str] = ()) -> str:
    """A stable colour per source: fixed for reward/rm/judge/rules, from a palette otherwise."""
    if name in _COLORS:
        return _COLORS[name]
    others = [n for n in names if n not in _COLORS]
    return _PALETTE[(others.index(name) if name in others else len(name)) % len(_PALETTE)]


def _summary(turns: Sequence[TurnRow], dialogues: Sequence[DialogueRow], names: list[str]) -> dict[str, Any]:
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
    hit_sets, wide = rules_per_turn(turns, dialogues)
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
        "dialogue_wide_hits": wide,
    }


def _distributions(
    turns: Sequence[TurnRow], baseline: Sequence[TurnRow] | None, names: list[str]
) -> list[dict[str, Any]]:
    out = []
    for name in [COMBINED, *names]:
        vals = stats.values_of(turns, name)
        base = stats.values_of(baseline, name) if baseline is not None else None
        bins = stats.histogram_bins(vals if base is None else vals + base)
        if base is not None:  # both runs on the same bins: the candidate's as bars, the baseline's as outlines
            bins = [Bin(b.lo, b.hi, c, b.label) for b, c in zip(bins, stats.count_into(bins, vals), strict=True)]
        color = color_of(name, names)
        chart = svg.histogram(
            bins,
            color=color,
            label=f"distribution of {name}",
            overlay=stats.count_into(bins, base) if base is not None else None,
        )
        out.append(
            {
                "name": name,
                "color": color,
                "n": len(vals),
                "missing": len(turns) - len(vals),
                "mean": fmt(stats.mean(vals)),
                "base_n": None if base is None else len(base),
                "base_mean": None if base is None else fmt(stats.mean(base)),
                "svg": Markup(chart),
            }
        )
    return out


def _agreement(turns: Sequence[TurnRow], names: list[str], series: list[str], context: ContextIndex) -> dict[str, Any]:
    anchor = "rm" if "rm" in names else (names[0] if names else None)
    pairs = [(anchor, other) for other in ("judge", "rules", *names) if anchor and other in names and other != anchor]
    scatters = []
    for a, b in list(dict.fromkeys(pairs))[:3]:
        points = agreement.paired(turns, a, b)
        if not points:
            continue
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        shown = points[:: max(1, -(-len(points) // MAX_POINTS))]
        found = agreement.disagreements(turns, a, b, DISAGREEMENTS)
        scatters.append(
            {
                "a": a,
                "b": b,
                "n": len(points),
                "r": fmt(stats.pearson(xs, ys)),
                "rho": fmt(agreement.spearman(xs, ys)),
                "svg": Markup(
                    svg.scatter(
                        [(p[0], p[1]) for p in shown], color=color_of(b, names), x_label=a, y_label=b, width=560
                    )
                ),
                "constant": [n for n, v in ((a, xs), (b, ys)) if len(set(v)) == 1],
                "cards": [
                    turn_card(
                        row,
                        context,
                        names,
                        label=f"{a} {'high' if ra > rb else 'low'} ({ra:.0%} rank), "
                        f"{b} {'low' if ra > rb else 'high'} ({rb:.0%} rank)",
                    )
                    for ra, rb, row in found
                ],
            }
        )
    corr_names = [n for n in series if stats.values_of(turns, n)]
    spearman = [
        [
            (agreement.spearman([p[0] for p in ps], [p[1] for p in ps]), len(ps))
            for ps in (agreement.paired(turns, a, b) for b in corr_names)
        ]
        for a in corr_names
    ]
    enough = len(corr_names) >= 2
    return {
        "names": corr_names,
        "pearson": Markup(svg.heatmap(corr_names, stats.correlation_matrix(turns, corr_names))) if enough else None,
        "spearman": Markup(svg.heatmap(corr_names, spearman, title="rank correlation")) if enough else None,
        "scatters": scatters,
    }


def _best(turns: Sequence[TurnRow], k: int) -> list[TurnRow]:
    scored = [(reward, r) for r in turns if (reward := stats.num(r.get("reward"))) is not None]
    return [r for _, r in sorted(scored, key=lambda pair: -pair[0])][: max(0, k)]


def _dialogues(dialogues: Sequence[DialogueRow], k: int) -> list[dict[str, Any]]:
    def key(d: DialogueRow) -> tuple[bool, float]:
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


def build_sections(
    turn_rows: Sequence[TurnRow],
    dialogue_rows: Sequence[DialogueRow],
    *,
    telemetry: Mapping[str, Any] | None = None,
    eval_result: EvalResult | None = None,
    worst: int = 20,
    baseline_rows: Sequence[TurnRow] | None = None,
    baseline_dialogues: Sequence[DialogueRow] = (),
    rules: Sequence[str] = (),
    near_misses: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The template context: warnings, summary, eval, distributions, rules, agreement, length, turns."""
    turns = [r for r in turn_rows if isinstance(r, dict)]
    dialogues = [d for d in dialogue_rows if isinstance(d, dict)]
    base = [r for r in baseline_rows if isinstance(r, dict)] if baseline_rows is not None else None
    names = stats.source_names(turns + (base or []))
    context = ContextIndex(turns, dialogues)
    warnings = [f"{'candidate run: ' if base is not None else ''}{d.message()}" for d in degenerate_sources(turns)]
    warnings += [f"baseline run: {d.message()}" for d in degenerate_sources(base or [])]
    runs = [("baseline", base), ("candidate", turns)] if base is not None else [("this run", turns)]
    # this run's counters as the caller has them (the pipeline's, after `score`), else those its rows carry
    telemetries = [
        (label, telemetry if telemetry and label != "baseline" else compare.row_telemetry(rows)) for label, rows in runs
    ]
    rates = stats.fire_rates(turns, dialogues)
    per_rule = rule_sections(turns, dialogues, context, names, rules, near_misses)
    anchors = {s["rule"]: f"#{s['anchor']}" for s in per_rule}
    points = [(float(stats.reply_length(r)), v) for r in turns if (v := stats.value_of(r, COMBINED)) is not None]
    r_len = stats.pearson([p[0] for p in points], [p[1] for p in points])
    shown = points[:: max(1, -(-len(points) // MAX_POINTS))]
    summary = _summary(turns, dialogues, names)
    summary["telemetry"] = compare.telemetry_table(telemetries)
    summary["telemetry_runs"] = [label for label, _ in runs]
    return {
        "warnings": warnings,
        "summary": summary,
        "distributions": _distributions(turns, base, names),
        "rules": {
            "bars": [
                {"rule": rule, "pct": f"{share * 100:.2f}", "text": f"{share:.1%} · {n} turns", "href": anchors[rule]}
                for rule, n, share in rates
            ],
            "count": len(rates),
            "sections": per_rule,
            "near_miss": near_miss_note(near_misses),
        },
        "agreement": _agreement(turns, names, [COMBINED, *names], context),
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
        "worst": [turn_card(r, context, names) for r in stats.worst_turns(turns, worst)],
        "best": [turn_card(r, context, names) for r in _best(turns, worst)],
        "dialogues": _dialogues(dialogues, 15),
        "eval": eval_section(eval_result, turns, base or [], baseline_dialogues) if eval_result is not None else None,
    }
