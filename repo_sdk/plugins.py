"""Plugin discovery: built-ins and entry points into one :class:`Registry`.

Third-party plugins are modules named under the ``repo_sdk`` entry-point group.
One that fails to import is reported by name and the rest still load. The
environment variable ``REPO_SDK_PLUGINS`` (comma-separated entry-point names)
restricts which third-party plugins load; set it empty to load built-ins only.

Example:
    >>> reg = get_registry()
    >>> "repo" in reg.combiners
    True
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pluggy

from repo_sdk import hookspecs
from repo_sdk.errors import PluginError

__all__ = ["ALLOW_ENV", "BUILTIN_MODULES", "Registered", "Registry", "get_registry", "reset_registry"]

ALLOW_ENV = "REPO_SDK_PLUGINS"
ENTRY_POINT_GROUP = "repo_sdk"
BUILTIN_MODULES = (
    "repo_sdk.sources.rules_source",
    "repo_sdk.combiners",
    "repo_sdk.rules",
    "repo_sdk.judge",
    "repo_sdk.rm",
    "repo_sdk.templates_builtin",
)
KINDS = ("sources", "combiners", "rules", "templates", "sops")


@dataclass(frozen=True)
class Registered:
    """One registered thing and where it came from."""

    name: str
    obj: Any
    plugin: str
    package: str
    version: str

    @property
    def description(self) -> str:
        if isinstance(self.obj, Path):
            return str(self.obj)
        doc = getattr(self.obj, "description", "") or (self.obj.__doc__ or "")
        return doc.strip().splitlines()[0] if doc.strip() else ""


@dataclass
class Registry:
    """Everything plugins registered, by kind, plus the plugins that failed to load."""

    sources: dict[str, Registered] = field(default_factory=dict)
    combiners: dict[str, Registered] = field(default_factory=dict)
    rules: dict[str, Registered] = field(default_factory=dict)
    templates: dict[str, Registered] = field(default_factory=dict)
    sops: dict[str, Registered] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def get(self, kind: str, name: str) -> Any:
        """The registered object, or a PluginError listing what is known."""
        table: dict[str, Registered] = getattr(self, kind)
        if name not in table:
            known = ", ".join(sorted(table)) or "none"
            singular = kind[:-1]
            raise PluginError(f"unknown {singular} {name!r} (known: {known})")
        return table[name].obj

    def add(self, kind: str, item: Registered) -> None:
        table: dict[str, Registered] = getattr(self, kind)
        old = table.get(item.name)
        if old is not None and old.obj is not item.obj:
            raise PluginError(
                f"{kind[:-1]} {item.name!r} is registered by both {old.package} ({old.plugin}) "
                f"and {item.package} ({item.plugin})"
            )
        table[item.name] = item


def _allowed_names() -> set[str] | None:
    raw = os.environ.get(ALLOW_ENV)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def build_registry(extra_plugins: Iterable[tuple[str, object]] = ()) -> Registry:
    """Load built-ins, entry-point plugins and ``extra_plugins`` into a fresh Registry."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    origin: dict[str, tuple[str, str]] = {}
    registry = Registry()

    core_version = _version("repo-sdk")
    for modname in BUILTIN_MODULES:
        try:
            pm.register(importlib.import_module(modname), name=modname)
        except Exception as exc:  # e.g. an optional dependency of one built-in is broken
            registry.failed[modname] = f"repo-sdk: {type(exc).__name__}: {exc}"
            continue
        origin[modname] = ("repo-sdk", core_version)

    allowed = _allowed_names()
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if allowed is not None and ep.name not in allowed:
            continue
        package = ep.dist.name if ep.dist is not None else ep.value
        version = ep.dist.version if ep.dist is not None else "unknown"
        try:
            plugin = ep.load()
            if pm.is_registered(plugin):
                continue
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # a broken plugin must not take the others down
            registry.failed[ep.name] = f"{package}: {type(exc).__name__}: {exc}"
            continue
        origin[ep.name] = (package, version)

    for name, plugin in extra_plugins:
        pm.register(plugin, name=name)
        origin[name] = (name, "test")

    for kind in KINDS:
        caller = getattr(pm.hook, f"register_{kind}")
        for impl in caller.get_hookimpls():
            package, version = origin.get(impl.plugin_name, (impl.plugin_name, "unknown"))

            def register(
                obj: Any,
                path: Any = None,
                *,
                _kind: str = kind,
                _impl: Any = impl,
                _pkg: str = package,
                _ver: str = version,
            ) -> None:
                if _kind == "templates":
                    name, obj = obj, Path(path)
                else:
                    name = getattr(obj, "name", None)
                    if not isinstance(name, str) or not name:
                        raise PluginError(f"{_pkg} registered a {_kind[:-1]} without a name: {obj!r}")
                registry.add(_kind, Registered(name, obj, _impl.plugin_name, _pkg, _ver))

            try:
                impl.function(register=register)
            except PluginError:
                raise
            except Exception as exc:
                registry.failed[impl.plugin_name] = f"{package}: {type(exc).__name__}: {exc}"
    return registry


_cached: Registry | None = None
_extra: list[tuple[str, object]] = []


def get_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _cached
    if _cached is None:
        _cached = build_registry(_extra)
    return _cached


def reset_registry() -> None:
    """Forget the cached registry (after installing a plugin, or in tests)."""
    global _cached
    _cached = None
