"""`repo-sdk score LOGS --config SPEC -o OUT`: score logged dialogues offline."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import typer

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.config import load_spec
from repo_sdk.errors import ConfigError, InputError, RunError
from repo_sdk.io.paths import check_output_folder, check_outputs
from repo_sdk.io.rows import dialogue_path
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.run_checks import none_rate_problems, probe_judges
from repo_sdk.score_run import ProgressMode, ScoreSummary, journal_path, score_file, skipped_path
from repo_sdk.shards.ray_engine import RayOptions, builds_elsewhere, score_file_ray
from repo_sdk.shards.store import shards_path
from repo_sdk.types import Dialogue
from repo_sdk.workers import default_workers

if TYPE_CHECKING:
    from repo_sdk.config import InputSpec, LoadedSpec
    from repo_sdk.near_miss import NearMisses


@app.command()
@cli_errors
def score(
    logs: Path = typer.Argument(..., help="logged dialogues: JSONL, Parquet, or a saved Hugging Face dataset dir"),
    config: Path = typer.Option(..., "--config", "-c", help="reward spec (YAML)"),
    output: Path = typer.Option(..., "--output", "-o", help="turn rows (.jsonl or .parquet); dialogue rows go beside"),
    only: str | None = typer.Option(None, help="comma-separated sources to run; the others count as missing"),
    resume: bool = typer.Option(False, "--resume", help="continue an interrupted run of the same input and spec"),
    on_error: str = typer.Option(
        "fail",
        "--on-error",
        help="fail: stop at the first bad record or source error (--resume goes on after the fix); "
        "skip: list bad records aside, a source error gives that turn None with the reason",
    ),
    report: Path | None = typer.Option(None, "--report", help="also write a self-contained HTML report here"),
    batch_size: int | None = typer.Option(None, min=1, help="samples per source call (default: the spec's)"),
    progress: bool | None = typer.Option(
        None,
        "--progress/--no-progress",
        help="progress bar on stderr (default: a bar on a terminal, else a plain line every 10 s)",
    ),
    workers: int | None = typer.Option(
        None,
        min=1,
        help="worker processes scoring groups of dialogues (default: every core when only rules run, "
        "else 1: an RM or an embedded judge would be loaded once per worker)",
    ),
    judge_optional: bool = typer.Option(
        False, "--judge-optional", help="score without a judge whose server does not answer (default: stop)"
    ),
    max_none_rate: float = typer.Option(
        0.2, "--max-none-rate", help="fail the run when the judge, RM or rules give None on more than this share"
    ),
    engine: str = typer.Option(
        "local", "--engine", help="local: this machine (--workers); ray: a Ray cluster (docs/scale.md)"
    ),
    address: str | None = typer.Option(
        None,
        "--address",
        help="--engine ray: the cluster: auto (the one `ray start` runs on this machine) or the head's "
        "host:port (default: RAY_ADDRESS, else a new local Ray)",
    ),
    actors: int | None = typer.Option(
        None,
        "--actors",
        min=1,
        help="--engine ray: actors scoring blocks, each with its own pipeline (default: one per CPU of the "
        "cluster when only rules run, one per --actor-gpus share of its GPUs, else 1)",
    ),
    actor_gpus: float | None = typer.Option(
        None, "--actor-gpus", min=0.0, help="--engine ray: GPUs per actor, for an RM loaded in the actors"
    ),
    block_records: int | None = typer.Option(
        None, "--block-records", min=1, help="--engine ray: records per block, the unit of work and of --resume (500)"
    ),
) -> None:
    """Score every assistant turn of logged dialogues, plus one row per dialogue."""
    if on_error not in ("fail", "skip"):
        raise ConfigError(f"--on-error must be 'fail' or 'skip', got {on_error!r}")
    if not 0.0 <= max_none_rate <= 1.0:
        raise ConfigError(f"--max-none-rate must be between 0 and 1, got {max_none_rate}")
    ray_options = {
        "--address": address,
        "--actors": actors,
        "--actor-gpus": actor_gpus,
        "--block-records": block_records,
    }
    _check_engine(engine, workers, ray_options)
    outputs = {"-o": output, "dialogue rows": dialogue_path(output), "skipped list": skipped_path(output)}
    check_outputs({**outputs, "journal": journal_path(output), "--report": report}, inputs=[logs, config])
    if engine == "ray":
        check_output_folder("the shard folder", shards_path(output), inputs=[logs, config])
    loaded = load_spec(config)
    if not logs.exists():
        raise InputError(f"{logs}: no such file")
    only_set = [s.strip() for s in only.split(",") if s.strip()] if only else None
    mode: Literal["fail", "skip"] = "skip" if on_error == "skip" else "fail"
    defer = builds_elsewhere if engine == "ray" else None
    with RewardPipeline.from_spec(loaded, only=only_set, defer=defer) as pipe:
        set_aside = _probe_judges(pipe, judge_optional)
        show: ProgressMode = (True if sys.stderr.isatty() else "lines") if progress is None else progress
        run = _run(loaded, resume, mode, batch_size)
        if engine == "ray":
            options = RayOptions(address, actors, actor_gpus or 0.0, block_records or RayOptions.block_records)
            summary = score_file_ray(pipe, logs, output, options=options, progress=show, **run)
        else:
            if workers is None:
                workers = default_workers(pipe)
            elif workers > 1 and workers > default_workers(pipe):
                typer.echo(f"note: each of the {workers} workers loads its own copy of the spec's models", err=True)
            summary = score_file(pipe, logs, output, workers=workers, progress=show, **run)
        summary.set_aside = set_aside
        problems = none_rate_problems(pipe, summary.source_none, summary.first_none, summary.turns, max_none_rate)
        rule_names = pipe.rule_names()
        if report is not None:
            from repo_sdk.evaluation import load_run

            turns, dialogues = load_run(output)
            near = _near_misses(pipe, logs, loaded.spec.input, turns)
    print_summary(summary)
    if report is not None:
        from repo_sdk.report import write_report

        write_report(
            turns,
            dialogues,
            report,
            title=f"repo-sdk score: {logs.name}",
            telemetry=summary.telemetry,
            rules=rule_names,
            near_misses=near,
        )
        typer.echo(f"report -> {report}", err=True)
    if problems:
        raise RunError(f"{problems[0]} (rows written to {output})")


def _near_misses(
    pipe: RewardPipeline, logs: Path, mapping: InputSpec | None, turns: Sequence[Mapping[str, Any]]
) -> dict[str, NearMisses]:
    """The report's near-misses: the looser copies of the rules that have one, over the scored dialogues."""
    from repo_sdk.io.readers import iter_records
    from repo_sdk.near_miss import find_near_misses, near_miss_rules

    looser = sorted({rule.name for src in near_miss_rules(pipe) for rule in src.turn_rules})
    if looser:
        typer.echo(f"report: looking for near-misses of {', '.join(looser)}", err=True)
    dialogues = (d for _, d in iter_records(logs, mapping) if isinstance(d, Dialogue))
    return find_near_misses(pipe, dialogues, turns)


