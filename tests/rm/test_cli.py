"""`repo-sdk rm train` end to end, on the packaged MiniLM (the default base)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from repo_sdk.cli.app import app
from repo_sdk.cli.rm_cmd import rm_app  # noqa: F401 - registers `rm` on the app
from repo_sdk.interfaces import BuildContext
from repo_sdk.plugins import get_registry
from repo_sdk.rm.minilm import default_base
from repo_sdk.rm.pairs import PreferencePair, split_pairs
from repo_sdk.rm.source import RMConfig, RMSource
from repo_sdk.testing import make_sample

runner = CliRunner()


def test_default_base_is_the_packaged_minilm():
    config = json.loads((default_base() / "config.json").read_text())
    assert config["model_type"] == "bert" and config["hidden_size"] == 384
    assert (default_base() / "model.safetensors").stat().st_size > 50_000_000


def test_rm_train_on_default_minilm_then_score_with_the_source(pairs_file, make_pairs, tmp_path):
    out = tmp_path / "minilm-rm"
    res = runner.invoke(
        app, ["rm", "train", str(pairs_file), "-o", str(out), "--epochs", "1", "--lr", "1e-4", "--quiet"]
    )
    assert res.exit_code == 0, res.output
    assert "held-out accuracy" in res.stdout and f"saved {out}" in res.stdout
    meta = json.loads((out / "repo_rm.json").read_text())
    assert meta["base"] == str(default_base())
    # Above chance, and learnt: the random head's ranking before training does not count.
    assert meta["result"]["heldout_accuracy"] >= 0.875
    assert meta["result"]["heldout_accuracy"] > meta["result"]["heldout_accuracy_before"]
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["BertForSequenceClassification"] and len(config["id2label"]) == 1

    # The output loads straight into the scoring source, which renders plain `role: content` lines.
    _, held = split_pairs([PreferencePair.model_validate(p) for p in make_pairs(40)], 0.2, 0)
    src = RMSource.from_config(RMConfig(path=str(out)), BuildContext(registry=get_registry()))
    try:
        assert not src.renderer.has_chat_template
        chosen = src.score([make_sample(response=p.chosen, task=p.task, history=p.history) for p in held])
        rejected = src.score([make_sample(response=p.rejected, task=p.task, history=p.history) for p in held])
        acc = sum(c.value > r.value for c, r in zip(chosen, rejected, strict=True)) / len(held)
        assert acc == meta["result"]["heldout_accuracy"]
    finally:
        src.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"chosen": "a", "rejected": "b"}\n{"chosen": "a"}\n', "pairs.jsonl:2: rejected: Field required"),
        ('{"chosen": "a", "rejected": "b"}\n{oops\n', "pairs.jsonl:2: invalid JSON"),
    ],
)
def test_bad_pairs_line_is_one_error_line(tmp_path, content, message):
    f = tmp_path / "pairs.jsonl"
    f.write_text(content)
    res = runner.invoke(app, ["rm", "train", str(f), "-o", str(tmp_path / "out")])
    assert res.exit_code == 1
    assert res.stderr.strip().startswith("error: ") and message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert not (tmp_path / "out").exists()


def test_user_errors_exit_1(pairs_file, tmp_path):
    (tmp_path / "exists").mkdir()
    cases = [
        (["-o", str(tmp_path / "exists")], "exists (pass --overwrite"),
        (["-o", str(tmp_path / "x"), "--base", str(tmp_path)], "not a model directory"),
        (
            ["-o", str(tmp_path / "x"), "--task-placement", "footer"],
            "--task-placement: Input should be 'system', 'user-prefix' or 'none' (got 'footer')",
        ),
        (["-o", str(tmp_path / "x"), "--eval-fraction", "1.5"], "eval fraction must be in [0, 1)"),
        (["-o", str(tmp_path / "x"), "--epochs", "0"], "--epochs: Input should be greater than 0 (got 0.0)"),
        (["-o", str(tmp_path / "x"), "--lr", "-1"], "--lr: Input should be greater than 0 (got -1.0)"),
        (["-o", str(tmp_path / "x"), "--lora-r", "-2"], "--lora-r: Input should be greater than or equal to 0"),
    ]
    for extra, message in cases:
        res = runner.invoke(app, ["rm", "train", str(pairs_file), *extra])
        assert res.exit_code == 1 and message in res.stderr, (extra, res.output)


def test_rm_train_augment_reports_artifact_accuracy(tiny_llama, pairs_file, tmp_path):
    out = tmp_path / "augmented"
    args = ["rm", "train", str(pairs_file), "-o", str(out), "--base", str(tiny_llama), "--epochs", "1"]
    res = runner.invoke(app, [*args, "--augment", "--augment-per-pair", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    assert "on 32 + 32 augmented" in res.stdout and "on artifact-controlled held-out pairs" in res.stdout
    assert json.loads((out / "repo_rm.json").read_text())["result"]["augmented_pairs"] == 32
    res = runner.invoke(app, [*args, "--augment-per-pair", "0", "--overwrite"])
    assert res.exit_code != 0 and "augment-per-pair" in res.output
