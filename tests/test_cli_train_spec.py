"""Core-side checks of the trainer commands: the shared `train:` section and missing adapters."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from repo_sdk.cli import app


def test_the_adapters_read_the_core_train_section():
    from repo_sdk.train_spec import TrainSpec

    trl = pytest.importorskip("repo_sdk_trl.train")
    orl = pytest.importorskip("repo_sdk_openrlhf.launch")
    verl = pytest.importorskip("repo_sdk_verl.launch")
    assert trl.TrainSpec is TrainSpec and orl.TrainSpec is TrainSpec and verl.TrainSpec is TrainSpec


@pytest.mark.parametrize(
    ("module", "args", "install"),
    [
        ("repo_sdk_trl.train", ["train", "--trainer", "trl"], "pip install repo-sdk-trl"),
        ("repo_sdk_openrlhf.launch", ["train", "--trainer", "openrlhf"], "pip install repo-sdk-openrlhf"),
        ("repo_sdk_openrlhf", ["serve", "spec.yaml"], "pip install repo-sdk-openrlhf"),
        ("repo_sdk_openrlhf.reward_file", ["openrlhf", "export", "spec.yaml"], "pip install repo-sdk-openrlhf"),
        ("repo_sdk_verl.launch", ["train", "--trainer", "verl"], "pip install repo-sdk-verl"),
        ("repo_sdk_verl.data", ["verl", "prepare", "logs.jsonl", "-o", "x.parquet"], "pip install repo-sdk-verl"),
    ],
)
def test_a_missing_adapter_says_what_to_install(monkeypatch, module, args, install):
    monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ImportError
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and install in result.output and "Traceback" not in result.output
