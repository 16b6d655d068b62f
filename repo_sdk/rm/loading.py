"""Load a reward model once per process and share it between every consumer.

Models are cached by ``(resolved path, device, dtype)``, with ``auto`` already
resolved, so ``score``, ``serve`` and a trainer adapter in one process hold one
copy. Each :func:`acquire` takes a reference; :func:`release` drops it, and the
last release frees the model. A lock per model serialises forward passes from
threads (``RewardSource.ascore`` runs ``score`` in a worker thread).

Device and dtype: ``auto`` picks CUDA when present (bf16 where the GPU supports it,
else fp16), else CPU in fp32.

Example:
    >>> import tempfile
    >>> from repo_sdk.rm.tiny import build_tiny_model
    >>> path = build_tiny_model(tempfile.mkdtemp())
    >>> a, b = acquire(path, device="cpu"), acquire(path, device="auto", dtype="float32")
    >>> a is b, a.device.type, a.refs
    (True, 'cpu', 2)
    >>> release(a); release(b)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repo_sdk.errors import ConfigError

__all__ = ["META_FILE", "LoadedRM", "acquire", "cached_keys", "release", "resolve_device", "resolve_dtype"]

META_FILE = "repo_rm.json"
_DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
}


def resolve_device(device: str = "auto") -> Any:
    """``auto`` -> ``cuda`` if available else ``cpu``; anything else as torch reads it."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ConfigError(f"rm: bad device {device!r}: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"rm: device {device!r} asked for, but CUDA is not available here (use auto or cpu)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"rm: device {device!r} asked for, but MPS is not available here (use auto or cpu)")
    return dev


def resolve_dtype(dtype: str, device: Any) -> Any:
    """``auto`` -> bf16 (or fp16 without bf16 support) on CUDA, fp32 elsewhere."""
    import torch

    if dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if dtype not in _DTYPES:
        raise ConfigError(f"rm: bad dtype {dtype!r} (use auto, float32, bfloat16 or float16)")
    return getattr(torch, _DTYPES[dtype])


@dataclass(eq=False)
class LoadedRM:
    """A loaded reward model, its tokenizer, and what ``rm train`` recorded beside it."""

    key: tuple[str, str, str]
    model: Any
    tokenizer: Any
    device: Any
    dtype: Any
    pad_id: int
    meta: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refs: int = 0


_cache: dict[tuple[str, str, str], LoadedRM] = {}
_cache_lock = threading.Lock()


def _check_reward_model(path: Path) -> None:
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ConfigError(f"rm: {path} is not a model directory (no config.json)")
    config = json.loads(config_file.read_text(encoding="utf-8"))
    archs = config.get("architectures") or []
    if archs and not any(a.endswith("ForSequenceClassification") for a in archs):
        raise ConfigError(
            f"rm: {path} is a {', '.join(archs)}, not a sequence-classification reward model; "
            "train one with `repo-sdk rm train`"
        )
    labels = config.get("num_labels", len(config.get("id2label") or {}) or 1)
    if labels != 1:
        raise ConfigError(f"rm: {path} has num_labels={labels}; a reward model needs num_labels=1")


@contextmanager
def _no_loading_bar() -> Iterator[None]:
    from transformers.utils import logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            hf_logging.enable_progress_bar()


def _load(path: Path, device: Any, dtype: Any, key: tuple[str, str, str]) -> LoadedRM:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    _check_reward_model(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    with _no_loading_bar():  # a local model loads in a moment: its bar would only be carriage returns in a log
        model = AutoModelForSequenceClassification.from_pretrained(path, dtype=dtype)
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token_id is None:
            raise ConfigError(f"rm: the tokenizer of {path} has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    # The classifier finds each row's last token by the pad id: it must match the tokenizer's.
    model.config.pad_token_id = tokenizer.pad_token_id
    model.to(device).eval()
    meta_file = path / META_FILE
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
    return LoadedRM(key, model, tokenizer, device, dtype, tokenizer.pad_token_id, meta)


def acquire(path: str | Path, device: str = "auto", dtype: str = "auto") -> LoadedRM:
    """The shared model for ``path`` on ``device`` in ``dtype``, loading it on first use.

    Raises:
        ConfigError: the path is missing or is not a ``num_labels=1`` sequence classifier.
    """
    resolved = Path(path).expanduser().resolve()
    if not resolved.exists():
        raise ConfigError(f"rm: model path {resolved} does not exist")
    dev = resolve_device(device)
    dt = resolve_dtype(dtype, dev)
    key = (str(resolved), str(dev), str(dt).removeprefix("torch."))
    with _cache_lock:
        loaded = _cache.get(key)
        if loaded is None:
            loaded = _cache[key] = _load(resolved, dev, dt, key)
        loaded.refs += 1
        return loaded


def release(loaded: LoadedRM) -> None:
    """Drop one reference; the last one frees the model (and the GPU memory it held)."""
    with _cache_lock:
        loaded.refs -= 1
        if loaded.refs > 0 or _cache.get(loaded.key) is not loaded:
            return
        del _cache[loaded.key]
    if loaded.device.type == "cuda":
        import torch

        loaded.model = None
        torch.cuda.empty_cache()


def cached_keys() -> list[tuple[str, str, str]]:
    """Keys of the models loaded in this process now: ``(path, device, dtype)``."""
    with _cache_lock:
        return list(_cache)
