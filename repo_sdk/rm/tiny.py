"""Tiny random transformers models built from a config, for tests and benchmarks.

No download: the weights are random, and the tokenizer is a byte-level BPE trained
in-process with ``tokenizers`` on a small built-in corpus (hotel negotiation
phrases), with ChatML special tokens, a dedicated ``<pad>`` and a chat template.
The corpus yields about 630 tokens; a larger ``vocab_size`` (a realistically shaped
model, e.g. SmolLM2's 49,152) is reached with merges of those tokens, so every id
the model can emit decodes to text.
The result is a saved directory that ``from_pretrained`` loads like any model.

Both heads the project needs are here: a sequence classifier (a reward model,
``num_labels=1``) and a causal LM (a policy), each as Llama or Qwen2.

Example:
    >>> import tempfile
    >>> path = build_tiny_model(tempfile.mkdtemp(), arch="qwen2", head="seq-cls")
    >>> from transformers import AutoModelForSequenceClassification
    >>> AutoModelForSequenceClassification.from_pretrained(path).config.num_labels
    1
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any, Literal

from repo_sdk.rm.deps import require_rm

__all__ = ["CHATML_TEMPLATE", "build_tiny_model", "build_tiny_tokenizer"]

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

_CORPUS = [
    "Hello, this is the front desk of Hotel Aurora. How can I help you?",
    "Thank you for your time. Could we discuss the price of the twin room for next month?",
    "The current price is 120 euros per night, breakfast included.",
    "Our target is 95 euros. Would you consider 100 euros for a stay of three nights?",
    "I understand, and I appreciate your flexibility. Could you confirm the deluxe king room as well?",
    "We cannot go lower than 110. The season is busy and we are almost full.",
    "That works for us. Thank you so much, we accept 105 euros for the double room.",
    "Sorry, the manager is not available today. Please call again tomorrow morning.",
    "The work order says the ticket target price is 90, net price versus selling price.",
    "Great news! We would be delighted to promote your hotel to more travellers.",
    "Is the suite with sea view still available on the weekend of the 14th?",
    "We offer free cancellation until 48 hours before arrival, and parking costs 15 euros.",
    "0123456789 EUR USD CNY % , . ! ? : ; - ( ) ' \" / @ # & * + =",
]

_SPECIALS = ["<pad>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def build_tiny_tokenizer(vocab_size: int = 512, chat_template: str | None = CHATML_TEMPLATE) -> Any:
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on the built-in corpus.

    Args:
        vocab_size: vocabulary size (the 256 byte symbols plus merges plus specials), met exactly.
        chat_template: Jinja chat template to attach; ``None`` leaves it without one.

    Returns:
        The tokenizer, with ``pad_token="<pad>"`` and ``eos_token="<|endoftext|>"``.

    Example:
        >>> len(build_tiny_tokenizer(2048))
        2048
    """
    require_rm("the tiny tokenizer", "transformers", "tokenizers")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=_SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    if tok.get_vocab_size() < vocab_size:
        tok = _grow(tok, vocab_size)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="<|endoftext|>",
        bos_token=None,
        unk_token=None,
        model_max_length=4096,
    )
    if chat_template is not None:
        fast.chat_template = chat_template
    return fast


def _grow(tok: Any, vocab_size: int) -> Any:
    """``tok`` with merges of its own tokens appended until its vocabulary holds ``vocab_size`` entries."""
    from tokenizers import Tokenizer

    state = json.loads(tok.to_str())
    vocab, merges = state["model"]["vocab"], state["model"]["merges"]
    pieces = [t for t, _ in sorted(vocab.items(), key=lambda item: item[1]) if t not in _SPECIALS]
    for a, b in itertools.product(pieces, repeat=2):
        if len(vocab) >= vocab_size:
            return Tokenizer.from_str(json.dumps(state))
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
            merges.append([a, b])
    raise ValueError(f"vocab_size {vocab_size} is more than the tiny tokenizer can reach ({len(vocab)})")


def build_tiny_model(
    out_dir: str | Path,
    *,
    arch: Literal["llama", "qwen2"] = "llama",
    head: Literal["seq-cls", "causal-lm"] = "seq-cls",
    hidden_size: int = 32,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int | None = None,
    intermediate_size: int | None = None,
    vocab_size: int = 512,
    max_position_embeddings: int = 4096,
    chat_template: str | None = CHATML_TEMPLATE,
    seed: int = 0,
) -> Path:
    """Build a random Llama / Qwen2 model with a trained tokenizer and save both.

    The defaults give about 40k parameters: enough to exercise every code path, and
    a forward pass takes milliseconds on a CPU.

    Args:
        out_dir: directory to write (created if missing).
        arch: ``llama`` or ``qwen2``.
        head: ``seq-cls`` (``num_labels=1``, a reward model) or ``causal-lm`` (a policy).
        hidden_size: model width.
        num_layers: decoder layers.
        num_heads: attention heads.
        num_kv_heads: key/value heads (grouped-query attention); defaults to ``num_heads``.
        intermediate_size: MLP width; defaults to ``int(2.7 * hidden_size)``.
        vocab_size: tokenizer and embedding size.
        max_position_embeddings: longest sequence the model accepts.
        chat_template: chat template saved with the tokenizer (``None``: none).
        seed: torch seed for the random weights.

    Returns:
        ``out_dir`` as a Path.

    Example:
        >>> import tempfile
        >>> p = build_tiny_model(tempfile.mkdtemp(), head="causal-lm")
        >>> (p / "config.json").exists(), (p / "tokenizer.json").exists()
        (True, True)
    """
    require_rm("the tiny models")
    import torch
    from transformers import (
        AutoModelForCausalLM,
        AutoModelForSequenceClassification,
        LlamaConfig,
        Qwen2Config,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer(vocab_size, chat_template)
    config_cls = {"llama": LlamaConfig, "qwen2": Qwen2Config}[arch]
    config = config_cls(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size or int(2.7 * hidden_size),
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads or num_heads,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=head == "causal-lm",
        num_labels=1,
    )
    torch.manual_seed(seed)
    auto = AutoModelForSequenceClassification if head == "seq-cls" else AutoModelForCausalLM
    model = auto.from_config(config)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
