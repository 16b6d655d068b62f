"""The exported reward file, driven by OpenRLHF's real SingleTurnAgentExecutor."""

from __future__ import annotations

import asyncio
import json

import pytest
import torch
from openrlhf.utils.agent import SingleTurnAgentExecutor
from typer.testing import CliRunner

from repo_sdk import RewardPipeline, Sample, Turn
from repo_sdk.cli import app

SPEC = {
    "name": "negotiation",
    "sources": {"rm": {"type": "echo_rm"}, "guard": ["cot_leak", {"name": "max_length", "max_chars": 30}]},
}
HISTORY = [Turn(role="system", content="Target 80 EUR."), Turn(role="user", content="We offer 95 EUR.")]
TASK = {"target_price": 80}
REPLIES = ["Could you do 80?", "<think>they will cave</think>80 EUR please, it is our final offer."]


def export(spec_path, out, tokenizer):
    result = CliRunner().invoke(app, ["openrlhf", "export", str(spec_path), "-o", str(out), "--tokenizer", tokenizer])
    assert result.exit_code == 0, result.output
    return out


def expected(replies):
    samples = [Sample(id=str(i), task=TASK, history=HISTORY, response=r) for i, r in enumerate(replies)]
    with RewardPipeline.from_spec(SPEC) as pipe:
        return pipe.score(samples)


def test_executor_gets_the_pipelines_rewards_from_the_file(
    echo_rm, write_spec, tmp_path, tiny_tokenizer_dir, tiny_tokenizer, engine, sampling
):
    path = export(write_spec(SPEC), tmp_path / "reward.py", tiny_tokenizer_dir)
    executor = SingleTurnAgentExecutor(str(path))
    prompt = tiny_tokenizer.apply_chat_template(
        [t.message() for t in HISTORY], tokenize=False, add_generation_prompt=True
    )
    llm = engine(tiny_tokenizer, REPLIES)
    label = json.dumps({"task": TASK})

    async def run():
        return [await executor.execute(prompt, label, sampling(), 256, tiny_tokenizer, llm) for _ in REPLIES]

    outputs = asyncio.run(run())
    want = expected(REPLIES)
    for out, res in zip(outputs, want, strict=True):
        assert out["reward"] is not None, "the executor swallowed an error from the reward file"
        assert torch.equal(out["reward"], torch.tensor([res.reward], dtype=torch.float32))
        assert out["scores"] == out["reward"]
        logs = {k: float(v[0]) for k, v in out["extra_logs"].items()}
        assert logs["negotiation/guard"] == res.sources["guard"].value
        assert logs["negotiation/fired/cot_leak"] == float(any(h.rule == "cot_leak" for h in res.fired))
        assert logs["negotiation/E"] == res.details["E"]
        assert logs["negotiation/multiplier"] == pytest.approx(res.details["multiplier"])
        assert set(logs) == {
            "negotiation/rm",
            "negotiation/guard",
            "negotiation/fired/cot_leak",
            "negotiation/fired/max_length",
            "negotiation/E",
            "negotiation/multiplier",
            "negotiation/missing",
            "negotiation/error",
        }
    assert outputs[1]["extra_logs"]["negotiation/fired/cot_leak"].item() == 1.0


def test_the_file_copied_with_its_spec_folder_still_scores(tmp_path, tiny_tokenizer_dir, monkeypatch):
    """Exported in one place, copied with the spec's folder (and the policy tokenizer in it) to
    another, and loaded there by OpenRLHF's executor: the paths are relative to the file."""
    import shutil

    import yaml

    src = tmp_path / "machine-a"
    (src / "project").mkdir(parents=True)
    spec = src / "project" / "spec.yaml"
    spec.write_text(yaml.safe_dump({"sources": {"rules": ["cot_leak"]}}), encoding="utf-8")
    shutil.copytree(tiny_tokenizer_dir, src / "project" / "policy")
    export(spec, src / "run" / "reward.py", str(src / "project" / "policy"))
    text = (src / "run" / "reward.py").read_text()
    assert str(tmp_path) not in text  # no path of this machine in the file
    assert "TOKENIZER = os.environ.get('REPO_SDK_TOKENIZER') or str(HERE / '../project/policy')" in text

    dst = tmp_path / "cluster" / "home"
    shutil.copytree(src, dst)
    shutil.rmtree(src)  # nothing of the first place is left
    monkeypatch.chdir(tmp_path)  # and the working directory is elsewhere
    executor = SingleTurnAgentExecutor(str(dst / "run" / "reward.py"))
    out = executor.reward_func(["Q: <think>x</think>ok"], ["Q:"], [""])
    assert out["rewards"].tolist() == pytest.approx([-0.1])


