"""Plugin discovery: built-ins and entry points into one :class:`Registry`.

Third-party plugins are modules named under the ``repo_sdk`` entry-point group.
A plugin that cannot be loaded as a whole lands in :attr:`Registry.failed` with
the reason, registers nothing, and the rest still load: one that fails to import,
implements a hook that does not exist (``register_rule``), whose hook raises, that
registers something that is not a plugin class, or that reuses a name another
package registered first. The environment variable ``REPO_SDK_PLUGINS``
(comma-separated entry-point names) restricts which third-party plugins load; set
it empty to load built-ins only.

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
from repo_sdk.plugin_checks import checked, unknown_hooks

__all__ = [
    "ALLOW_ENV",
    "BUILTIN_MODULES",
    "Registered",
    "Registry",
    "add_plugin",
    "get_registry",
    "remove_plugin",
    "reset_registry",
]

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
HOOKS = tuple(f"register_{kind}" for kind in KINDS)


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
    """Everything plugins registered, by kind, plus the plugins that failed to load (name -> reason)."""

    sources: dict[str, Registered] = field(default_factory=dict)
    combiners: dict[str, Registered] = field(default_factory=dict)
    rules: dict[str, Registered] = field(default_factory=dict)
    templates: dict[str, Registered] = field(default_factory=dict)
    sops: dict[str, Registered] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def get(self, kind: str, name: str) -> Any:
        """The registered object, or a PluginError listing what is known (and that some plugins failed)."""
        table: dict[str, Registered] = getattr(self, kind)
        if name not in table:
            known = ", ".join(sorted(table)) or "none"
            failed = f"; {len(self.failed)} plugin(s) failed to load, see `repo-sdk plugins`" if self.failed else ""
            raise PluginError(f"unknown {kind[:-1]} {name!r} (known: {known}){failed}")
        return table[name].obj

    def clash(self, kind: str, item: Registered) -> str | None:
        """Why ``item`` cannot join ``kind``: its name is taken by another object (None when it can)."""
        old: Registered | None = getattr(self, kind).get(item.name)
        if old is None or old.obj is item.obj:
            return None
        return (
            f"{kind[:-1]} {item.name!r} is registered by both {old.package} ({old.plugin}) "
            f"and {item.package} ({item.plugin})"
        )

    def add(self, kind: str, item: Registered) -> None:
        """Add one registered thing; PluginError when its name is taken by another object."""
        if (why := self.clash(kind, item)) is not None:
            raise PluginError(why)
        getattr(self, kind)[item.name] = item


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


def _collect(pm: pluggy.PluginManager, plugin_name: str, package: str, version: str) -> list[tuple[str, Registered]]:
    """What one plugin registers, by calling its hooks; PluginError when a hook raises or registers junk."""
    staged: list[tuple[str, Registered]] = []
    for kind in KINDS:
        for impl in getattr(pm.hook, f"register_{kind}").get_hookimpls():
            if impl.plugin_name != plugin_name:
                continue

            def register(obj: Any, path: Any = None, *, _kind: str = kind) -> None:
                name, good = checked(_kind, obj, path)
                staged.append((_kind, Registered(name, good, plugin_name, package, version)))

            try:
                impl.function(register=register)
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(f"register_{kind} raised {type(exc).__name__}: {exc}") from exc
    return staged


def build_registry(extra_plugins: Iterable[tuple[str, object]] = ()) -> Registry:
    """Load built-ins, entry-point plugins and ``extra_plugins`` into a fresh Registry.

    Plugins are taken in that order, each as a whole: a plugin that fails (see the
    module docs) is recorded in ``failed`` and registers nothing; on a name clash the
    later plugin fails. An extra plugin already registered through its entry point
    (installed and passed again by a test) is taken once.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    origin: dict[str, tuple[str, str]] = {}
    registry = Registry()

    def add(name: str, plugin: object, package: str, version: str) -> None:
        try:
            pm.register(plugin, name=name)
        except Exception as exc:  # a bad hook signature, say; must not take the others down
            registry.failed[name] = f"{package}: {type(exc).__name__}: {exc}"
            return
        if not pm.get_hookcallers(plugin):  # register_* functions without @hookimpl, say
            pm.unregister(plugin)
            registry.failed[name] = f"{package}: no hook found: decorate {' / '.join(HOOKS)} with @repo_sdk.hookimpl"
            return
        origin[name] = (package, version)

    core_version = _version("repo-sdk")
    for modname in BUILTIN_MODULES:
        try:
            module = importlib.import_module(modname)
        except Exception as exc:  # e.g. an optional dependency of one built-in is broken
            registry.failed[modname] = f"repo-sdk: {type(exc).__name__}: {exc}"
            continue
        add(modname, module, "repo-sdk", core_version)

    allowed = _allowed_names()
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if allowed is not None and ep.name not in allowed:
            continue
        package = ep.dist.name if ep.dist is not None else ep.value
        try:
            plugin = ep.load()
        except Exception as exc:
            registry.failed[ep.name] = f"{package}: {type(exc).__name__}: {exc}"
            continue
        if not pm.is_registered(plugin):
            add(ep.name, plugin, package, ep.dist.version if ep.dist is not None else "unknown")

    for name, plugin in extra_plugins:
        if not pm.is_registered(plugin):
            add(name, plugin, name, "test")

    for name, why in unknown_hooks(pm, HOOKS).items():
        registry.failed[name] = f"{origin[name][0]}: {why}"

    for plugin_name, _plugin in pm.list_name_plugin():
        package, version = origin[plugin_name]
        try:
            staged = _collect(pm, plugin_name, package, version)
            seen: dict[tuple[str, str], object] = {}
            for kind, item in staged:
                if seen.setdefault((kind, item.name), item.obj) is not item.obj:
                    raise PluginError(f"it registers two different {kind} named {item.name!r}")
            clashes = [clash for kind, item in staged if (clash := registry.clash(kind, item)) is not None]
            if clashes:
                raise PluginError(f"{'; '.join(clashes)}: the later plugin, {plugin_name}, was not loaded")
        except PluginError as exc:
            registry.failed[plugin_name] = f"{package}: {exc}"
            continue
        for kind, item in staged:
            getattr(registry, kind).setdefault(item.name, item)
    return registry


_cached: Registry | None = None
_extra: list[tuple[str, object]] = []


def get_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _cached
    if _cached is None:
        _cached = build_registry(_extra)
    return _cached


def add_plugin(name: str, plugin: object) -> None:
    """Load ``plugin`` (a hook module or object) as if installed under ``name``, from the next registry on."""
    _extra.append((name, plugin))
    reset_registry()


def remove_plugin(name: str, plugin: object) -> None:
    """Undo :func:`add_plugin`."""
    _extra.remove((name, plugin))
    reset_registry()


def reset_registry() -> None:
    """Forget the cached registry (after installing a plugin, or in tests)."""
    global _cached
    _cached = None
