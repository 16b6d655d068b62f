"""The HTML report of a scored run: one self-contained page (inline CSS and SVG, no scripts, no network).

Sections: warnings about degenerate sources, summary (with telemetry), evaluation (when given:
the paper's table, per-rule fire-rate changes, bad cases with both replies), source agreement
(correlations, scatters, the largest disagreements), worst and best turns, reward
distributions (with the baseline's overlaid), one section per rule (fire rate, examples,
reward of hit against clean turns), reward against reply length, and the worst dialogues.
Every turn shown is a card: why its reward is what it is, the turns before it, the reply
with the rules' evidence marked, the judge's reason and every source's value.

Example:
    >>> import tempfile, pathlib
    >>> rows = [{"kind": "turn", "dialogue_id": "d1", "turn_index": 1, "response": "Hi <b>",
    ...          "reward": -0.2, "sources": {"rules": -20.0, "judge": None}, "fired": []}]
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> write_report(rows, [], out, title="nightly run")
    >>> html = out.read_text()
    >>> "Hi &lt;b&gt;" in html and "<script" not in html
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repo_sdk.io.atomic import atomic_write
from repo_sdk.report.page import render_page
from repo_sdk.report.sections import build_sections
from repo_sdk.rows import DialogueRow, TurnRow

if TYPE_CHECKING:
    from repo_sdk.evaluation import EvalResult
    from repo_sdk.near_miss import NearMisses

__all__ = ["render_report", "write_report"]


def render_report(
    turn_rows: Sequence[TurnRow],
    dialogue_rows: Sequence[DialogueRow],
    *,
    title: str,
    telemetry: Mapping[str, Any] | None = None,
    eval_result: EvalResult | None = None,
    worst: int = 20,
    generated: str | None = None,
    baseline_rows: Sequence[TurnRow] | None = None,
    baseline_dialogues: Sequence[DialogueRow] = (),
    rules: Sequence[str] = (),
    near_misses: Mapping[str, NearMisses] | None = None,
) -> str:
    """The report as an HTML string (see :func:`write_report` for the arguments).

    Example:
        >>> render_report([], [], title="empty").count("No turns.")
        2
    """
    sections = build_sections(
        turn_rows,
        dialogue_rows,
        telemetry=telemetry,
        eval_result=eval_result,
        worst=worst,
        baseline_rows=baseline_rows,
        baseline_dialogues=baseline_dialogues,
        rules=rules,
        near_misses=near_misses,
    )
    return render_page(title, sections, generated=generated)


def write_report(
    turn_rows: Sequence[TurnRow],
    dialogue_rows: Sequence[DialogueRow],
    path: str | Path,
    *,
    title: str,
    telemetry: Mapping[str, Any] | None = None,
    eval_result: EvalResult | None = None,
    worst: int = 20,
    baseline_rows: Sequence[TurnRow] | None = None,
    baseline_dialogues: Sequence[DialogueRow] = (),
    rules: Sequence[str] = (),
    near_misses: Mapping[str, NearMisses] | None = None,
) -> None:
    """Write the HTML report of a run to ``path`` atomically.

    Args:
        turn_rows: turn rows of the row contract (:mod:`repo_sdk.scoring`); None values are fine.
        dialogue_rows: dialogue rows (may be empty).
        path: the ``.html`` file to write; parent folders are created.
        title: the page title.
        telemetry: counters to show in the summary, flat (``{"judge_cache_hits": 12}``) or per
            source as :meth:`repo_sdk.RewardPipeline.telemetry` returns them.
        eval_result: an :class:`repo_sdk.evaluation.EvalResult` whose tables to include.
        worst: how many lowest-reward (and highest-reward) turns to show.
        baseline_rows: turn rows of the baseline run (with ``eval_result``): its replies beside the
            candidate's in the bad cases, its distributions overlaid, its telemetry.
        baseline_dialogues: dialogue rows of the baseline run.
        rules: the spec's rule names, so rules that never fired get a section too.
        near_misses: per rule, the replies that came close to firing it
            (:func:`repo_sdk.near_miss.find_near_misses`); None: not looked for.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "r.html"
        >>> write_report([], [], out, title="t", telemetry={"judge": {"cache_hits": 3}})
        >>> "cache_hits" in out.read_text()
        True
    """
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    html = render_report(
        turn_rows,
        dialogue_rows,
        title=title,
        telemetry=telemetry,
        eval_result=eval_result,
        worst=worst,
        generated=generated,
        baseline_rows=baseline_rows,
        baseline_dialogues=baseline_dialogues,
        rules=rules,
        near_misses=near_misses,
    )
    with atomic_write(path) as fh:
        fh.write(html)
