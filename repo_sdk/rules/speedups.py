"""The optional C part of the rules (``repo_sdk/rules/native.c``): the module, or None where it was not built.

``pip install`` builds it where a C compiler is found (``setup.py``); without one the
install goes on and the rules run the same code in Python (:mod:`repo_sdk.rules.codes`),
with the same results. ``REPO_SDK_PURE_PYTHON=1`` in the environment ignores the built
module (tests run both ways).

Example:
    >>> SPEEDUPS is None or SPEEDUPS.encode(["we", "we"])[0] == SPEEDUPS.encode(["we"])
    True
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["SPEEDUPS"]


def _load() -> ModuleType | None:
    if os.environ.get("REPO_SDK_PURE_PYTHON"):
        return None
    try:
        from repo_sdk.rules import native  # type: ignore[attr-defined]  # built from C, where it could be
    except ImportError:
        return None
    return native


SPEEDUPS = _load()  #: the C module, or None
