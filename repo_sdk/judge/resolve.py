"""Finding a judge template by name (registered by the core or a plugin) or by path.

Example:
    >>> from repo_sdk.interfaces import BuildContext
    >>> from repo_sdk.plugins import get_registry
    >>> resolve_template("negotiation", BuildContext(registry=get_registry())).kind
    'pointwise'
"""

from __future__ import annotations

from repo_sdk.interfaces import BuildContext
from repo_sdk.judge.templates import JudgeTemplate, TemplateError, load_template

__all__ = ["looks_like_path", "resolve_template"]


def looks_like_path(ref: str) -> bool:
    """A ``template:`` value that is a file path rather than a name (``.j2`` or a path separator)."""
    return ref.endswith(".j2") or "/" in ref or "\\" in ref


def resolve_template(ref: str, context: BuildContext) -> JudgeTemplate:
    """The template a spec's ``template:`` value names.

    A registered name wins (``pointwise``, ``pairwise``, ``negotiation`` and whatever
    plugins register); otherwise a value ending in ``.j2`` or holding a ``/`` is a
    path, relative to the spec's folder.

    Raises:
        TemplateError: neither a registered name nor an existing file (lists the known names).
    """
    templates = context.registry.templates
    if ref in templates:
        return load_template(templates[ref].obj, name=ref)
    if looks_like_path(ref):
        path = context.resolve(ref)
        if not path.is_file():
            raise TemplateError(f"template: no such file {str(path)!r}")
        return load_template(path, name=ref)
    known = ", ".join(sorted(templates)) or "none"
    raise TemplateError(f"template: unknown judge template {ref!r} (known: {known}; or give a path to a .j2 file)")
