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
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path

from pydantic import BaseModel

from repo_sdk.building import Deferred, NotRun, SpecLike, build_parts, build_source, closed_on_error, load_spec_like
from repo_sdk.config import LoadedSpec, RewardSpec
from repo_sdk.errors import ConfigError, SpecError
from repo_sdk.interfaces import Combiner, RewardSource
from repo_sdk.plugins import Registry, get_registry
from repo_sdk.score_steps import (
    ascore_dialogues_of,
    combine_results,
    hits_of,
    run_sync,
    score_dialogues_of,
    score_isolated,
    score_isolated_sync,
    source_error,
)
from repo_sdk.types import Dialogue, RewardResult, Sample, SourceScore

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

        Sources left out by ``only`` are not built (:class:`NotRun`: a rules-only pass loads no
        model); nor are those ``defer`` accepts (given the class and the validated config), which
        count as run (:class:`Deferred`: the Ray driver leaves models to the actors, :meth:`factory`).

        Example:
            >>> pipe = RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}}, defer=lambda cls, cfg: True)
            >>> type(pipe.sources["rules"]).__name__, type(pipe.factory()().sources["rules"]).__name__
            ('Deferred', 'RulesSource')
        """
        registry = registry or get_registry()
        loaded = load_spec_like(spec, registry)
        keep = set(only) if only is not None else None
        sources, combiner = build_parts(loaded, only=keep, registry=registry, cache_dir=cache_dir, defer=defer)
        with closed_on_error(sources):  # the combiner may refuse the sources (bind)
            try:
                pipeline = cls(sources, combiner, name=loaded.spec.name, only=keep, spec=loaded.spec)
            except SpecError as exc:
                raise exc.at(loaded.where) from None
        pipeline.loaded = loaded
        return pipeline

    def factory(self) -> Callable[[], RewardPipeline]:
        """A picklable callable building this pipeline again (in a worker process, say)."""
        if self.loaded is None:
            raise ConfigError("only a pipeline built by RewardPipeline.from_spec can be rebuilt in a worker")
        return partial(_rebuild, self.loaded, self.only, dict(self.set_aside_reasons))

    @property
    def group_aware(self) -> bool:
        """Whether the combiner reads a sample's whole group (``Sample.group``), all in one call."""
        return self.combiner.group_aware

    async def ascore(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """Score a batch: all sources concurrently, then the combiner.

        Example:
            >>> import asyncio
            >>> from repo_sdk.testing import make_sample
            >>> pipe = RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}})
            >>> [r.reward for r in asyncio.run(pipe.ascore([make_sample(response="Deal!")]))]
            [0.0]
        """
        samples = list(samples)
        if not samples:
            return []
        return self.combine(samples, await self.ascore_sources(samples))

    async def ascore_sources(self, samples: Sequence[Sample]) -> list[list[SourceScore]]:
        """Every source's scores of a batch, in spec order, before the combine (:func:`score_isolated`)."""
        samples = list(samples)
        if not samples:
            return [[] for _ in self.sources]
        outputs = await asyncio.gather(*(score_isolated(name, src, samples) for name, src in self.sources.items()))
        return [list(out) for out in outputs]

    def combine(self, samples: Sequence[Sample], outputs: Sequence[Sequence[SourceScore]]) -> list[RewardResult]:
        """Results from the sources' scores (:meth:`ascore_sources`, maybe gathered from many processes)."""
        return combine_results(self.combiner, list(self.sources), samples, outputs)

    @property
    def runs_sync(self) -> bool:
        """Whether every source is synchronous (rules alone, say): then :meth:`score` calls them in place."""
        return all(type(src).ascore is RewardSource.ascore for src in self.sources.values())

    def score(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """Synchronous :meth:`ascore`, callable anywhere, a running event loop included.

        When every source is synchronous (:attr:`runs_sync`) they run one after the other right
        here: with nothing else in flight a loop and threads buy nothing. Otherwise they run on a
        loop of their own (:func:`run_sync`), so a caller's running loop is never re-entered.
        """
        if self.runs_sync:
            samples = list(samples)
            if not samples:
                return []
            return self.combine(
                samples, [score_isolated_sync(name, src, samples) for name, src in self.sources.items()]
            )
        return run_sync(self.ascore(samples))

    async def ascore_dialogues(self, dialogues: Sequence[Dialogue]) -> list[dict[str, SourceScore]]:
        """Dialogue-level scores of a batch of logged dialogues (dialogue-scope rules, say), one
        ``{source name: score}`` per dialogue, holding the sources that give one.

        Await it after :meth:`ascore` of the same dialogues' samples, so the rules source finishes
        the state its turn rules carried. Sources run concurrently, each over the batch in a worker
        thread; one raising on a dialogue gives it a :func:`source_error` score, the rest keep theirs.

        Example:
            >>> import asyncio
            >>> from repo_sdk.combiners.minimum import MinCombiner
            >>> from repo_sdk.testing import make_dialogue
            >>> class Turns(RewardSource):  # scores a dialogue by its length
            ...     name = "turns"
            ...     def score_dialogue(self, dialogue): return SourceScore(value=float(len(dialogue.turns)))
            >>> pipe = RewardPipeline({"turns": Turns()}, MinCombiner())
            >>> d = make_dialogue([("user", "Hi"), ("assistant", "Hey")])
            >>> asyncio.run(pipe.ascore_dialogues([d]))[0]["turns"].value
            2.0
        """
        return await ascore_dialogues_of(self.sources, dialogues)

    def score_dialogues(self, dialogues: Sequence[Dialogue]) -> list[dict[str, SourceScore]]:
        """Synchronous :meth:`ascore_dialogues`: the sources one after the other, right here."""
        return score_dialogues_of(self.sources, dialogues)

    def score_dialogue(self, dialogue: Dialogue) -> dict[str, SourceScore]:
        """Dialogue-level scores of one dialogue (:meth:`score_dialogues` of a batch of one)."""
        return self.score_dialogues([dialogue])[0]

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
