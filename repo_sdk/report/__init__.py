"""The HTML report of a scored run: one self-contained page (inline CSS and SVG, no scripts, no network).

Sections: summary (with telemetry), evaluation tables (when given), reward distributions per
source and combined, rule fire rates, correlation between sources, reward against reply length,
the worst turns with their reasons, and the worst dialogues.

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

if TYPE_CHECKING:
    from repo_sdk.evaluation import EvalResult

__all__ = ["render_report", "write_report"]


def render_report(
    turn_rows: Sequence[dict[str, Any]],
    dialogue_rows: Sequence[dict[str, Any]],
    *,
    title: str,
    telemetry: Mapping[str, Any] | None = None,
    eval_result: EvalResult | None = None,
    worst: int = 20,
    generated: str | None = None,
) -> str:
    """The report as an HTML string (see :func:`write_report` for the arguments).

    Example:
        >>> render_report([], [], title="empty").count("No turns.")
        2
    """
    sections = build_sections(turn_rows, dialogue_rows, telemetry=telemetry, eval_result=eval_result, worst=worst)
    return render_page(title, sections, generated=generated)


def write_report(
    turn_rows: Sequence[dict[str, Any]],
    dialogue_rows: Sequence[dict[str, Any]],
    path: str | Path,
    *,
    title: str,
    telemetry: Mapping[str, Any] | None = None,
    eval_result: EvalResult | None = None,
    worst: int = 20,
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
        worst: how many lowest-reward turns to list.

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
    )
    with atomic_write(path) as fh:
        fh.write(html)
