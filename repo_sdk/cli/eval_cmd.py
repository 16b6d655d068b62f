"""`repo-sdk eval RUN [--baseline BASE]`: the paper's evaluation on scored runs (docs/eval.md).

The rating source (the judge by default) stands in for the human experts and the rules for
the guardrails. Prints a table (baseline beside candidate), optionally writes JSON and the
HTML report with the evaluation tables.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.evaluation import EvalResult, RunMetrics, evaluate, load_run
from repo_sdk.io.atomic import atomic_write
from repo_sdk.io.paths import check_outputs
from repo_sdk.io.rows import dialogue_path

__all__ = ["eval_command", "render_tables"]

_MAX_LISTED = 20


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def _metric_rows(m: RunMetrics) -> list[str]:
    return [
        str(m.turns),
        str(m.dialogues),
        str(m.rated_turns),
        _num(m.avg_rating),
        f"{_pct(m.excellent_share)} ({m.excellent_dialogues}/{m.rated_dialogues})",
        f"{_pct(m.rule_fire_rate)} ({m.turns_with_rule_hit}/{m.turns})",
    ]


def render_tables(result: EvalResult, console: Console) -> None:
    """Print the run metrics side by side and, with a baseline, the bad-case table."""
    runs = (
        [("baseline", result.baseline), ("candidate", result.candidate)]
        if result.baseline
        else [("candidate", result.candidate)]
    )
    table = Table(title=f"repo-sdk eval (rating: {result.rating_source})", title_justify="left")
    table.add_column("metric")
    for name, _ in runs:
        table.add_column(name, justify="right")
    labels = [
        "turns",
        "dialogues",
        f"rated turns ({result.rating_source})",
        "average rating",
        f"conversations with >=1 excellent reply (>= {result.excellent:g})",
        "rule fire rate",
    ]
    columns = [_metric_rows(m) for _, m in runs if m is not None]
    for i, label in enumerate(labels):
        table.add_row(label, *(c[i] for c in columns))
    console.print(table)
    b = result.bad_cases
    if b is None:
        return
    bad = Table(title=f"bad cases (rule hit or rating <= {result.bad_rating:g} in the baseline)", title_justify="left")
    bad.add_column("metric")
    bad.add_column("value", justify="right")
    bad.add_row("bad cases", str(b.bad_cases))
    bad.add_row("  flagged by rules / by rating", f"{b.flagged_by_rules} / {b.flagged_by_rating}")
    bad.add_row("paired with a candidate turn", str(b.paired))
    bad.add_row("missing pairs (not in the rates)", str(b.missing))
    bad.add_row("bad-case fix rate", f"{_pct(b.fix_rate)} ({b.fixed}/{b.paired})")
    bad.add_row("clean fix rate", f"{_pct(b.clean_fix_rate)} ({b.clean_fixed}/{b.paired})")
    console.print(bad)
    if b.missing_pairs:
        shown = ", ".join(f"{d}#{t}" for d, t in b.missing_pairs[:_MAX_LISTED])
        extra = len(b.missing_pairs) - _MAX_LISTED
        more = f" (+{extra} more, all in --json)" if extra > 0 else ""
        console.print(f"missing pairs (dialogue#turn): {shown}{more}", highlight=False, markup=False)


@app.command("eval")
@cli_errors
def eval_command(
    run: Annotated[Path, typer.Argument(help="turn rows written by `repo-sdk score` (JSONL or Parquet)")],
    baseline: Annotated[Path | None, typer.Option("--baseline", "-b", help="turn rows of the baseline run")] = None,
    rating_source: Annotated[
        str,
        typer.Option("--rating-source", help="source whose value is the rating; 'reward' rates by the combined reward"),
    ] = "judge",
    excellent: Annotated[float, typer.Option("--excellent", help="a rating >= this is an excellent reply")] = 5.0,
    bad_rating: Annotated[float, typer.Option("--bad-rating", help="a baseline rating <= this makes a bad case")] = 2.0,
    report: Annotated[
        Path | None, typer.Option("--report", help="write the HTML report (with the eval tables) here")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="write the full result (every bad case) as JSON")
    ] = None,
    allow_degenerate: Annotated[
        bool,
        typer.Option("--allow-degenerate", help="compute fix rates even when the rating source is constant or missing"),
    ] = False,
) -> None:
    """Evaluate a scored run the paper's way: average rating, excellent conversations, rule fire rate;
    with --baseline, bad-case fix rate and clean fix rate (docs/eval.md)."""
    inputs = [run, dialogue_path(run), baseline, dialogue_path(baseline) if baseline is not None else None]
    check_outputs({"--json": json_out, "--report": report}, inputs=inputs)
    cand_turns, cand_dialogues = load_run(run)
    base_turns, base_dialogues = load_run(baseline) if baseline is not None else (None, [])
    result = evaluate(
        cand_turns,
        base_turns,
        rating_source=rating_source,
        excellent=excellent,
        bad_rating=bad_rating,
        candidate_dialogues=cand_dialogues,
        baseline_dialogues=base_dialogues,
        allow_degenerate=allow_degenerate,
    )
    render_tables(result, Console(width=None if sys.stdout.isatty() else 110))
    for note in result.notes:
        if note != result.refused:
            typer.echo(f"warning: {note}", err=True)
    if json_out is not None:
        with atomic_write(json_out) as fh:
            fh.write(result.model_dump_json(indent=2) + "\n")
        typer.echo(f"wrote {json_out}", err=True)
    if report is not None:
        from repo_sdk.report import write_report

        title = f"repo-sdk eval: {run.name}" + (f" vs {baseline.name}" if baseline is not None else "")
        write_report(
            cand_turns,
            cand_dialogues,
            report,
            title=title,
            eval_result=result,
            baseline_rows=base_turns,
            baseline_dialogues=base_dialogues,
        )
        typer.echo(f"wrote {report}", err=True)
    if result.refused:
        typer.echo(f"error: {result.refused}", err=True)
        raise typer.Exit(1)
