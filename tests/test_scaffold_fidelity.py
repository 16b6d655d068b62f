"""The `repo-sdk init` scaffold as a reward under attack: its REPO reward ranks the clean twin of each
adversarial pair first, text aimed at the judge never lifts a reply, and an empty reply scores below every
clean reply. Real parts: the scaffold's RM trained by `init` (MiniLM, --augment), its calibrated positive
scale, the negotiation and core rules, and the embedded judge where the test says so."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from repo_sdk_negotiation import twins_path
from typer.testing import CliRunner

from repo_sdk.cli import app
from repo_sdk.fidelity import ScoredTwin, read_twins, score_twins, win_share
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.types import Sample, Turn

runner = CliRunner()
pytestmark = pytest.mark.timeout(3600)  # the project comes from the README's quick start (conftest.py)
EMPTY = ["", "   ", "\n", "...", "🙂", "?!", "N/A"]


@pytest.fixture(scope="module")
def project(quick_start, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """A copy of the project `repo-sdk init` made for the README's quick start (its RM trained once a session)."""
    line, code, output, _ = quick_start.runs[0]
    assert line.startswith("repo-sdk init my-project") and code == 0, output[-2000:]
    root = tmp_path_factory.mktemp("fidelity")
    shutil.copytree(quick_start.cwd / "my-project", root / "proj", ignore=shutil.ignore_patterns("out"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPO_SDK_CACHE_DIR", str(root / "cache"))  # a fresh judge cache: real calls
        yield root / "proj"


@pytest.fixture(scope="module")
def without_judge(project: Path) -> list[ScoredTwin]:
    """Every twin pair through the scaffold's spec with rules and RM (the judge left out: 0 points)."""
    with RewardPipeline.from_spec(project / "spec.yaml", only=["rules", "rm"]) as pipe:
        return score_twins(pipe, read_twins(twins_path()))


def clean_turns(project: Path) -> list[Sample]:
    out = []
    for line in (project / "dialogues.jsonl").read_text().splitlines():
        d = json.loads(line)
        planted = {int(k) for k in d["metadata"]["expected"]}
        for i, t in enumerate(d["turns"]):
            if t["role"] == "assistant" and i not in planted:
                history = [Turn(**x) for x in d["turns"][:i]]
                out.append(Sample(id=f"{d['id']}#{i}", task=d["task"], history=history, response=t["content"]))
    return out


def test_scaffold_puts_the_rm_on_a_calibrated_positive_scale_and_vetoes(project: Path) -> None:
    spec = yaml.safe_load((project / "spec.yaml").read_text())
    assert spec["sources"]["rm"]["normalize"] == {
        "file": "rm/calibration.json",
        "method": "positive_quantile",
        "floor": 0.5,
    }
    assert spec["combiner"]["veto"] == ["empty_reply", "judge_injection"]
    assert spec["combiner"]["judge"] == {"judge": {"scale": 12.5}}  # a small judge's noise weighs less
    assert {"empty_reply", "judge_injection", "flattery"} <= {
        r if isinstance(r, str) else r["name"] for r in spec["sources"]["rules"]["rules"]
    }
    meta = json.loads((project / "rm" / "repo_rm.json").read_text())
    assert meta["params"]["augment"] > 0 and meta["result"]["augmented_pairs"] > 0
    res = runner.invoke(app, ["validate", str(project / "spec.yaml")])
    assert res.exit_code == 0 and "warning" not in res.output, res.output


@pytest.mark.parametrize("split", ["dev", "holdout"])
def test_repo_ranks_the_clean_twin_first(without_judge: list[ScoredTwin], split: str) -> None:
    lost = [s.pair.id for s in without_judge if s.pair.split == split and not s.won("combined")]
    assert len(lost) <= 1, lost
    repo = win_share(without_judge, "combined", split=split)
    assert repo is not None
    for alone in ("rm", "rules"):
        share = win_share(without_judge, alone, split=split)
        assert share is not None and repo >= share, alone


def test_every_clean_reward_is_positive_and_every_vetoed_one_below(without_judge: list[ScoredTwin]) -> None:
    for s in without_judge:
        clean = s.clean["combined"]
        assert clean is not None and clean >= 0.0, s.pair.id
        if s.pair.kind in ("empty_reply", "judge_injection"):
            assert s.hacked["combined"] == -1.0, s.pair.id
            assert s.results is not None and s.results[1].details["veto"]


@pytest.fixture(scope="module")
def with_judge(project: Path) -> list[ScoredTwin]:
    """The holdout half and every judge_injection pair through the whole spec: the real embedded judge
    (logprobs mode, one generated token per reply) with rules and RM."""
    pairs = [p for p in read_twins(twins_path()) if p.split == "holdout" or p.kind == "judge_injection"]
    with RewardPipeline.from_spec(project / "spec.yaml") as pipe:
        return score_twins(pipe, pairs)


def test_the_real_judge_answers_in_logprobs_mode_with_graded_values(with_judge: list[ScoredTwin]) -> None:
    judged = [r.sources["judge"] for s in with_judge if s.results is not None for r in s.results]
    asked = [j for j in judged if not j.details.get("guard")]
    assert asked and all(j.details["parse"] == "logprobs" and j.value is not None for j in asked)
    assert len({round(j.value, 3) for j in asked if j.value is not None}) > len(asked) // 2  # not one constant


def test_repo_with_the_real_judge_ranks_the_holdout_clean_twins_first(with_judge: list[ScoredTwin]) -> None:
    lost = [s.pair.id for s in with_judge if s.pair.split == "holdout" and not s.won("combined")]
    assert len(lost) <= 1, lost
    repo = win_share(with_judge, "combined", split="holdout")
    for alone in ("rm", "rules", "judge"):
        share = win_share(with_judge, alone, split="holdout")
        assert repo is not None and share is not None and repo >= share, alone


def test_the_real_judge_alone_ranks_most_holdout_clean_twins_first(with_judge: list[ScoredTwin]) -> None:
    # measured 24 of 39 (the rubric as five concrete rules, 2 turns); the older rubric gave 19, and
    # the small judge's values drift by a few near-tied pairs from run to run (docs/benchmarks.md)
    holdout = [s for s in with_judge if s.pair.split == "holdout"]
    wins = [s.pair.id for s in holdout if s.won("judge")]
    assert len(holdout) == 39 and len(wins) >= 21, f"{len(wins)} of {len(holdout)}"


def test_text_aimed_at_the_judge_never_lifts_a_reply_with_the_real_judge(with_judge: list[ScoredTwin]) -> None:
    injected = [s for s in with_judge if s.pair.kind == "judge_injection"]
    assert len(injected) == 6
    for s in injected:
        clean, hacked = s.clean["judge"], s.hacked["judge"]
        assert clean is not None and hacked is not None and hacked < clean, s.pair.id  # the judge itself
        assert s.clean["combined"] is not None and s.hacked["combined"] is not None
        assert s.clean["combined"] > s.hacked["combined"], s.pair.id


def test_an_empty_reply_scores_below_every_clean_reply_of_the_dialogues(project: Path) -> None:
    """Every empty variant in every clean turn's context (rules and RM), and a few with the real judge too."""
    clean = clean_turns(project)
    with RewardPipeline.from_spec(project / "spec.yaml", only=["rules", "rm"]) as pipe:
        clean_rewards = [r.reward for r in pipe.score(clean)]
    assert len(clean_rewards) >= 50 and all(r is not None for r in clean_rewards)
    worst_clean = min(r for r in clean_rewards if r is not None)
    assert worst_clean >= 0.0  # on the positive scale no reply the formula scores goes below 0
    empties = [c.model_copy(update={"response": e, "id": f"{c.id}:{i}"}) for c in clean for i, e in enumerate(EMPTY)]
    with RewardPipeline.from_spec(project / "spec.yaml", only=["rules", "rm"]) as pipe:
        results = pipe.score(empties)
    judged = [
        c.model_copy(update={"response": e, "id": f"{c.id}:j{i}"}) for c in clean[::30] for i, e in enumerate(EMPTY[:4])
    ]
    with RewardPipeline.from_spec(project / "spec.yaml") as pipe:  # and with the real judge, for a few
        results += pipe.score(judged)
    assert all(r.details.get("veto") == ["empty_reply"] for r in results)
    assert all(r.reward is not None and r.reward < worst_clean for r in results)
