"""The `rm` source: spec wiring, exactness against plain forward passes, sharing, normalisation."""

from __future__ import annotations

import json
import logging
import random
import shutil

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from repo_sdk.combiners.repo import enhance
from repo_sdk.errors import ConfigError
from repo_sdk.interfaces import BuildContext
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.plugins import get_registry
from repo_sdk.rm.loading import cached_keys
from repo_sdk.rm.normalize import calibration_stats
from repo_sdk.rm.source import RMConfig, RMSource
from repo_sdk.rm.tiny import build_tiny_model
from repo_sdk.testing import make_sample

WORDS = "thank you could we agree on euros for the twin room please hotel price night breakfast".split()


def mixed_samples(n: int, seed: int = 0):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        history = [
            ("user" if t % 2 == 0 else "assistant", " ".join(rng.choices(WORDS, k=rng.randint(2, 30))))
            for t in range(rng.choice([0, 1, 3, 5]))
        ]
        out.append(
            make_sample(
                response=" ".join(rng.choices(WORDS, k=rng.randint(1, 80))),
                history=history,
                task={"hotel": f"H{i}", "target_price": rng.randint(60, 140)},
            )
        )
    return out


def build_budget(path) -> int:
    src = build(path, token_budget=123)
    src.close()
    return src.token_budget


def build(path, **params) -> RMSource:
    config = RMConfig(path=str(path), **params)
    return RMSource.from_config(config, BuildContext(registry=get_registry()))


@pytest.mark.parametrize("fixture", ["tiny_llama", "tiny_qwen"])
def test_mixed_batch_equals_plain_one_by_one_forward(request, fixture):
    path = request.getfixturevalue(fixture)
    samples = mixed_samples(30)
    src = build(path, token_budget=600)
    try:
        got = src.score(samples)
        # Independent reference: the renderer's text, tokenized and scored alone.
        model = AutoModelForSequenceClassification.from_pretrained(path).eval()
        tok = AutoTokenizer.from_pretrained(path)
        with torch.inference_mode():
            ref = [
                model(**tok([src.renderer.text(s)], add_special_tokens=False, return_tensors="pt")).logits.item()
                for s in samples
            ]
        assert [s.value for s in got] == pytest.approx(ref, abs=1e-4)
        assert [s.details["raw"] for s in got] == [s.value for s in got]
        tel = src.telemetry()
        assert tel["samples"] == 30 and tel["batches"] > 2 and tel["truncations"] == 0
        assert tel["mean_tokens"] == pytest.approx(sum(s.details["tokens"] for s in got) / 30)
        assert 0 <= tel["pad_fraction"] < 0.5
    finally:
        src.close()


def test_spec_pipeline_with_rules_applies_repo_enhancement(tiny_llama, tmp_path):
    shutil.copytree(tiny_llama, tmp_path / "models" / "rm")
    spec = tmp_path / "reward.yaml"
    spec.write_text("sources:\n  rm:\n    type: rm\n    path: models/rm\n    device: cpu\n  rules: [cot_leak]\n")
    with RewardPipeline.from_spec(spec) as pipe:
        samples = [make_sample(response="Could we agree on 95 euros?"), make_sample(response="<think>x</think>95?")]
        results = pipe.score(samples)
        raw = [r.sources["rm"].value for r in results]
        rules = [r.sources["rules"].value for r in results]
        assert rules[0] == 0 and rules[1] < 0
        assert [r.reward for r in results] == pytest.approx([enhance(v, e) for v, e in zip(raw, rules, strict=True)])
        assert pipe.telemetry()["rm"]["samples"] == 2
    assert not [k for k in cached_keys() if "models/rm" in k[0]]


def test_model_loads_once_per_process_and_is_freed_on_last_close(tiny_llama):
    a = build(tiny_llama, device="auto")
    b = build(tiny_llama, device="cpu", dtype="float32", task_placement="none")
    c = build(tiny_llama, device="cpu", dtype="bfloat16")
    try:
        assert a.loaded is b.loaded and a.loaded.refs == 2 and c.loaded is not a.loaded
        assert a.token_budget == (16384 if a.loaded.device.type == "cuda" else 4096)
        assert build_budget(tiny_llama) == 123
        assert a.renderer is not b.renderer  # per-source settings over one shared model
        assert sum(k[0] == str(tiny_llama.resolve()) for k in cached_keys()) == 2
        assert c.score([make_sample()])[0].value is not None
    finally:
        a.close()
        a.close()  # idempotent
        assert str(tiny_llama.resolve()) in [k[0] for k in cached_keys()]
        b.close()
        c.close()
    assert str(tiny_llama.resolve()) not in [k[0] for k in cached_keys()]
    with pytest.raises(RuntimeError, match="closed"):
        a.score([make_sample()])


