"""Parity: the same Samples get identical rewards from `repo-sdk score`, the TRL callable,
the OpenRLHF reward file and the reward server (the last two driven by OpenRLHF's real
SingleTurnAgentExecutor, with only vLLM replaced by a scripted engine), and verl's reward
loop (its RewardLoopWorker and naive reward manager calling ``pkg://repo_sdk_verl.reward``
on rows as ``repo-sdk verl prepare`` writes them; the adapter's own tests run the same on a
Ray cluster).

The OpenRLHF file hands tensors to OpenRLHF, which keeps rewards as float32; the
server's JSON becomes float32 in OpenRLHF too. So the file is compared at float32
and everything else exactly.
"""

from __future__ import annotations

import asyncio
import json
import os
from types import SimpleNamespace

import pytest
import yaml
from typer.testing import CliRunner

from repo_sdk import Sample, Turn
from repo_sdk.cli import app
from repo_sdk.testing import echo_rm

pytest.importorskip("repo_sdk_trl")
pytest.importorskip("repo_sdk_openrlhf")
agent = pytest.importorskip("openrlhf.utils.agent")
torch = pytest.importorskip("torch")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SPEC = {
    "name": "negotiation",
    "sources": {
        "rm": {"type": "echo_rm"},
        "guard": ["cot_leak"],
        "length": [{"name": "max_length", "max_chars": 40, "points": -35}],
    },
    "combiner": {"type": "repo", "n": 100},
}
T = Turn
SAMPLES = [
    Sample(
        id="a",
        task={"target_price": 80},
        history=[T(role="user", content="We offer 95 EUR.")],
        response="Could you do 80 EUR?",
    ),
    Sample(
        id="b",
        task={"target_price": 80, "hotel": "Aurora"},
        history=[T(role="system", content="You negotiate for the agency."), T(role="user", content="95 EUR.")],
        response="<think>they will cave</think>80 EUR, final offer.",
    ),
    Sample(
        id="c",
        task={"target_price": 120},
        history=[
            T(role="user", content="Hello, Hotel Aurora."),
            T(role="assistant", content="Hi! The twin room?"),
            T(role="user", content="It is 140 EUR now."),
        ],
        response="I understand. Would 120 EUR work if we feature your hotel on our homepage for a month?",
    ),
    Sample(id="d", task={}, history=[T(role="user", content="Who is this?")], response="Hi!"),
    Sample(
        id="e",
        task={"target_price": 60},
        history=[
            T(role="system", content="Be brief."),
            T(role="user", content="70?"),
            T(role="assistant", content="65?"),
            T(role="user", content="68."),
        ],
        response="Deal at 68, thank you!",
    ),
]


@pytest.fixture
def setup(tmp_path):
    from transformers import AutoTokenizer

    from repo_sdk.rm.tiny import build_tiny_tokenizer

    build_tiny_tokenizer().save_pretrained(tmp_path / "tok")
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    with echo_rm(name="parity-rm"):
        yield spec, str(tmp_path / "tok"), AutoTokenizer.from_pretrained(tmp_path / "tok")


def by_score_cli(spec, tmp_path):
    logs, out = tmp_path / "logs.jsonl", tmp_path / "scored.jsonl"
    with logs.open("w") as fh:
        for s in SAMPLES:
            turns = [t.message() for t in s.turns()]
            fh.write(json.dumps({"id": s.id, "task": s.task, "turns": turns}) + "\n")
    result = CliRunner().invoke(app, ["score", str(logs), "--config", str(spec), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    last = {s.id: len(s.history) for s in SAMPLES}
    return [
        next(
            r["reward"]
            for r in rows
            if r.get("kind", "turn") == "turn" and r["dialogue_id"] == s.id and r["turn_index"] == last[s.id]
        )
        for s in SAMPLES
    ]


def by_trl(spec):
    from repo_sdk_trl import repo_reward_func

    fn = repo_reward_func(spec)
    prompts = [[t.message() for t in s.history] for s in SAMPLES]
    completions = [[{"role": "assistant", "content": s.response}] for s in SAMPLES]
    return fn(prompts=prompts, completions=completions, task=[json.dumps(s.task) for s in SAMPLES])


def by_executor(url_or_file, tokenizer):
    executor = agent.SingleTurnAgentExecutor(url_or_file)
    from repo_sdk_openrlhf.testing import ScriptedEngine

    llm = ScriptedEngine(tokenizer, [s.response for s in SAMPLES])
    params = SimpleNamespace(max_tokens=128, logprobs=None)

    async def run():
        outs = []
        for s in SAMPLES:
            prompt = tokenizer.apply_chat_template(
                [t.message() for t in s.history], tokenize=False, add_generation_prompt=True
            )
            outs.append(await executor.execute(prompt, json.dumps({"task": s.task}), params, 512, tokenizer, llm))
        return outs

    outs = asyncio.run(run())
    assert all(o["reward"] is not None for o in outs), "the executor swallowed a reward error"
    return [o["reward"] for o in outs]


def test_four_paths_give_identical_rewards(setup, tmp_path):
    from repo_sdk_openrlhf import ChatSplitter, RewardService
    from repo_sdk_openrlhf.server import ServerThread

    spec, tok_dir, tokenizer = setup
    cli = by_score_cli(spec, tmp_path)
    assert len(set(cli)) == len(cli) and any(r < 0 for r in cli)  # distinct, signed: a real test of parity

    result = CliRunner().invoke(
        app, ["openrlhf", "export", str(spec), "-o", str(tmp_path / "reward.py"), "--tokenizer", tok_dir]
    )
    assert result.exit_code == 0, result.output
    file_rewards = by_executor(str(tmp_path / "reward.py"), tokenizer)

    service = RewardService.from_spec(spec, splitter=ChatSplitter(tokenizer))
    with ServerThread(service, lifetime_s=60) as srv:
        server_rewards = by_executor(srv.url, tokenizer)

    assert by_trl(spec) == cli
    assert [r[0] for r in server_rewards] == cli
    assert torch.equal(torch.cat(file_rewards), torch.tensor(cli, dtype=torch.float32))


def by_verl(spec, tok_dir, tokenizer):
    """verl's RewardLoopWorker (the class its Ray actors run) scores the replies of SAMPLES."""
    from repo_sdk_verl.samples import row_of
    from repo_sdk_verl.testing import compose_config, reward_batch
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker

    config = compose_config(
        [
            f"actor_rollout_ref.model.path={tok_dir}",
            "reward.custom_reward_function.path=pkg://repo_sdk_verl.reward",
            "reward.custom_reward_function.name=compute_score",
            f"+reward.custom_reward_function.reward_kwargs.spec={spec}",
        ]
    )
    rows = []
    for i, s in enumerate(SAMPLES):
        row = row_of(s, index=i, data_source="repo_sdk")
        rows.append(row | {"raw_prompt": row["prompt"]})
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # verl's worker and managers run on the loop they find, as in a Ray actor
    try:
        worker = RewardLoopWorker(config)
        batch = reward_batch(tokenizer, rows, [s.response for s in SAMPLES])
        outs = loop.run_until_complete(worker.compute_score_batch(batch))
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert all(o["reward_extra_info"]["negotiation/error"] == 0.0 for o in outs)
    return [o["reward_score"] for o in outs]


def test_verls_reward_loop_gives_the_same_rewards(setup, tmp_path):
    pytest.importorskip("repo_sdk_verl")
    pytest.importorskip("verl")
    spec, tok_dir, tokenizer = setup
    assert by_verl(spec, tok_dir, tokenizer) == by_score_cli(spec, tmp_path)
