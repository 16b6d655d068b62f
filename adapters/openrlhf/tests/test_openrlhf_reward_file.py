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


def test_executor_gets_the_pipelines_rewards_from_the_file(echo_rm, write_spec, tmp_path, tiny_tokenizer_dir,
                                                           tiny_tokenizer, engine, sampling):
    path = export(write_spec(SPEC), tmp_path / "reward.py", tiny_tokenizer_dir)
    executor = SingleTurnAgentExecutor(str(path))
    prompt = tiny_tokenizer.apply_chat_template(
        [t.model_dump() for t in HISTORY], tokenize=False, add_generation_prompt=True
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
        assert set(logs) == {"negotiation/rm", "negotiation/guard", "negotiation/fired/cot_leak",
                             "negotiation/fired/max_length", "negotiation/missing"}
    assert outputs[1]["extra_logs"]["negotiation/fired/cot_leak"].item() == 1.0


def test_the_file_is_self_contained_and_loads_eagerly(write_spec, tmp_path):
    spec = write_spec({"sources": {"rules": ["cot_leak"]}})
    path = export(spec, tmp_path / "reward.py", "plain")
    spec.unlink()  # the spec is embedded: the file no longer needs it
    executor = SingleTurnAgentExecutor(str(path))
    out = executor.reward_func(["Q: <think>x</think>ok"], ["Q:"], [""])
    assert out["rewards"].tolist() == pytest.approx([-0.1])


def test_a_broken_spec_fails_at_export(write_spec, tmp_path):
    spec = write_spec({"sources": {"rules": ["no_such_rule"]}})
    result = CliRunner().invoke(app, ["openrlhf", "export", str(spec), "-o", str(tmp_path / "r.py")])
    assert result.exit_code == 1 and "no_such_rule" in result.output
    assert not (tmp_path / "r.py").exists()