def test_env_vars_point_the_file_at_another_spec_and_a_missing_one_fails_loudly(tmp_path, monkeypatch):
    import runpy

    import yaml

    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"sources": {"rules": ["cot_leak"]}}), encoding="utf-8")
    path = export(spec, tmp_path / "out" / "reward.py", "plain")
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"sources": {"rules": [{"name": "max_length", "max_chars": 3}]}}))
    monkeypatch.setenv("REPO_SDK_SPEC", str(other))
    fn = runpy.run_path(str(path))["reward_func"]
    assert fn(["Q: a long reply"], ["Q:"], [""])["rewards"].tolist() == pytest.approx([-0.1])  # max_length fired
    fn.close()
    monkeypatch.delenv("REPO_SDK_SPEC")
    spec.unlink()
    with pytest.raises(Exception, match=r"no reward spec at .*spec\.yaml.*set REPO_SDK_SPEC="):
        runpy.run_path(str(path))


def test_a_broken_spec_fails_at_export(write_spec, tmp_path):
    spec = write_spec({"sources": {"rules": ["no_such_rule"]}})
    result = CliRunner().invoke(app, ["openrlhf", "export", str(spec), "-o", str(tmp_path / "r.py")])
    assert result.exit_code == 1 and "no_such_rule" in result.output
    assert not (tmp_path / "r.py").exists()


def test_judge_telemetry_reaches_the_executors_extra_logs(write_spec, tmp_path):
    """Per-sample judge calls and retries come back in extra_logs (real HTTP to a loopback judge)."""
    from repo_sdk.testing import FakeJudgeServer

    failed_once: set[str] = set()

    def script(body, seen):  # the first request for the reply mentioning 70 gets a 500, then an answer
        text = json.dumps(body)
        if "70" in text and text not in failed_once:
            failed_once.add(text)
            return "error_500"
        return None

    with FakeJudgeServer(responder=lambda body: '{"score": 4, "reason": "ok"}', script=script) as server:
        spec = write_spec(
            {
                "name": "neg",
                "sources": {
                    "judge": {
                        "type": "judge",
                        "base_url": server.base_url,
                        "model": "fake",
                        "cache": False,
                        "backoff_base_s": 0.01,
                    }
                },
            }
        )
        path = tmp_path / "reward.py"
        result = CliRunner().invoke(
            app, ["openrlhf", "export", str(spec), "-o", str(path), "--tokenizer", "plain", "--log", "full"]
        )
        assert result.exit_code == 0, result.output
        executor = SingleTurnAgentExecutor(str(path))
        out = executor.reward_func(["Q: Could you do 80?", "Q: Could you do 70?"], ["Q:", "Q:"], ["", ""])
    logs = {k: v.tolist() for k, v in out["extra_logs"].items()}
    assert logs["neg/judge"] == [4.0, 4.0]
    assert logs["neg/telemetry/judge/calls"] == [1.0, 2.0]
    assert logs["neg/telemetry/judge/retries"] == [0.0, 1.0]
    assert logs["neg/telemetry/judge/cache_hit"] == [0.0, 0.0]
    assert all(v > 0 for v in logs["neg/telemetry/judge/latency_s"])
    assert {k.rsplit("/", 1)[1] for k in logs if "/telemetry/" in k} == {
        "calls",
        "retries",
        "reasks",
        "cache_hit",
        "cache_hits",
        "parse_failures",
        "latency_s",
    }
