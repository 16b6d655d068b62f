"""The multi-turn negotiation agent, driven by OpenRLHF's real MultiTurnAgentExecutor."""

from __future__ import annotations

import asyncio
import importlib.util
import json

import pytest
from openrlhf.utils.agent import AgentExecutorBase
from typer.testing import CliRunner

from repo_sdk import RewardPipeline, Sample, Turn
from repo_sdk.cli import app

SPEC = {"name": "negotiation", "sources": {"rm": {"type": "echo_rm"}, "guard": ["cot_leak"]}}
OPENING = [Turn(role="system", content="Target 80 EUR."), Turn(role="user", content="We offer 95 EUR.")]
TASK = {"target_price": 80}
REPLIES = ["Could you do 80?", "<think>push</think>85 then?", "Deal at 85, thank you!", "extra"]
HOTEL = ["No, 90 is our floor.", "OK, 85."]


def load_agent_file(path):
    """What OpenRLHF's vllm_engine._load_agent_executor does (that module needs vLLM and ray)."""
    spec = importlib.util.spec_from_file_location("agent_module", str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert issubclass(module.AgentExecutor, AgentExecutorBase)
    return module.AgentExecutor()


def export(spec_path, out, tokenizer, *args):
    result = CliRunner().invoke(
        app, ["openrlhf", "export-agent", str(spec_path), "-o", str(out), "--tokenizer", tokenizer, *args]
    )
    assert result.exit_code == 0, result.output
    return out


def turn_rewards(n_turns):
    history, samples = list(OPENING), []
    for i in range(n_turns):
        samples.append(Sample(id=str(i), task=TASK, history=list(history), response=REPLIES[i]))
        history += [Turn(role="assistant", content=REPLIES[i])]
        if i < len(HOTEL):
            history += [Turn(role="user", content=HOTEL[i])]
    with RewardPipeline.from_spec(SPEC) as pipe:
        return [r.reward for r in pipe.score(samples)]


def run(executor, tokenizer, engine, sampling, label):
    prompt = tokenizer.apply_chat_template([t.message() for t in OPENING], tokenize=False, add_generation_prompt=True)
    llm = engine(tokenizer, REPLIES)
    out = asyncio.run(executor.execute(prompt, json.dumps(label), sampling(), 1024, tokenizer, llm))
    return out, llm


@pytest.mark.parametrize(
    ("label", "args", "turns", "aggregate"),
    [
        ({"task": TASK, "counterpart": HOTEL}, [], 3, "mean"),  # the hotel's script runs out after 2 answers
        ({"task": TASK, "counterpart": HOTEL}, ["--max-turns", "2"], 2, "mean"),
        ({"task": TASK, "counterpart": HOTEL, "max_turns": 1}, [], 1, "mean"),
        ({"task": TASK, "counterpart": HOTEL}, ["--aggregate", "sum"], 3, "sum"),
    ],
)
def test_each_agent_turn_is_rewarded(
    echo_rm, write_spec, tmp_path, tiny_tokenizer_dir, tiny_tokenizer, engine, sampling, label, args, turns, aggregate
):
    path = export(write_spec(SPEC), tmp_path / "agent.py", tiny_tokenizer_dir, *args)
    out, llm = run(load_agent_file(path), tiny_tokenizer, engine, sampling, label)
    want = turn_rewards(turns)
    assert llm.calls == turns and len(out["action_ranges"]) == turns
    total = sum(want) / len(want) if aggregate == "mean" else sum(want)
    assert out["reward"] == pytest.approx(total, rel=1e-9, abs=1e-12)
    assert out["extra_logs"]["negotiation/turns"].item() == turns
    text = tiny_tokenizer.decode(out["observation_tokens"], skip_special_tokens=False)
    assert all(h in text for h in HOTEL[: turns - 1])


def test_agent_needs_a_chat_template(echo_rm, write_spec, tmp_path):
    result = CliRunner().invoke(
        app, ["openrlhf", "export-agent", str(write_spec(SPEC)), "-o", str(tmp_path / "a.py"), "--tokenizer", "plain"]
    )
    assert result.exit_code == 1 and "needs the policy's chat template" in result.output
