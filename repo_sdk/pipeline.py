"""RewardPipeline: sources score a batch concurrently, the combiner makes one reward each.

This is the one path every consumer takes (``repo-sdk score``, ``serve``, the
trainer adapters), so the same Samples get the same rewards everywhere.

Example:
    >>> from repo_sdk.testing import make_sample
    >>> pipe = RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}})
    >>> [r.reward for r in pipe.score([make_sample(response="<think>hm</think>Deal!")])]
    [-0.1]
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from repo_sdk.config import LoadedSpec, RewardSpec, load
from repo_sdk.errors import ConfigError, SpecError
from repo_sdk.interfaces import BuildContext, Combiner, NoConfig, RewardSource
from repo_sdk.plugins import Registry, get_registry
from repo_sdk.types import Dialogue, RewardResult, RuleHit, Sample, SourceScore

__all__ = [
    "Deferred",
    "NotRun",
    "RewardPipeline",
    "build_source",
    "hits_of",
    "run_sync",
    "score_isolated",
    "score_isolated_sync",
    "source_error",
]

SpecLike = str | Path | Mapping[str, Any] | RewardSpec | LoadedSpec

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from synchronous code, whether or not an event loop runs here.

    With no loop in this thread it runs on a new one (``asyncio.run``); inside a running loop
    (a notebook, an async server) it runs on a new loop in a worker thread, and this thread
    waits for it.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="repo-sdk-score") as pool:
        return pool.submit(asyncio.run, coro).result()


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


def source_error(name: str, exc: Exception) -> SourceScore:
    """The score of a sample its source raised on: None, the error as the reason and in ``details["error"]``.

    Example:
        >>> source_error("rules", ValueError("bad price '120 EUR'")).reason
        "rules failed on this sample: ValueError: bad price '120 EUR'"
    """
    error = f"{type(exc).__name__}: {exc}"
    return SourceScore(value=None, reason=f"{name} failed on this sample: {error}", details={"error": error})


async def score_isolated(name: str, source: RewardSource, samples: list[Sample]) -> list[SourceScore]:
    """One source on a batch; if it raises, each sample on its own, so a bad sample loses only its own score.

    The samples the source still raises on alone get :func:`source_error` scores.
    """
    try:
        return list(await source.ascore(samples))
    except Exception as exc:
        if len(samples) == 1:
            return [source_error(name, exc)]
    alone = await asyncio.gather(*(score_isolated(name, source, [s]) for s in samples))
    return [score for scores in alone for score in scores]


def score_isolated_sync(name: str, source: RewardSource, samples: list[Sample]) -> list[SourceScore]:
    """:func:`score_isolated` for a sync source called directly (no event loop): the same per-sample errors.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> class Picky(RewardSource):
        ...     name = "picky"
        ...     def score(self, samples):
        ...         if any(s.response == "boom" for s in samples):
        ...             raise ValueError("boom")
        ...         return [SourceScore(value=1.0) for _ in samples]
        >>> [s.value for s in score_isolated_sync("p", Picky(), [make_sample(response=r) for r in ("a", "boom")])]
        [1.0, None]
    """
    try:
        return list(source.score(samples))
    except Exception as exc:
        if len(samples) == 1:
            return [source_error(name, exc)]
    return [score for s in samples for score in score_isolated_sync(name, source, [s])]


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
    loaded = spec if isinstance(spec, LoadedSpec) else load(spec, registry=registry)
    if name not in loaded.spec.sources:
        raise ConfigError(f"unknown source {name!r} (sources: {sorted(loaded.spec.sources)})")
    return _build_source(loaded, name, BuildContext(registry=registry, base_dir=loaded.base_dir, cache_dir=cache_dir))


def _build_source(loaded: LoadedSpec, name: str, context: BuildContext) -> RewardSource[Any]:
    source_cls = context.registry.get("sources", loaded.spec.sources[name].type)
    try:
        return source_cls.from_config(loaded.source_configs[name], context)
    except SpecError as exc:  # a source names its problems at keys of its own config
        raise exc.within("sources", name).at(loaded.where) from None


def hits_of(score: SourceScore) -> list[RuleHit]:
    """Rule hits a source reported in ``details["hits"]`` (RuleHit objects or dicts)."""
    return [h if isinstance(h, RuleHit) else RuleHit.model_validate(h) for h in score.details.get("hits", [])]


class RewardPipeline:
    """Sources plus a combiner, built from a reward spec.

    Args:
        sources: name -> built RewardSource.
        combiner: the combiner; ``bind`` is called here.
        name: metric name of the combined reward (``spec.name``).
        only: names of the sources that really run (for the record; ``from_spec`` puts
            :class:`NotRun` placeholders in place of the others).
    """

    def __init__(
        self,
        sources: Mapping[str, RewardSource],
        combiner: Combiner,
        *,
        name: str = "repo_reward",
        only: Iterable[str] | None = None,
        spec: RewardSpec | None = None,
    ) -> None:
        self.sources = dict(sources)
        self.combiner = combiner
        self.name = name
        self.spec = spec
        self.only = set(only) if only is not None else None
        self.loaded: LoadedSpec | None = None  # the validated spec, when built by from_spec
        self.set_aside_reasons: dict[str, str] = {}  # sources stopped by set_aside, so a rebuild stops them too
        self._bind()

    @classmethod
    def from_spec(
        cls,
        spec: SpecLike,
        *,
        only: Iterable[str] | None = None,
        registry: Registry | None = None,
        cache_dir: Path | None = None,
        defer: Callable[[type[RewardSource], BaseModel], bool] | None = None,
    ) -> RewardPipeline:
        """Validate a spec (path, mapping or model) and build its sources and combiner.

        Sources left out by ``only`` are not built at all, so a rules-only pass never
        loads a model or starts a judge. Sources ``defer`` accepts (given the class and the
        validated config) are not built either but count as run (a :class:`Deferred`
        placeholder): a process that only plans and checks a run (the Ray driver) leaves
        the models to the processes that score, which build the whole spec with :meth:`factory`.

        Example:
            >>> pipe = RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}}, defer=lambda cls, cfg: True)
            >>> type(pipe.sources["rules"]).__name__, type(pipe.factory()().sources["rules"]).__name__
            ('Deferred', 'RulesSource')
        """
        registry = registry or get_registry()
        loaded = spec if isinstance(spec, LoadedSpec) else load(spec, registry=registry)
        context = BuildContext(registry=registry, base_dir=loaded.base_dir, cache_dir=cache_dir)
        keep = set(only) if only is not None else None
        if keep is not None and (unknown := keep - set(loaded.spec.sources)):
            raise ConfigError(
                f"--only names unknown source(s) {sorted(unknown)} (known: {sorted(loaded.spec.sources)})"
            )
        sources: dict[str, RewardSource] = {}
        try:
            for name, src in loaded.spec.sources.items():
                if keep is not None and name not in keep:
                    sources[name] = NotRun(registry.get("sources", src.type))
                elif defer is not None and defer(registry.get("sources", src.type), loaded.source_configs[name]):
                    sources[name] = Deferred(registry.get("sources", src.type))
                else:
                    sources[name] = _build_source(loaded, name, context)
            comb_cls = registry.get("combiners", loaded.spec.combiner.type)
            try:
                combiner = comb_cls.from_config(loaded.combiner_config, context)
            except SpecError as exc:  # a combiner names its problems at keys of its own config
                raise exc.within("combiner") from None
            pipeline = cls(sources, combiner, name=loaded.spec.name, only=keep, spec=loaded.spec)
            pipeline.loaded = loaded
            return pipeline
        except SpecError as exc:
            for built in sources.values():
                built.close()
            raise exc.at(loaded.where) from None
        except BaseException:
            for built in sources.values():
                built.close()
            raise

    def factory(self) -> Callable[[], RewardPipeline]:
        """A picklable callable building this pipeline again (in a worker process, say)."""
        if self.loaded is None:
            raise ConfigError("only a pipeline built by RewardPipeline.from_spec can be rebuilt in a worker")
        return partial(_rebuild, self.loaded, self.only, dict(self.set_aside_reasons))

    @property
    def group_aware(self) -> bool:
        """Whether the combiner reads a sample's whole group (``Sample.group``): such a combiner
        needs every sample of a group in one call."""
        return self.combiner.group_aware

    async def ascore(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """Score a batch: all sources concurrently, then the combiner.

        Example:
            >>> import asyncio
            >>> from repo_sdk.testing import make_sample
            >>> pipe = RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}})
            >>> async def main():
            ...     return [r.reward for r in await pipe.ascore([make_sample(response="Deal!")])]
            >>> asyncio.run(main())
            [0.0]
        """
        samples = list(samples)
        if not samples:
            return []
        return self.combine(samples, await self.ascore_sources(samples))

    async def ascore_sources(self, samples: Sequence[Sample]) -> list[list[SourceScore]]:
        """Every source's scores of a batch (sources in spec order), before the combiner; a source
        that raises on one sample costs that sample alone its score (:func:`score_isolated`)."""
        samples = list(samples)
        if not samples:
            return [[] for _ in self.sources]
        outputs = await asyncio.gather(*(score_isolated(name, src, samples) for name, src in self.sources.items()))
        return [list(out) for out in outputs]

    def combine(self, samples: Sequence[Sample], outputs: Sequence[Sequence[SourceScore]]) -> list[RewardResult]:
        """Results from the sources' scores (:meth:`ascore_sources`, maybe gathered from many processes)."""
        samples = list(samples)
        scores: dict[str, list[SourceScore]] = {}
        for name, out in zip(self.sources, outputs, strict=True):
            if len(out) != len(samples):
                raise RuntimeError(f"source {name!r} returned {len(out)} scores for {len(samples)} samples")
            scores[name] = list(out)
        combined = self.combiner.combine(samples, scores)
        results = []
        for i, comb in enumerate(combined):
            per_source = {name: scores[name][i] for name in scores}
            fired = [hit for score in per_source.values() for hit in hits_of(score)]
            results.append(RewardResult(reward=comb.reward, sources=per_source, fired=fired, details=comb.details))
        return results

    def score(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """Synchronous :meth:`ascore`, callable anywhere, a running event loop included.

        When every source is synchronous (rules alone, say) they run one after the other
        right here: with nothing else in flight an event loop and worker threads buy nothing.
        Otherwise the sources run on an event loop of their own: this thread's when none
        runs here, else a worker thread's (a notebook cell, an async framework), so the
        caller's loop is never re-entered. In async code, ``await pipe.ascore(...)`` keeps
        the loop free while the judge is asked.
        """
        if all(type(src).ascore is RewardSource.ascore for src in self.sources.values()):
            samples = list(samples)
            if not samples:
                return []
            return self.combine(
                samples, [score_isolated_sync(name, src, samples) for name, src in self.sources.items()]
            )
        return run_sync(self.ascore(samples))

    def score_dialogue(self, dialogue: Dialogue) -> dict[str, SourceScore]:
        """Dialogue-level scores of the sources that give one (e.g. dialogue-scope rules)."""
        out = {}
        for name, src in self.sources.items():
            try:
                score = src.score_dialogue(dialogue)
            except Exception as exc:  # one bad dialogue costs its own dialogue score, not the run
                score = source_error(name, exc)
            if score is not None:
                out[name] = score
        return out

    def rule_names(self, scope: str | None = None) -> list[str]:
        """Names of the spec's rules, each once: source by source, turn rules before dialogue rules.

        Args:
            scope: ``"turn"`` or ``"dialogue"`` for the rules of that scope only; None for both.
                Only turn rules can fire on one reply; dialogue rules fire in dialogue rows.

        Example:
            >>> spec = {"sources": {"guard": ["cot_leak", "max_length"], "more": ["cot_leak"]}}
            >>> RewardPipeline.from_spec(spec).rule_names()
            ['cot_leak', 'max_length']
        """
        names: list[str] = []
        for src in self.sources.values():
            for attr in ("turn_rules", "dialogue_rules"):
                for rule in getattr(src, attr, []):
                    if (scope is None or rule.scope == scope) and rule.name not in names:
                        names.append(rule.name)
        return names

    def _bind(self) -> None:
        try:
            self.combiner.bind(self.sources)
        except SpecError as exc:  # a combiner names its problems at keys of its own config
            raise exc.within("combiner") from None

    def set_aside(self, name: str, reason: str) -> None:
        """Stop running source ``name`` (closing it): its scores become None with ``reason``."""
        source = self.sources[name]
        self.set_aside_reasons[name] = reason
        self.sources[name] = NotRun(type(source), reason)
        self.sources[name].points_map = source.points_map  # type: ignore[misc]  # a judge's is per instance
        source.close()
        self._bind()

    def telemetry(self) -> dict[str, dict[str, float]]:
        """Per-source counters (judge calls, cache hits, truncations, ...)."""
        return {name: t for name, src in self.sources.items() if (t := src.telemetry())}

    def close(self) -> None:
        for src in self.sources.values():
            src.close()

    def __enter__(self) -> RewardPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _rebuild(loaded: LoadedSpec, only: set[str] | None, set_aside: dict[str, str]) -> RewardPipeline:
    """What :meth:`RewardPipeline.factory` calls: the same spec and sources, the same ones set aside."""
    pipeline = RewardPipeline.from_spec(loaded, only=only)
    for name, reason in set_aside.items():
        pipeline.set_aside(name, reason)
    return pipeline
