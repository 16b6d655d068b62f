"""The shared limit in a local Ray cluster: two actors with their own pipelines, and a killed holder.

The cluster is sized for a 2-core machine: the scoring actors take half a CPU each
and the limit's actor none, so nothing waits for a free CPU.
"""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

from repo_sdk.judge.fakes import FakeJudgeServer
from repo_sdk.remote.limits import limit_key
from repo_sdk.remote.ray_limit import NAMESPACE, RayLimit, actor_name

ray = pytest.importorskip("ray")
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the actors below live in this test file


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    env = {"REPO_SDK_CACHE_DIR": str(tmp_path_factory.mktemp("cache")), "HF_HUB_OFFLINE": "1"}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=128 * 1024**2,
             runtime_env={"env_vars": env})  # fmt: skip
    yield
    ray.shutdown()


@ray.remote(num_cpus=0.5)
class Scorer:
    """One scoring worker: its own pipeline, as a Ray Data actor or a trainer's reward worker has."""

    def __init__(self, spec: dict) -> None:
        from repo_sdk.pipeline import RewardPipeline

        self.pipe = RewardPipeline.from_spec(spec)

    def backend(self) -> str:
        return type(self.pipe.sources["judge"]._get_client().limit).__name__

    def score(self, tag: str, n: int) -> list:
        from repo_sdk.testing import make_sample

        samples = [make_sample(response=f"Offer {tag}-{i}: 80 EUR for the twin room.") for i in range(n)]
        return [r.sources["judge"].value for r in self.pipe.score(samples)]


@ray.remote(num_cpus=0)
class Holder:
    """Takes a slot and never gives it back."""

    async def hold(self, key: str) -> str:
        self.slot = RayLimit(key, 1, None, lease_s=3.0).slot()
        await self.slot.__aenter__()
        return "held"


def test_max_concurrency_global_holds_over_two_ray_actors(cluster):
    with FakeJudgeServer(responder=lambda body: '{"score": 4}', latency_s=0.15) as server:
        spec = {
            "sources": {"judge": {"type": "judge", "base_url": server.base_url, "model": "fake", "cache": False,
                                  "concurrency": 8, "max_concurrency_global": 2}},
            "combiner": "weighted_sum",
        }  # fmt: skip
        actors = [Scorer.remote(spec) for _ in range(2)]
        assert ray.get([a.backend.remote() for a in actors]) == ["RayLimit", "RayLimit"]  # auto in a Ray job
        values = ray.get([a.score.remote(str(k), 10) for k, a in enumerate(actors)], timeout=120)
        assert server.max_in_flight == 2
        assert server.stats["requests"] == 20
    assert values == [[4.0] * 10] * 2
    stats = _settled(ray.get_actor(actor_name(limit_key(server.base_url + "/chat/completions", "fake")),
                                   namespace=NAMESPACE))  # fmt: skip
    assert stats["max_in_flight"] == 2 and stats["expired"] == 0


def test_a_killed_holder_loses_its_slot_when_its_lease_runs_out(cluster):
    key = limit_key("http://127.0.0.1:1/killed", "fake")
    holder = Holder.remote()
    assert ray.get(holder.hold.remote(key), timeout=60) == "held"
    limit = RayLimit(key, 1, None, lease_s=3.0)

    async def enter() -> None:
        async with limit.slot():
            pass

    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(asyncio.wait_for(enter(), 0.5))  # the holder has it (and this waiter gives up cleanly)
    ray.kill(holder)
    start = time.monotonic()
    asyncio.run(asyncio.wait_for(enter(), 20))
    assert time.monotonic() - start < 20
    assert _settled(limit.actor())["expired"] == 1


def _settled(actor, within_s: float = 10.0) -> dict:
    """The limit actor's stats once the slots given back (fire and forget) have arrived."""
    deadline = time.monotonic() + within_s
    while (stats := ray.get(actor.stats.remote()))["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stats["in_flight"] == 0
    return stats
