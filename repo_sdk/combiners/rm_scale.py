"""Checks of the RM's scale under a ``repo`` combiner, for ``repo-sdk validate``.

REPO keeps the RM's sign, so it needs the RM on a positive scale (docs/combiners.md).
These checks read the validated spec only: nothing is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from repo_sdk.config import LoadedSpec

__all__ = ["rm_scale_warnings"]


def rm_scale_warnings(loaded: LoadedSpec) -> list[str]:
    """Warnings when a ``repo`` combiner (alone or inside a ``gate``) reads an RM that is not on a positive scale.

    ``repo-sdk validate`` prints them.

    Example:
        >>> from repo_sdk.config import load
        >>> spec = {"sources": {"rm": {"type": "rm", "path": "rm"}}, "combiner": {"type": "repo"}}
        >>> [w.split(":")[0] for w in rm_scale_warnings(load(spec))]
        ['sources.rm.normalize']
    """
    cfg: Any = loaded.combiner_config
    if loaded.spec.combiner.type == "gate":
        if cfg.inner.type != "repo":
            return []
        rm_name = cfg.inner.params.get("rm")
    elif loaded.spec.combiner.type == "repo":
        rm_name = cfg.rm
    else:
        return []
    names = [rm_name] if rm_name else [n for n, s in loaded.spec.sources.items() if s.type == "rm"]
    out = []
    for name in names:
        scale = getattr(loaded.source_configs.get(name), "scale", None)
        kind = scale() if callable(scale) else None
        if kind == "raw":
            out.append(
                f"sources.{name}.normalize: none: the repo combiner keeps the RM's sign, so a fully penalised reply "
                "with a positive raw score (reward 0) out-ranks a clean reply with a negative one; put the RM on a "
                f"positive scale, e.g. normalize: {{file: {_calibration_hint(loaded, name)}, "
                "method: positive_quantile} "
                "(docs/combiners.md)"
            )
        elif kind == "signed":
            out.append(
                f"sources.{name}.normalize: a signed scale puts about half of the clean replies below 0, where any "
                "penalised reply with a positive score (reward >= 0) out-ranks them; use method: positive_quantile "
                "or sigmoid (docs/combiners.md)"
            )
    return out


def _calibration_hint(loaded: LoadedSpec, name: str) -> str:
    path = getattr(loaded.source_configs.get(name), "path", None)
    return f"{path.rstrip('/')}/calibration.json" if isinstance(path, str) else "RM_DIR/calibration.json"
