"""`RewardPipeline.score` works with or without a running event loop (a notebook cell, an async
server); `ascore` is awaited in async code; the README's Python snippets run as written."""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path

import pytest
import yaml

from repo_sdk import RewardPipeline
from repo_sdk.testing import FakeJudgeServer, make_sample

README = Path(__file__).resolve().parents[1] / "README.md"
SAMPLES = [make_sample(response="Could you do 80 EUR?"), make_sample(response="<think>hm</think>Deal.")]


@pytest.fixture
def judge_spec():
    """Rules and a judge on a loopback fake server: one synchronous and one asynchronous source."""
    with FakeJudgeServer(responder=lambda body: '{"score": 4, "deductions": [], "reason": "ok"}') as server:
        yield {
            "sources": {
                "rules": ["cot_leak"],
                "judge": {"type": "judge", "base_url": server.base_url, "model": "fake", "cache": False},
            }
        }


def values(results):
    return [(r.reward, r.source_values()) for r in results]


def test_score_inside_a_running_loop_equals_score_outside(judge_spec):
    with RewardPipeline.from_spec(judge_spec) as pipe:
        outside = values(pipe.score(SAMPLES))

        async def cell():  # what a notebook cell is: code run while an event loop runs
            loop_thread = threading.get_ident()
            return values(pipe.score(SAMPLES)), values(await pipe.ascore(SAMPLES)), loop_thread

        inside, awaited, _ = asyncio.run(cell())
    assert outside == inside == awaited
    assert [v["judge"] for _, v in outside] == [4.0, 4.0] and outside[1][1]["rules"] == -10.0


def test_rules_alone_keep_the_sync_fast_path_inside_a_loop():
    calls: list[int] = []
    with RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}}) as pipe:
        original = pipe.sources["rules"].score

        def spy(samples):
            calls.append(threading.get_ident())
            return original(samples)

        pipe.sources["rules"].score = spy  # type: ignore[method-assign]

        async def cell():
            return [r.reward for r in pipe.score(SAMPLES)], threading.get_ident()

        rewards, loop_thread = asyncio.run(cell())
    assert rewards == [0.0, -0.1]
    assert calls == [loop_thread]  # scored in place: no worker thread, no second loop


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.DOTALL)


def test_readme_snippets_run_inside_asyncio_run(judge_spec, tmp_path, monkeypatch, capsys):
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) == 2 and "pipe.score(" in blocks[0] and "await pipe.ascore(" in blocks[1]
    (tmp_path / "my-project").mkdir()
    (tmp_path / "my-project" / "spec.yaml").write_text(yaml.safe_dump(judge_spec), encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    async def notebook_cell() -> None:
        exec(compile(blocks[0], "README.md", "exec"), {})

    asyncio.run(notebook_cell())  # the sync snippet, run while an event loop runs
    exec(compile(blocks[1], "README.md", "exec"), {"__name__": "__main__"})  # it calls asyncio.run itself
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert "'judge': 4.0" in lines[0] and "'rules': 0.0" in lines[0]
    assert re.fullmatch(r"\[-?\d+\.\d+\]", lines[1])
