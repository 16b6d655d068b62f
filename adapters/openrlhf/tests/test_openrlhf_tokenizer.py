"""Which tokenizer splits the queries: references and the spec's train.model."""

from __future__ import annotations

import pytest
from repo_sdk_openrlhf.chat import ChatSplitter, PlainSplitter
from repo_sdk_openrlhf.tokenizer import load_splitter, load_tokenizer, tokenizer_ref

from repo_sdk.config import load


@pytest.mark.parametrize(
    ("train", "given", "ref"),
    [
        (None, None, "default"),
        ({"model": "default"}, None, "default"),
        ({"model": "tiny"}, None, "tiny"),
        ({"model": "org/policy"}, None, "org/policy"),
        ({"model": "org/policy"}, "plain", "plain"),
    ],
)
def test_tokenizer_ref_follows_the_spec(train, given, ref):
    spec = {"sources": {"r": ["cot_leak"]}} | ({"train": train} if train else {})
    assert tokenizer_ref(load(spec), given) == ref


def test_tiny_rebuilds_the_tiny_policys_tokenizer(tiny_tokenizer):
    text = tiny_tokenizer.apply_chat_template([{"role": "user", "content": "95 EUR?"}], tokenize=False)
    assert load_tokenizer("tiny")(text)["input_ids"] == tiny_tokenizer(text)["input_ids"]
    assert isinstance(load_splitter("tiny"), ChatSplitter)
    assert type(load_splitter("plain")) is PlainSplitter
