"""verl's own reward loop drives the REPO reward on a local Ray cluster, and gives `repo-sdk score`'s numbers.

The path is verl's: ``RewardLoopManager`` starts ``RewardLoopWorker`` Ray actors, each
loads ``pkg://repo_sdk_verl.reward`` through verl's ``custom_reward_function`` config
and its ``naive`` reward manager, which decodes the reply tokens and calls
``compute_score``; the manager stacks the answers into ``rm_scores`` and the extra
keys. The data is what ``repo-sdk verl prepare`` wrote, read by verl's ``RLHFDataset``.
Only the policy's generation is left out: the replies are the logged ones.

The spec uses all three reward kinds: a real (tiny) RM, a judge behind a fake
OpenAI-compatible server whose verdict hashes the whole judge prompt, and rules. So a
lost turn of history or task field changes the numbers.

The cluster is sized for a 2-core machine: verl's reward workers are actors, which
hold no CPU while they run (Ray's default), so nothing waits for a free CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repo_sdk.cli import app

ray = pytest.importorskip("ray")
pytest.importorskip("verl")

from repo_sdk_verl.testing import compose_config, read_rows, reward_batch  # noqa: E402

MISSING = -7.5
NAME = "negotiation"  # the spec name in conftest.full_spec
RM_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def manager(full_spec, tokenizer_dir, tmp_path_factory):
    from verl.experimental.reward_loop.reward_loop import RewardLoopManager

    env = {"HF_HUB_OFFLINE": "1", "REPO_SDK_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=256 * 1024**2,
        runtime_env={"env_vars": env},
    )
    config = compose_config(
        [
            f"actor_rollout_ref.model.path={tokenizer_dir}",
            "reward.custom_reward_function.path=pkg://repo_sdk_verl.reward",
            "reward.custom_reward_function.name=compute_score",
            f"+reward.custom_reward_function.reward_kwargs.spec={full_spec}",
            f"+reward.custom_reward_function.reward_kwargs.missing_reward={MISSING}",
            "reward.num_workers=2",
        ]
    )
    try:
        yield RewardLoopManager(config)
    finally:
        ray.shutdown()


def score_cli(spec: Path, logs: Path, tmp_path: Path) -> dict[str, dict]:
    out = tmp_path / "scored.jsonl"
    result = CliRunner().invoke(app, ["score", str(logs), "--config", str(spec), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return {r["sample_id"]: r for r in rows if r.get("kind", "turn") == "turn"}


@pytest.fixture
def prepared(dialogues_file, tokenizer, tmp_path):
    out = tmp_path / "train.parquet"
    result = CliRunner().invoke(app, ["verl", "prepare", str(dialogues_file), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return read_rows(out, tokenizer, tmp_path / "verl-cache")


def column(out, key):
    return [None if v is None else float(v) for v in out.non_tensor_batch[key]]


def test_rewards_through_verls_reward_loop_equal_repo_sdk_score(
    manager, prepared, full_spec, dialogues_file, tokenizer, tmp_path
):
    rows = prepared
    replies = [r["reward_model"]["ground_truth"] for r in rows]  # the logged replies, as the policy's
    out = manager.compute_rm_score(reward_batch(tokenizer, rows, replies))
    expected = score_cli(full_spec, dialogues_file, tmp_path)
    ids = [r["extra_info"]["id"] for r in rows]
    assert len(ids) == 6 and set(ids) <= set(expected)

    want = [expected[i]["reward"] for i in ids]
    assert len(set(want)) == len(want)  # distinct rewards: a real test of order and of every input
    # The RM pads each micro-batch to its longest row; verl's workers batch other rows together than
    # `repo-sdk score` does, which moves float32 logits in the last bits. Everything else is exact.
    assert column(out, "score") == pytest.approx(want, rel=RM_TOLERANCE)
    assert out.batch["rm_scores"].sum(-1).tolist() == pytest.approx(want, rel=RM_TOLERANCE)  # float32 in verl
    assert column(out, f"{NAME}/rm") == pytest.approx([expected[i]["sources"]["rm"] for i in ids], rel=RM_TOLERANCE)
    for source in ("judge", "rules"):
        assert column(out, f"{NAME}/{source}") == [expected[i]["sources"][source] for i in ids]
    for key in ("E", "multiplier"):
        assert column(out, f"{NAME}/{key}") == pytest.approx(
            [expected[i]["combiner"].get(key) for i in ids], rel=RM_TOLERANCE
        )
    for rule in ("cot_leak", "max_length"):
        fired = [float(any(h["rule"] == rule for h in expected[i]["fired"])) for i in ids]
        assert column(out, f"{NAME}/fired/{rule}") == fired and 0 < sum(fired) < len(ids)
    assert column(out, f"{NAME}/missing") == [0.0] * 6 and column(out, f"{NAME}/error") == [0.0] * 6
    assert column(out, f"{NAME}/telemetry/judge/calls") == [1.0] * 6  # cache off: one real judge call each


def test_a_bad_sample_gets_the_fallback_and_the_workers_go_on(
    manager, prepared, full_spec, dialogues_file, tokenizer, tmp_path
):
    rows = [dict(r, extra_info=dict(r["extra_info"])) for r in prepared]
    rows[1]["extra_info"]["history"] = '[{"role": "user", "content": "unterminated'  # a hand-written row gone wrong
    rows[4]["extra_info"]["task"] = json.dumps(["not", "a", "mapping"])
    replies = [r["reward_model"]["ground_truth"] for r in rows]
    replies[2] = "x" * 20_000  # a long reply and an empty one among them score normally
    replies[3] = ""
    out = manager.compute_rm_score(reward_batch(tokenizer, rows, replies))

    scores, errors = column(out, "score"), column(out, f"{NAME}/error")
    assert [scores[1], scores[4]] == [MISSING, MISSING] and errors == [0, 1, 0, 0, 1, 0]
    assert column(out, f"{NAME}/missing") == errors and column(out, f"{NAME}/rm")[1] is None
    assert column(out, f"{NAME}/fired/max_length")[2] == 1.0 and None not in column(out, f"{NAME}/rm")[2:4]

    expected = score_cli(full_spec, dialogues_file, tmp_path)
    good = [0, 5]
    want = [expected[rows[i]["extra_info"]["id"]]["reward"] for i in good]
    assert [scores[i] for i in good] == pytest.approx(want, rel=RM_TOLERANCE)

    again = manager.compute_rm_score(
        reward_batch(tokenizer, prepared, [r["reward_model"]["ground_truth"] for r in prepared])
    )
    assert column(again, "score")[1] == pytest.approx(
        expected[prepared[1]["extra_info"]["id"]]["reward"], rel=RM_TOLERANCE
    )


def test_the_extras_become_verls_validation_metrics(manager, prepared, tokenizer):
    """What verl 0.9 logs from the extras: validation metrics (training-step metrics drop them),
    computed by the function its trainers call (they import GPU-only packages themselves, and
    name each value ``val-aux/<data_source>/<key>/<metric>``)."""
    from verl.trainer.ppo.metric_utils import process_validation_metrics

    rows = [dict(r, extra_info=dict(r["extra_info"])) for r in prepared]
    rows[0]["extra_info"]["history"] = "{"  # one fallback: its None source values are left out of the means
    out = manager.compute_rm_score(reward_batch(tokenizer, rows, [r["reward_model"]["ground_truth"] for r in rows]))
    infos = {"reward": out.batch["rm_scores"].sum(-1).tolist()}
    infos |= {k: list(out.non_tensor_batch[k]) for k in out.meta_info["reward_extra_keys"]}
    sources = [r["data_source"] for r in rows]
    per_key = process_validation_metrics(sources, [f"u{i}" for i in range(len(rows))], infos)["repo_sdk"]
    mean = {k: m["mean@1"] for k, m in per_key.items()}  # logged as val-aux/repo_sdk/<key>/mean@1
    rm = [v for v in column(out, f"{NAME}/rm") if v is not None]
    assert len(rm) == 5 and mean[f"{NAME}/rm"] == pytest.approx(sum(rm) / 5)  # the fallback's None left out
    assert mean[f"{NAME}/fired/cot_leak"] == pytest.approx(1 / 6) and mean[f"{NAME}/error"] == pytest.approx(1 / 6)
    assert mean["score"] == pytest.approx(mean["reward"], rel=1e-6)