class _RunOptions(TypedDict):
    mapping: InputSpec | None
    resume: bool
    on_error: Literal["fail", "skip"]
    batch_size: int | None


def _run(loaded: LoadedSpec, resume: bool, on_error: Literal["fail", "skip"], batch_size: int | None) -> _RunOptions:
    """What both engines take from the command line and the spec alike."""
    return {"mapping": loaded.spec.input, "resume": resume, "on_error": on_error, "batch_size": batch_size}


def _check_engine(engine: str, workers: int | None, ray_options: Mapping[str, object]) -> None:
    """Options that belong to the other engine are refused, not ignored."""
    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine must be 'local' or 'ray', got {engine!r}")
    if engine == "ray" and workers is not None:
        raise ConfigError("--workers is for --engine local; --engine ray scales with --actors")
    given = [name for name, value in ray_options.items() if value is not None]
    if engine == "local" and given:
        raise ConfigError(f"{given[0]} is for --engine ray (got --engine local)")


def _probe_judges(pipe: RewardPipeline, optional: bool) -> dict[str, str]:
    """Probe each judge server once; stop on one that does not answer, or set it aside if optional."""
    problems = probe_judges(pipe)
    if problems and not optional:
        name, problem = next(iter(problems.items()))
        raise RunError(f"judge {name!r}: {problem}; start it, fix base_url, or pass --judge-optional")
    for name, problem in problems.items():
        pipe.set_aside(name, f"judge not run: {problem} (--judge-optional)")
    return problems


def print_summary(summary: ScoreSummary) -> None:
    """The end-of-run table on stderr: totals, per-source means, rule fire rates, telemetry."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.4g}"

    table = Table(title="score summary", title_justify="left", show_header=False, show_edge=False)
    table.add_row("dialogues", str(summary.dialogues))
    table.add_row("assistant turns", str(summary.turns))
    if summary.skipped:
        table.add_row("skipped records", str(summary.skipped))
    if summary.resumed_from:
        table.add_row("resumed after record", str(summary.resumed_from))
    if summary.engine:
        table.add_row("engine", summary.engine)
    if summary.timings:
        table.add_row("seconds", ", ".join(f"{k} {v:.1f}" for k, v in summary.timings.items()))
    if summary.resumed_blocks:
        table.add_row("resumed", f"{summary.resumed_blocks} blocks were already scored")
    for name, problem in summary.set_aside.items():
        table.add_row(f"source {name}", f"NOT RUN: {problem} (--judge-optional)")
    for name, n in summary.source_errors.items():
        table.add_row(f"source {name} errors", f"{n} turns scored None; first: {summary.first_error[name]}")
    table.add_row("reward mean / min", f"{fmt(summary.reward_mean)} / {fmt(summary.reward_min)}")
    for name in sorted(set(summary.source_counts) | set(summary.source_none)):
        n = summary.source_counts[name]
        mean = summary.source_sums.get(name, 0.0) / n if n else None
        table.add_row(f"source {name}", f"mean {fmt(mean)}, not scored {summary.source_none[name]}")
    for rule, n in summary.rule_turns.most_common(10):
        table.add_row(f"rule {rule}", f"fires on {n / max(summary.turns, 1):.1%} of turns")
    for name, counters in summary.telemetry.items():
        table.add_row(f"telemetry {name}", ", ".join(f"{k}={fmt(v)}" for k, v in counters.items()))
    table.add_row("written", ", ".join(str(p) for p in summary.outputs))
    console.print(table)
    for bad in summary.degenerate:
        console.print(
            f"warning: {bad.message()}: it carries no signal", style="yellow", highlight=False, soft_wrap=True
        )
    shared = summary.ids.message()
    if shared:
        console.print(f"warning: {shared}", style="yellow", highlight=False, soft_wrap=True)
