"""End to end through inspect's own CLI: ``inspect eval`` runs a Task on the mock model with two
REPO scorers (rules only; a real tiny RM x the fake judge server x rules), both equal ``repo-sdk score``
on the same dialogues, and ``inspect score`` re-scores the log it wrote (rules spec: a fresh process
finds the scorer by name, as a user re-scoring a log does).

The Task (``negotiation_task.py``) holds hostile replies (empty, 1 MB, text aimed at the judge), an
agent whose tool output carries a chain of thought, and a sample whose task is not JSON.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import EvalLog, read_eval_log
from typer.testing import CliRunner

from repo_sdk.cli import app
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.scoring import turn_row
from repo_sdk.types import Dialogue

TASK_FILE = Path(__file__).with_name("negotiation_task.py")
_spec = importlib.util.spec_from_file_location("negotiation_task", TASK_FILE)
assert _spec is not None and _spec.loader is not None
task_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(task_module)
DIALOGUES: dict[str, Any] = task_module.DIALOGUES


def inspect_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "INSPECT_DISPLAY": "none", "INSPECT_LOG_LEVEL": "warning"}
    proc = subprocess.run(
        [sys.executable, "-m", "inspect_ai", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inspect-eval")
    shutil.copy(TASK_FILE, root / TASK_FILE.name)
    return root


@pytest.fixture(scope="module")
def eval_log(workdir: Path, rules_spec: Path, full_spec: Path) -> EvalLog:
    inspect_cli("eval", TASK_FILE.name, "-T", f"specs={rules_spec},{full_spec}", "--log-dir", "logs", cwd=workdir)
    (log_file,) = (workdir / "logs").glob("*.eval")
    return read_eval_log(str(log_file))


def scores_of(log: EvalLog, key: str) -> dict[str, Any]:
    return {str(s.id): s.scores[key] for s in log.samples or []}


def dialogue(key: str) -> dict[str, Any]:
    """The logged dialogue ``repo-sdk score`` reads for a sample: the transcript, then the reply."""
    turns, reply, task = DIALOGUES[key]
    agent = []
    if key == "agent":  # its call and the tool's answer are turns of the history
        call = {"name": "market_rate", "arguments": {"hotel": "Lumen"}}
        agent = [
            {"role": "assistant", "content": task_module.AGENT_PREAMBLE, "tool_calls": [call]},
            {"role": "tool", "name": "market_rate", "content": task_module.TOOL_TEXT},
        ]
    return {
        "id": key,
        "task": json.loads(task) if isinstance(task, str) else task,
        "turns": [
            *({"role": r, "content": c} for r, c in turns),
            *agent,
            {"role": "assistant", "content": reply},
        ],
    }


@pytest.fixture(scope="module")
def repo_sdk_rows(workdir: Path, rules_spec: Path, full_spec: Path) -> dict[str, dict[str, Any]]:
    """``repo-sdk score`` on the same dialogues: the last turn's row per dialogue, for each spec.

    ``repo-sdk score`` refuses a logged turn with no text, so the empty reply is scored by the
    pipeline directly (the one path both take).
    """
    path = workdir / "dialogues.jsonl"
    path.write_text("".join(json.dumps(dialogue(k)) + "\n" for k in DIALOGUES if k != "empty"), encoding="utf-8")
    out = {}
    for spec in (rules_spec, full_spec):
        target = workdir / f"scored-{spec.stem}.jsonl"
        result = CliRunner().invoke(app, ["score", str(path), "--config", str(spec), "-o", str(target)])
        assert result.exit_code == 0, result.output
        last = {}
        for row in map(json.loads, target.read_text(encoding="utf-8").splitlines()):
            if row["kind"] == "turn":
                last[row["dialogue_id"]] = row  # rows come in turn order: the last one is the reply
        with RewardPipeline.from_spec(spec) as pipe:
            (empty,) = Dialogue.model_validate(dialogue("empty")).samples()
            last["empty"] = turn_row(empty, pipe.score([empty])[0])
        out[spec.stem] = last
    return out


def test_eval_scores_every_sample_with_the_breakdown(eval_log: EvalLog):
    assert eval_log.status == "success"
    rules, full = scores_of(eval_log, "repo_reward_scorer"), scores_of(eval_log, "repo_reward_scorer1")
    assert set(rules) == set(full) == {*DIALOGUES, "bad_task"}
    for key in DIALOGUES:
        for score in (rules[key], full[key]):
            assert isinstance(score.value, float) and math.isfinite(score.value), (key, score)
            assert "\n" not in score.explanation and score.explanation.startswith("reward ")
    assert set(full["aurora"].metadata["sources"]) == {"rm", "judge", "rules"}
    assert full["aurora"].metadata["combiner"]["multiplier"] is not None and "E" in full["aurora"].metadata["combiner"]
    fired = {h["rule"]: h for h in full["cot"].metadata["fired"]}
    assert fired["cot_leak"]["evidence"] == "<think>they will cave</think>" and fired["cot_leak"]["points"] == -10
    assert "fired: cot_leak -10" in full["cot"].explanation
    huge = rules["huge"]
    assert huge.metadata["scored"]["reply_chars"] == len(task_module.HUGE) and len(huge.answer) < 600
    assert [h["rule"] for h in huge.metadata["fired"]] == ["max_length"]
    assert rules["empty"].metadata["scored"]["reply_chars"] == 0
    for score in (rules["bad_task"], full["bad_task"]):  # unscored, with the reason; the others are not affected
        assert math.isnan(score.value) and score.reason == "scoring_failed"
        assert "metadata.task: the task is not JSON: '{not json'" in score.explanation
    (result,) = [r for r in eval_log.results.scores if r.name == "repo_reward_scorer"]
    assert result.scored_samples == len(DIALOGUES) and result.unscored_samples == 1
    assert result.metrics["mean"].value == pytest.approx(sum(rules[k].value for k in DIALOGUES) / len(DIALOGUES))


def test_eval_equals_repo_sdk_score(eval_log: EvalLog, repo_sdk_rows: dict[str, dict[str, Any]]):
    for key_in_log, spec in (("repo_reward_scorer", "rules"), ("repo_reward_scorer1", "full")):
        scores, rows = scores_of(eval_log, key_in_log), repo_sdk_rows[spec]
        for key in DIALOGUES:
            meta, row = scores[key].metadata, rows[key]
            assert scores[key].value == pytest.approx(row["reward"], rel=1e-5), (spec, key)
            assert meta["sources"].keys() == row["sources"].keys()
            for name, value in row["sources"].items():
                # the judge's verdict hashes its whole prompt: equal values mean equal task, history and reply
                assert meta["sources"][name] == pytest.approx(value, rel=1e-5), (spec, key, name)
            assert [h["rule"] for h in meta["fired"]] == [h["rule"] for h in row["fired"]]


def test_tool_output_reaches_the_judge_fenced_and_never_the_reply_or_rules(eval_log: EvalLog, judge: Any):
    agent = scores_of(eval_log, "repo_reward_scorer1")["agent"]
    assert agent.metadata["scored"]["tool_calls"] == ["market_rate"]
    assert agent.metadata["scored"]["history_turns"] == 3  # the question, the agent's call, the tool's answer
    assert agent.metadata["fired"] == []  # the tool's <think> block would fire cot_leak
    users = [m["content"] for body in judge.bodies for m in body["messages"] if m["role"] == "user"]
    with_tool = [u for u in users if "TOOLTEXT" in u]
    assert with_tool, "the judge never saw the agent's tool exchange"
    for prompt in with_tool:
        fenced = prompt[prompt.index("<tool_output>") : prompt.index("</tool_output>")]
        assert "‹think›TOOLTEXT" in fenced  # inside the fence the template wrote, as data
        assert prompt.count("TOOLTEXT") == 1
        reply = prompt[prompt.index("<reply>") :]
        assert "TOOLTEXT" not in reply and "Would 85 EUR work for you?" in reply
        assert task_module.AGENT_PREAMBLE in prompt and 'calls tool market_rate with {"hotel": "Lumen"}' in prompt


def test_inspect_score_rescores_the_log(workdir: Path, eval_log: EvalLog, rules_spec: Path):
    """The scorer found by name through the package's entry point, in a fresh process, on the written log."""
    (log_file,) = (workdir / "logs").glob("*.eval")
    out = workdir / "rescored.eval"
    scorer = ["--scorer", "repo_sdk_inspect/repo_reward_scorer", "-S", f"config={rules_spec}", "-S", "missing=noanswer"]
    inspect_cli("score", str(log_file), *scorer, "--action", "overwrite", "--output-file", str(out), cwd=workdir)
    rescored = read_eval_log(str(out))
    before, after = scores_of(eval_log, "repo_reward_scorer"), scores_of(rescored, "repo_reward_scorer")
    for key in DIALOGUES:
        assert after[key].value == before[key].value, key
        assert after[key].metadata["fired"] == before[key].metadata["fired"]
    assert after["bad_task"].value == "N" and after["bad_task"].reason == "scoring_failed"
    assert [(s.name, s.options["missing"]) for s in rescored.eval.scorers or []] == [("repo_reward_scorer", "noanswer")]
