"""The tiny model builder other tests (and the adapters' tests) build on."""

from __future__ import annotations

import pytest
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

from repo_sdk.rm.tiny import build_tiny_model


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
@pytest.mark.parametrize("head", ["seq-cls", "causal-lm"])
def test_builds_a_small_loadable_model_with_chat_template(tmp_path, arch, head):
    path = build_tiny_model(tmp_path, arch=arch, head=head)
    auto = AutoModelForSequenceClassification if head == "seq-cls" else AutoModelForCausalLM
    model = auto.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    assert model.config.model_type == arch
    assert sum(p.numel() for p in model.parameters()) < 100_000
    assert tok.pad_token == "<pad>" and model.config.pad_token_id == tok.pad_token_id
    text = tok.apply_chat_template(
        [{"role": "user", "content": "Hi, 120 euros?"}], tokenize=False, add_generation_prompt=True
    )
    assert text.endswith("<|im_start|>assistant\n")
    ids = tok(text, add_special_tokens=False).input_ids
    assert tok.decode(ids) == text and max(ids) < model.config.vocab_size
    if head == "seq-cls":
        assert model.config.num_labels == 1
        assert model(**tok([text], return_tensors="pt")).logits.shape == (1, 1)


def test_same_seed_same_weights(tmp_path):
    a = AutoModelForSequenceClassification.from_pretrained(build_tiny_model(tmp_path / "a", seed=3))
    b = AutoModelForSequenceClassification.from_pretrained(build_tiny_model(tmp_path / "b", seed=3))
    assert all((x == y).all() for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
