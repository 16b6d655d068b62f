"""What makes an exported file run on another machine: paths relative to the file, overridable by env.

An exported ``reward.py`` / ``agent.py`` names the spec (and a local policy tokenizer) by
its path relative to the exported file's own folder, so the file and the spec's folder
can be copied together anywhere (a cluster's shared disk, a container) and still find
each other; ``REPO_SDK_SPEC`` and ``REPO_SDK_TOKENIZER`` override them. The spec is read
when the file is loaded, so its relative paths (an RM folder, a judge template) resolve
against the spec's own folder.

Example:
    >>> from pathlib import Path
    >>> relative_expr(Path("/runs/proj/spec.yaml"), Path("/runs/out"))
    "str(HERE / '../proj/spec.yaml')"
"""

from __future__ import annotations

import os
from pathlib import Path

from repo_sdk.config import LoadedSpec, load_spec
from repo_sdk.errors import ConfigError

__all__ = ["SPEC_ENV", "TOKENIZER_ENV", "local_ref", "relative_expr", "spec_at", "spec_log"]

SPEC_ENV = "REPO_SDK_SPEC"
TOKENIZER_ENV = "REPO_SDK_TOKENIZER"


def relative_expr(target: Path, folder: Path) -> str:
    """A Python expression for ``target`` relative to ``HERE`` (the exported file's folder)."""
    try:
        rel = os.path.relpath(target.resolve(), folder.resolve())
    except ValueError:  # another drive (Windows): no relative path exists
        return repr(str(target.resolve()))
    return f"str(HERE / {Path(rel).as_posix()!r})"


def local_ref(ref: str, folder: Path) -> str:
    """A tokenizer reference as a Python expression: a local path relative to ``HERE``, else as given.

    Example:
        >>> local_ref("tiny", Path("/runs/out")), local_ref("HuggingFaceTB/SmolLM2-135M-Instruct", Path("/o"))
        ("'tiny'", "'HuggingFaceTB/SmolLM2-135M-Instruct'")
    """
    if ref not in ("plain", "default", "tiny") and Path(ref).expanduser().exists():
        return relative_expr(Path(ref).expanduser(), folder)
    return repr(ref)


def spec_at(path: str | Path, *, file: str) -> LoadedSpec:
    """The spec an exported file names (``path``, or ``$REPO_SDK_SPEC`` already applied by the file).

    Raises:
        ConfigError: no spec there, naming the path, the file and the variable that overrides it.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"{file}: no reward spec at {str(p)!r}; copy the spec's folder along with {Path(file).name} "
            f"(same relative place) or set {SPEC_ENV}=/path/to/spec.yaml"
        )
    return load_spec(p)


def spec_log(loaded: LoadedSpec) -> str:
    """The spec's ``train.log`` (``summary`` unless it says ``full``).

    Raises:
        ConfigError: a value other than summary or full.
    """
    value = (loaded.spec.train or {}).get("log", "summary")
    if value not in ("summary", "full"):
        raise ConfigError(f"train.log: expected summary or full, got {value!r}")
    return str(value)
