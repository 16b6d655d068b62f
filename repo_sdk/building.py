"""A spec's sources and combiner, built: what :meth:`repo_sdk.RewardPipeline.from_spec` puts together.

Sources left out by ``only`` become :class:`NotRun` placeholders (all-None scores: the combiner's
missing-source policy applies and nothing loads); sources built in other processes become
:class:`Deferred` placeholders (they count as run). :func:`build_source` builds one source of a
spec alone, as the pipeline builds it.

Example:
    >>> from repo_sdk.config import load
    >>> loaded = load({"sources": {"rules": ["cot_leak"], "judge": {"type": "judge"}}})
    >>> sources, combiner = build_parts(loaded, only={"rules"})
    >>> {name: type(src).__name__ for name, src in sources.items()}, combiner.name
    ({'rules': 'RulesSource', 'judge': 'NotRun'}, 'repo')
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from repo_sdk.config import LoadedSpec, RewardSpec, load
from repo_sdk.errors import ConfigError, SpecError
from repo_sdk.interfaces import BuildContext, Combiner, NoConfig, RewardSource
from repo_sdk.plugins import Registry, get_registry
from repo_sdk.types import Sample, SourceScore

__all__ = ["Deferred", "NotRun", "SpecLike", "build_parts", "build_source", "closed_on_error", "load_spec_like"]

SpecLike = str | Path | Mapping[str, Any] | RewardSpec | LoadedSpec
"""A spec as the pipeline takes it: a YAML path, a mapping, a validated model, or a loaded spec."""


class NotRun(RewardSource[NoConfig]):
    """Stands in for a source left out by ``only``: every score is None, so the
    combiner's missing-source policy applies, and nothing is loaded."""

    name = "not_run"

    def __init__(self, source_cls: type[RewardSource[Any]], reason: str = "not run (--only)") -> None:
        super().__init__()
        self.kind = source_cls.kind  # type: ignore[misc]
        self.points_map = source_cls.points_map  # type: ignore[misc]
        self.reason = reason

    def score(self, samples: Sequence[Sample]) -> list[SourceScore]:
        return [SourceScore(value=None, reason=self.reason) for _ in samples]


class Deferred(RewardSource):
    """Stands in for a source built elsewhere (in the Ray actors that score): it runs, but not in this
    process, so nothing is loaded here. Scoring with it is a programming error."""

    name = "deferred"

    def __init__(self, source_cls: type[RewardSource]) -> None:
        super().__init__()
        self.kind = source_cls.kind  # type: ignore[misc]
        self.points_map = source_cls.points_map  # type: ignore[misc]

    def score(self, samples: Sequence[Sample]) -> list[SourceScore]:
        raise RuntimeError("a deferred source scores where it is built (the actors), not here")


def load_spec_like(spec: SpecLike, registry: Registry) -> LoadedSpec:
    """``spec`` validated (a :class:`LoadedSpec` is taken as it is)."""
    return spec if isinstance(spec, LoadedSpec) else load(spec, registry=registry)


def build_source(
    spec: SpecLike, name: str, *, registry: Registry | None = None, cache_dir: Path | None = None
) -> RewardSource:
    """Source ``name`` of a spec, built exactly as :meth:`RewardPipeline.from_spec` builds it.

    For a consumer that needs one source alone (a per-source trainer reward, say).

    Raises:
        ConfigError: the spec is invalid, or has no source ``name``.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> source = build_source({"sources": {"guard": ["cot_leak"]}}, "guard")
        >>> source.score([make_sample(response="<think>hm</think>Deal!")])[0].value
        -10.0
    """
    registry = registry or get_registry()
    loaded = load_spec_like(spec, registry)
    if name not in loaded.spec.sources:
        raise ConfigError(f"unknown source {name!r} (sources: {sorted(loaded.spec.sources)})")
    return _build_one(loaded, name, BuildContext(registry=registry, base_dir=loaded.base_dir, cache_dir=cache_dir))


def _build_one(loaded: LoadedSpec, name: str, context: BuildContext) -> RewardSource[Any]:
    source_cls = context.registry.get("sources", loaded.spec.sources[name].type)
    try:
        return source_cls.from_config(loaded.source_configs[name], context)
    except SpecError as exc:  # a source names its problems at keys of its own config
        raise exc.within("sources", name).at(loaded.where) from None


def build_parts(
    loaded: LoadedSpec,
    *,
    only: set[str] | None = None,
    registry: Registry | None = None,
    cache_dir: Path | None = None,
    defer: Callable[[type[RewardSource], BaseModel], bool] | None = None,
) -> tuple[dict[str, RewardSource], Combiner]:
    """The sources (in spec order) and the combiner of a validated spec (see the module docstring).

    Raises:
        ConfigError: ``only`` names a source the spec lacks. A source that fails to build closes
            the ones built before it.
    """
    registry = registry or get_registry()
    context = BuildContext(registry=registry, base_dir=loaded.base_dir, cache_dir=cache_dir)
    if only is not None and (unknown := only - set(loaded.spec.sources)):
        raise ConfigError(f"--only names unknown source(s) {sorted(unknown)} (known: {sorted(loaded.spec.sources)})")
    sources: dict[str, RewardSource] = {}
    with closed_on_error(sources):
        for name, src in loaded.spec.sources.items():
            source_cls = registry.get("sources", src.type)
            if only is not None and name not in only:
                sources[name] = NotRun(source_cls)
            elif defer is not None and defer(source_cls, loaded.source_configs[name]):
                sources[name] = Deferred(source_cls)
            else:
                sources[name] = _build_one(loaded, name, context)
        comb_cls = registry.get("combiners", loaded.spec.combiner.type)
        try:
            combiner = comb_cls.from_config(loaded.combiner_config, context)
        except SpecError as exc:  # a combiner names its problems at keys of its own config
            raise exc.within("combiner").at(loaded.where) from None
    return sources, combiner


@contextmanager
def closed_on_error(sources: Mapping[str, RewardSource]) -> Iterator[None]:
    """Close ``sources`` (those built so far) when the block raises, so a failed build leaves nothing open."""
    try:
        yield
    except BaseException:
        for built in sources.values():
            built.close()
        raise
