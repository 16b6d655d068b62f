"""The tiny model builder other tests (and the adapters' tests) build on."""

from __future__ import annotations

import pytest
import torch
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


def test_a_realistic_vocabulary_is_met_exactly_and_every_id_decodes(tmp_path):
    # A random policy samples any id of its head: each must be a distinct token the tokenizer can also produce.
    path = build_tiny_model(tmp_path, head="causal-lm", vocab_size=5000, num_heads=4, num_kv_heads=2)
    model = AutoModelForCausalLM.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    assert len(tok) == model.config.vocab_size == 5000
    assert model.config.num_key_value_heads == 2 and model.config.num_attention_heads == 4
    tokens = tok.convert_ids_to_tokens(list(range(5000)))
    assert None not in tokens and len(set(tokens)) == 5000
    top = [4999, 4998, 3000, 700]
    assert all(tok.decode([i]) for i in top)
    assert model(input_ids=torch.tensor([top])).logits.shape == (1, 4, 5000)


def test_a_vocabulary_past_what_the_corpus_can_make_is_refused():
    from repo_sdk.rm.tiny import build_tiny_tokenizer

    with pytest.raises(ValueError, match="vocab_size 500000"):
        build_tiny_tokenizer(500_000)
