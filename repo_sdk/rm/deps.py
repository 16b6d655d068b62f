"""What the RM needs beyond the core: torch and transformers come with the ``rm`` extra.

``pip install repo-sdk`` installs rules and the judge without a GPU stack; the RM
source, ``rm train`` and the tiny-model helpers check for their packages when used
and say in one line what to install.

Example:
    >>> require_rm("the rm source", "json")  # present: returns quietly
    >>> require_rm("the rm source", "not_a_module_xyz")
    Traceback (most recent call last):
    ...
    repo_sdk.errors.MissingDependencyError: the rm source needs an optional dependency: pip install 'repo-sdk[rm]'
"""

from __future__ import annotations

from repo_sdk.errors import require

__all__ = ["RM_EXTRA", "require_rm"]

RM_EXTRA = "'repo-sdk[rm]'"


def require_rm(what: str, *modules: str) -> None:
    """Import each module (default: torch and transformers) or raise MissingDependencyError naming the extra.

    Raises:
        MissingDependencyError: one line, ``<what> needs an optional dependency: pip install 'repo-sdk[rm]'``.
    """
    for module in modules or ("torch", "transformers"):
        require(module, RM_EXTRA, what)
