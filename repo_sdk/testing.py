"""Test helpers for repo-sdk and its plugins: sample builders, plugin registration, a stand-in RM.

These are fakes for unit tests of logic; integration tests use the real parts.

Example:
    >>> s = make_sample(response="Deal at 80?", task={"target_price": 80})
    >>> s.task["target_price"], s.history[-1].role
    (80, 'user')
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from repo_sdk import plugins
from repo_sdk.errors import PluginError
from repo_sdk.hookspecs import hookimpl
from repo_sdk.interfaces import NoConfig, RewardSource
from repo_sdk.types import Dialogue, SourceScore, Turn
from repo_sdk.types import Sample as Sample

__all__ = ["EchoRM", "echo_rm", "install_plugin_module", "make_dialogue", "make_sample", "register_plugin"]

_ids = itertools.count()


def make_sample(
    response: str = "Thank you, could we discuss the price of the twin room?",
    *,
    task: dict[str, Any] | None = None,
    history: Sequence[tuple[str, str] | Turn] | None = None,
    id: str | None = None,
    group: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Sample:
    """A Sample with sensible defaults; history as ``(role, content)`` pairs or Turns."""
    if history is None:
        history = [("user", "Hello, this is the front desk of Hotel Aurora.")]
    turns = [t if isinstance(t, Turn) else Turn(role=t[0], content=t[1]) for t in history]
    return Sample(
        id=id or f"sample-{next(_ids)}",
        task=task if task is not None else {},
        history=turns,
        response=response,
        group=group,
        metadata=metadata or {},
    )


def make_dialogue(
    turns: Sequence[tuple[str, str]], *, task: dict[str, Any] | None = None, id: str | None = None
) -> Dialogue:
    """A Dialogue from ``(role, content)`` pairs."""
    return Dialogue(
        id=id or f"dialogue-{next(_ids)}",
        task=task or {},
        turns=[Turn(role=r, content=c) for r, c in turns],
    )


def install_plugin_module(site: Path, dist: str, module: str, source: str, version: str = "0.1") -> None:
    """Install a one-module plugin into a directory as a real distribution with an entry point.

    Put ``site`` on ``sys.path`` (or ``PYTHONPATH`` for a subprocess) and the plugin is
    discovered exactly as a pip-installed one, through ``importlib.metadata``. ``site``
    is created when missing.

    Args:
        site: the directory to install into.
        dist: the distribution's name (``repo-sdk plugins`` shows it as the package).
        module: the module's name; the entry point ``dist = module`` names it.
        source: the module's code (dedented).
        version: the distribution's version.

    Example:
        >>> import sys, tempfile
        >>> from repo_sdk.plugins import build_registry
        >>> site = Path(tempfile.mkdtemp()) / "site"
        >>> install_plugin_module(site, "acme-hello", "acme_hello", '''
        ...     from repo_sdk import Rule, hookimpl
        ...     class Hello(Rule):
        ...         name = "acme.hello"
        ...         def check(self, sample):
        ...             return []
        ...     @hookimpl
        ...     def register_rules(register):
        ...         register(Hello)
        ... ''')
        >>> sys.path.insert(0, str(site))
        >>> build_registry().rules["acme.hello"].package
        'acme-hello'
        >>> sys.path.remove(str(site))
    """
    site = Path(site)
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[repo_sdk]\n{dist} = {module}\n")


@contextmanager
def register_plugin(plugin: object, name: str = "test-plugin") -> Iterator[plugins.Registry]:
    """Register a plugin (a module or object with hookimpls) for the duration of a block.

    A plugin that is also installed (its entry point already registered it) is taken
    once. Yields the registry with the plugin in it.

    Raises:
        PluginError: the plugin failed to load (a hook raised, an unknown hook, a name
            another package registered first); the message says why.

    Example:
        >>> from repo_sdk import hookimpl, Rule
        >>> class Shout(Rule):
        ...     name = "no_shouting"
        ...     def check(self, sample):
        ...         return [self.hit("shouting")] if sample.response.isupper() else []
        >>> class Plugin:
        ...     @hookimpl
        ...     def register_rules(self, register):
        ...         register(Shout)
        >>> with register_plugin(Plugin()) as reg:
        ...     "no_shouting" in reg.rules
        True
    """
    plugins.add_plugin(name, plugin)
    try:
        registry = plugins.get_registry()
        if name in registry.failed:
            raise PluginError(f"plugin {name} failed to load: {registry.failed[name]}")
        yield registry
    finally:
        plugins.remove_plugin(name, plugin)


class EchoRM(RewardSource[NoConfig]):
    """A deterministic stand-in RM (spec type ``echo_rm``) for tests of the paths around a real one.

    Its value reads the task (``target_price``), the whole history (length, text,
    a leading system turn) and the response, and is negative for some samples, so a
    path that drops or reorders any of them, or flips a sign, gives another number.

    Example:
        >>> [round(s.value, 3) for s in EchoRM().score([make_sample(response="80?", task={"target_price": 80})])]
        [1.36]
    """

    name = "echo_rm"
    kind = "rm"

    def score(self, samples: Sequence[Sample]) -> list[SourceScore]:
        out = []
        for s in samples:
            value = (len(s.response) % 7 - 3) + float(s.task.get("target_price", 0)) / 100 + 0.1 * len(s.history)
            value += 0.01 * sum(len(t.content) for t in s.history)
            value += 0.5 if s.history and s.history[0].role == "system" else 0.0
            out.append(SourceScore(value=value))
        return out


class _EchoPlugin:
    @hookimpl
    def register_sources(self, register: Any) -> None:
        register(EchoRM)


@contextmanager
def echo_rm(name: str = "test-echo-rm") -> Iterator[plugins.Registry]:
    """Register :class:`EchoRM` (spec type ``echo_rm``) for the duration of a block.

    Example:
        >>> with echo_rm() as registry:
        ...     "echo_rm" in registry.sources
        True
    """
    with register_plugin(_EchoPlugin(), name=name) as registry:
        yield registry


# the fake OpenAI-compatible judge (with fault injection) for tests of judge-backed specs
from repo_sdk.judge.fakes import FakeJudgeServer, FaultPlan, spawn_fake_server  # noqa: E402, F401
