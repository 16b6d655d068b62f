"""Every command in the README runs as written: the quick start end to end, the rest too.

The quick start (init, validate, score twice, eval) runs verbatim in an empty folder
(``quick_start`` in conftest.py), with the real parts: the RM ``init`` trains, the
embedded judge, the negotiation rules. The reports it writes must explain every turn,
give every rule that fired its examples, and set the candidate beside the baseline.
The other commands run verbatim too, after it, except three that train or serve for
minutes or until stopped (their own tests run them): those are parsed against the CLI.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import textwrap
from pathlib import Path
from typing import Any

import click
import pytest
import typer

from repo_sdk.cli import app
from repo_sdk.io.rows import read_rows

_spec = importlib.util.spec_from_file_location("readme_conftest", Path(__file__).with_name("conftest.py"))
assert _spec and _spec.loader
conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(conftest)

# the quick start trains an RM and runs the embedded judge twice: minutes, more on a busy machine
pytestmark = pytest.mark.timeout(3600)

# train or serve for minutes, or until stopped: parsed here, run by their own tests
LONG = ("repo-sdk rm train ", "repo-sdk train --trainer trl ", "repo-sdk serve ")


def test_quick_start_runs_verbatim(quick_start: Any) -> None:
    lines = conftest.bash_blocks("## Quick start")
    assert [r[0] for r in quick_start.runs] == lines
    for line, code, output, seconds in quick_start.runs:
        assert code == 0, f"`{line}` exited {code} after {seconds:.0f}s:\n{output[-3000:]}"
    init_output = quick_start.runs[0][2]
    # init says up front that it trains an RM and for about how long, then prints plain progress lines
    assert re.search(r"training the example RM on \d+ preference pairs .*: about \d+m\d\ds on 2 free CPU", init_output)
    assert re.search(r"RM training: step \d+/\d+ \(\d+%\), \d+\S* elapsed", init_output)
    assert "\r" not in init_output  # no progress bar redrawn into a log
    # scoring with the embedded judge takes minutes: off a terminal, plain progress lines, the last one done
    score_output = quick_start.runs[2][2]
    assert re.search(r"^scoring: dialogue (\d+)/\1 \(100%\), \S+ elapsed, done$", score_output, re.M)
    assert "\r" not in score_output  # (loading the RM draws no bar either)
    for name in ("out/baseline.jsonl", "out/candidate.jsonl", "out/report.html", "out/eval.html"):
        assert (quick_start.cwd / name).is_file(), name


def test_quick_start_report_explains_every_turn_and_rule(quick_start: Any) -> None:
    html = (quick_start.cwd / "out" / "report.html").read_text(encoding="utf-8")
    rows = list(read_rows(quick_start.cwd / "out" / "baseline.jsonl"))
    fired = {h["rule"] for r in rows for h in r["fired"]}
    assert len(fired) >= 8
    for rule in fired:  # each rule that fired has its section with at least one example card
        at = html.index(f"<h4>{rule}</h4>")
        section = html[at : html.find('<div class="rule"', at)]
        assert '<article class="card">' in section, rule
    worst = html[html.index('id="worst"') : html.index('id="best"')]
    assert worst.count('<article class="card">') == worst.count('class="why"') == 20
    assert worst.count("RM +") + worst.count("RM -") == 20 and "multiplier" in worst
    assert worst.count('<details class="ctx">') == 20  # the turns before each reply
    assert 'id="agree"' in html and "largest\n disagreement" in html


def test_quick_start_eval_sets_candidate_beside_baseline(quick_start: Any) -> None:
    html = (quick_start.cwd / "out" / "eval.html").read_text(encoding="utf-8")
    ev = html[html.index('id="eval"') : html.index('id="agree"')]
    assert "bad-case fix rate" in ev and ev.count('<div class="case">') >= 15
    assert "negotiation.silence_as_consent" in ev and " pp</td>" in ev.replace("\n", "")
    assert "baseline (dashed)" in html
    summary = html[html.index('id="summary"') : html.index('id="eval"')]
    assert '<th class="num">baseline</th>' in summary and "judge · calls" in summary


def _parse(line: str) -> None:
    """Parse a command line against the CLI (options, arguments, subcommands) without running it."""
    args = shlex.split(line)[1:]
    command: click.Command = typer.main.get_command(app)
    ctx = command.make_context("repo-sdk", args)
    while isinstance(command, click.Group):
        _, command, rest = command.resolve_command(ctx, [*ctx.protected_args, *ctx.args])  # type: ignore[assignment]
        assert command is not None, line
        ctx = command.make_context(command.name, rest, parent=ctx)


def test_other_readme_commands_run_verbatim(quick_start: Any) -> None:
    assert all(code == 0 for _, code, _, _ in quick_start.runs), "the quick start failed"
    lines = conftest.bash_blocks("## What else you can do with it")
    assert any(line.startswith(LONG) for line in lines) and len(lines) >= 8
    for line in lines:
        if line.startswith(LONG):
            _parse(line)
            continue
        proc = conftest.run_line(line, quick_start.cwd, quick_start.env, timeout=600)
        assert proc.returncode == 0, f"`{line}` exited {proc.returncode}:\n{(proc.stdout + proc.stderr)[-2000:]}"


def test_readme_python_example_runs(quick_start: Any) -> None:
    assert all(code == 0 for _, code, _, _ in quick_start.runs), "the quick start failed"
    text = conftest.README.read_text(encoding="utf-8")
    code = textwrap.dedent(re.search(r"```python\n(.*?)```", text, re.DOTALL).group(1))  # type: ignore[union-attr]
    script = quick_start.cwd / "example.py"
    script.write_text(code, encoding="utf-8")
    proc = conftest.run_line(f"python {script.name}", quick_start.cwd, quick_start.env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"^-?\d", proc.stdout), proc.stdout  # the reward, first on its line
