"""init -> score -> report -> eval on the scaffold, with the real parts: the packaged MiniLM RM
trained by `init`, the embedded SmolLM2 judge over real HTTP, and the negotiation rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repo_sdk.cli import app
from repo_sdk.io.rows import dialogue_path, read_rows
from repo_sdk.plugins import ALLOW_ENV

runner = CliRunner()
pytestmark = pytest.mark.timeout(3600)  # the project comes from the README's quick start (conftest.py)
SAFE_REPLY = "Thank you for your time. Let me check this on my side and get back to you shortly."


def cli(*args: str | Path) -> object:
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="module")
def project(quick_start) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """The project of the README's quick start (`repo-sdk init my-project`: its RM trained once, judge cache fresh)."""
    line, code, output, _ = quick_start.runs[0]
    assert line.startswith("repo-sdk init my-project") and code == 0, output[-2000:]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPO_SDK_CACHE_DIR", quick_start.env["REPO_SDK_CACHE_DIR"])
        yield quick_start.cwd / "my-project"


def expected_hits(project: Path) -> dict[tuple[str, int], list[str]]:
    out = {}
    for line in (project / "dialogues.jsonl").read_text().splitlines():
        d = json.loads(line)
        for turn, rules in d["metadata"]["expected"].items():
            out[(d["id"], int(turn))] = rules
    return out


def test_scaffold_is_complete_and_valid(project: Path) -> None:
    for name in (
        "spec.yaml",
        "dialogues.jsonl",
        "preference_pairs.jsonl",
        "judges/negotiation.j2",
        "judges/pointwise.j2",
        "judges/pairwise.j2",
        "my-rules/pyproject.toml",
        "rm/config.json",
    ):
        assert (project / name).is_file(), name
    res = cli("validate", project / "spec.yaml")
    assert "rules (rules), judge (judge), rm (rm)" in res.output
    assert json.loads((project / "rm" / "repo_rm.json").read_text())  # the RM init trained


def test_score_full_spec_rules_judge_rm_with_report(project: Path) -> None:
    out = project / "out" / "scored.jsonl"
    res = cli(
        "score",
        project / "dialogues.jsonl",
        "-c",
        project / "spec.yaml",
        "-o",
        out,
        "--report",
        project / "out" / "report.html",
        "--no-progress",
    )
    rows = list(read_rows(out))
    assert len(rows) == 71
    judged = [r for r in rows if r["sources"]["judge"] is not None]
    assert len(judged) >= 0.9 * len(rows), [r["reasons"].get("judge") for r in rows if r not in judged][:3]
    assert all(1 <= r["sources"]["judge"] <= 5 for r in judged)
    assert all(isinstance(r["sources"]["rm"], float) for r in rows)
    for r in rows:  # REPO: the multiplier keeps the RM's sign
        if r["reward"] is not None and r["sources"]["rm"]:
            assert 0 <= r["combiner"]["multiplier"] <= 2
            assert (r["reward"] >= 0) == (r["sources"]["rm"] >= 0) or r["reward"] == 0
    fired = {(r["dialogue_id"], r["turn_index"]): {h["rule"] for h in r["fired"]} for r in rows}
    for d in read_rows(dialogue_path(out)):
        for h in d["dialogue_fired"]:
            fired.setdefault((d["dialogue_id"], h["turn_index"]), set()).add(h["rule"])
    for key, rules in expected_hits(project).items():
        assert set(rules) <= fired.get(key, set()), (key, rules, fired.get(key))
    assert "telemetry judge" in res.output
    html = (project / "out" / "report.html").read_text()
    assert "Rule fire rates" in html and "negotiation.silence_as_consent" in html


def test_eval_candidate_against_baseline(project: Path, tmp_path: Path) -> None:
    bad = expected_hits(project)
    candidate = tmp_path / "candidate.jsonl"
    with candidate.open("w") as fh:
        for line in (project / "dialogues.jsonl").read_text().splitlines():
            d = json.loads(line)
            for i, turn in enumerate(d["turns"]):
                if (d["id"], i) in bad:
                    turn["content"] = SAFE_REPLY
            fh.write(json.dumps(d) + "\n")
    runs = {}
    for name, logs in (("base", project / "dialogues.jsonl"), ("cand", candidate)):
        runs[name] = tmp_path / f"{name}.jsonl"
        cli("score", logs, "-c", project / "spec.yaml", "-o", runs[name], "--only", "rules,rm", "--no-progress")
    # the RM's scale is not 1-5: flag bad cases by rules only (no RM value is <= -1000)
    res = cli(
        "eval",
        runs["cand"],
        "--baseline",
        runs["base"],
        "--rating-source",
        "rm",
        "--bad-rating",
        "-1000",
        "--excellent",
        "0.05",
        "--json",
        tmp_path / "eval.json",
        "--report",
        tmp_path / "eval.html",
    )
    result = json.loads((tmp_path / "eval.json").read_text())
    base_rows = {(r["dialogue_id"], r["turn_index"]): r for r in read_rows(runs["base"])}
    flagged = {k for k, r in base_rows.items() if r["fired"]}
    cases = result["bad_cases"]["cases"]
    assert {(c["dialogue_id"], c["turn_index"]) for c in cases} >= flagged
    by_key = {(c["dialogue_id"], c["turn_index"]): c for c in cases}
    replaced = [k for k in bad if k in by_key and k in flagged]
    assert replaced and all(by_key[k]["status"] != "not_fixed" or by_key[k]["remaining_rules"] for k in replaced)
    assert result["bad_cases"]["fix_rate"] > 0.5
    assert "fix rate" in res.output.lower()
    assert "eval" in (tmp_path / "eval.html").read_text().lower()


def test_rule_plugin_skeleton_installs_and_is_found(project: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(project / "my-rules"),
        ],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop(ALLOW_ENV, None)
    listing = subprocess.run(
        [str(Path(sys.executable).with_name("repo-sdk")), "plugins", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rules = {r["name"]: r["package"] for r in json.loads(listing.stdout)["rules"]}
    assert rules["my.no_push_after_acceptance"] == "my-rules"
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project / "my-rules" / "tests")],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert tests.returncode == 0 and "3 passed" in tests.stdout, tests.stdout + tests.stderr
