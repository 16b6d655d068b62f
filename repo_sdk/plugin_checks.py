"""What a plugin must get right to load: real hooks, and plugin classes with names.

:mod:`repo_sdk.plugins` fails a plugin as a whole when any of these checks does.

Example:
    >>> from repo_sdk.combiners import RepoCombiner
    >>> checked("combiners", RepoCombiner, None)[0]
    'repo'
    >>> checked("rules", RepoCombiner, None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    repo_sdk.errors.PluginError: register_rules: <class '...RepoCombiner'> is not a subclass of repo_sdk.Rule
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, get_args

import pluggy

from repo_sdk.errors import PluginError
from repo_sdk.interfaces import Combiner, RewardSource, Rule, SOPModel, SourceKind

__all__ = ["checked", "unknown_hooks"]


BASES: dict[str, type] = {"sources": RewardSource, "combiners": Combiner, "rules": Rule, "sops": SOPModel}


def checked(kind: str, obj: Any, path: Any) -> tuple[str, Any]:
    """``(name, object)`` of one ``register`` call, or PluginError saying what is wrong with it."""
    if kind == "templates":
        if not isinstance(obj, str) or not obj:
            raise PluginError(f"register_templates: register(name, path) needs a name, got {obj!r}")
        if path is None or not Path(path).is_file():
            raise PluginError(f"register_templates: template {obj!r} has no file at {path!r}")
        return obj, Path(path)
    base = BASES[kind]
    if not (isinstance(obj, type) and issubclass(obj, base)):
        raise PluginError(f"register_{kind}: {obj!r} is not a subclass of repo_sdk.{base.__name__}")
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not name:
        raise PluginError(f"register_{kind}: {obj.__name__} has no `name` (the name a spec uses)")
    source_kind = getattr(obj, "kind", None)
    if kind == "sources":
        if source_kind not in get_args(SourceKind):
            raise PluginError(f"source {name!r}: kind {source_kind!r} is not one of {', '.join(get_args(SourceKind))}")
    return name, obj


def unknown_hooks(pm: pluggy.PluginManager, hooks: tuple[str, ...]) -> dict[str, str]:
    """Plugins implementing a hook no spec declares (a misspelt ``register_rule``), found by
    pluggy's ``check_pending`` and unregistered one by one: plugin name -> reason."""
    out: dict[str, str] = {}
    while True:
        try:
            pm.check_pending()
            return out
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            unknown = sorted(c.name for c in pm.get_hookcallers(exc.plugin) or [] if not c.has_spec())
            hints = [f"{h!r}" + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(h, hooks, 1)) else "")
                     for h in unknown]  # fmt: skip
            out[name] = f"unknown hook {', '.join(hints)}; the hooks are {', '.join(hooks)}"
            pm.unregister(exc.plugin)