def test_truncation_is_counted_warned_and_keeps_the_response(tiny_llama, caplog):
    src = build(tiny_llama, max_length=64)
    long = make_sample(response="Deal at 95.", history=[("user", "blah " * 200), ("assistant", "Hi"), ("user", "Ok")])
    try:
        with caplog.at_level(logging.WARNING, logger="repo_sdk.rm"):
            scores = src.score([long, make_sample(response="Hi", history=[]), long])
        assert "truncated 2 of 3 inputs to max_length=64" in caplog.text
        assert scores[0].details["truncated"]["dropped_turns"] == 2 and scores[0].details["tokens"] <= 64
        assert "truncated" not in scores[1].details
        assert src.telemetry()["truncations"] == 2
        assert (
            src.renderer.tokenizer.decode(src.renderer.encode([long])[0].ids).rstrip().endswith("Deal at 95.<|im_end|>")
        )
    finally:
        src.close()


def test_normalisation_mean_std_and_calibration_file(tiny_llama, tmp_path):
    samples = mixed_samples(8, seed=1)
    plain = build(tiny_llama)
    raw = [s.value for s in plain.score(samples)]
    plain.close()
    zs = build(tiny_llama, normalize={"mean": 0.5, "std": 2.0})
    assert [s.value for s in zs.score(samples)] == pytest.approx([(r - 0.5) / 2 for r in raw], abs=1e-6)
    zs.close()
    cal = tmp_path / "cal.json"
    cal.write_text(json.dumps(calibration_stats(raw)))
    q = build(tiny_llama, normalize={"file": str(cal), "method": "quantile"})
    values = [s.value for s in q.score(samples)]
    q.close()
    assert min(values) == pytest.approx(-1) and max(values) == pytest.approx(1)
    assert sorted(range(8), key=lambda i: values[i]) == sorted(range(8), key=lambda i: raw[i])
    z = build(tiny_llama, normalize=str(cal))
    stats = calibration_stats(raw)
    assert z.score(samples[:1])[0].value == pytest.approx((raw[0] - stats["mean"]) / stats["std"], abs=1e-5)
    z.close()
    with pytest.raises(ConfigError, match="does not exist"):
        build(tiny_llama, normalize=str(tmp_path / "nope.json"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"path": "m", "colour": "red"}, "sources.rm.colour: unknown key"),
        ({"path": "m", "task_placement": "footer"}, "sources.rm.task_placement"),
        ({"path": "m", "task_template": "{{ task.x "}, "task_template does not compile"),
        ({"path": "m", "device": "tpu"}, "device must be"),
        ({"path": "m", "normalize": {"mean": 0, "std": 0}}, "sources.rm.normalize"),
        ({}, "sources.rm.path: path .a local model folder. or base_url .an RM server. is required"),
    ],
)
def test_bad_config_is_rejected_before_loading(params, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        RewardPipeline.from_spec({"sources": {"rm": {"type": "rm", **params}}})


def test_not_a_reward_model_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        build(tmp_path / "missing")
    lm = build_tiny_model(tmp_path / "lm", head="causal-lm")
    with pytest.raises(ConfigError, match="LlamaForCausalLM, not a sequence-classification reward model"):
        build(lm)


def test_training_metadata_sets_rendering_unless_the_spec_overrides(tiny_llama, tmp_path):
    path = shutil.copytree(tiny_llama, tmp_path / "rm")
    render = {"task_placement": "user-prefix", "task_template": "T={{ task.target_price }}", "max_length": 77}
    (path / "repo_rm.json").write_text(json.dumps({"format": 1, "render": render}))
    meta = build(path)
    own = build(path, task_placement="none", max_length=99)
    try:
        msgs = meta.renderer.messages({"target_price": 5}, make_sample().history, "x")
        assert msgs[0] == {"role": "user", "content": "T=5\n\nHello, this is the front desk of Hotel Aurora."}
        assert meta.max_length == 77 and own.max_length == 99
        assert "T=5" not in own.renderer.render(own.renderer.messages({"target_price": 5}, [], "x"))
    finally:
        meta.close()
        own.close()


def test_nan_scores_become_none(tmp_path):
    path = build_tiny_model(tmp_path / "nan")
    model = AutoModelForSequenceClassification.from_pretrained(path)
    with torch.no_grad():
        model.score.weight.fill_(float("nan"))
    model.save_pretrained(path)
    src = build(path)
    try:
        score = src.score([make_sample()])[0]
        assert score.value is None and "NaN" in score.reason and src.telemetry()["nan"] == 1
    finally:
        src.close()


def test_unavailable_device_is_a_config_error(tiny_llama):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ConfigError, match="CUDA is not available"):
        build(tiny_llama, device="cuda")
