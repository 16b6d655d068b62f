"""The plugin interfaces: reward sources, combiners, rules and SOP stage models.

A plugin subclasses one of these, gives it a ``name`` and (optionally) its parameters
as one pydantic model, the type argument (``RewardSource[MyConfig]``,
:class:`~repo_sdk.plugin_config.Configurable`), and registers the class through a hook
(see :mod:`repo_sdk.hookspecs`). A spec's parameters are validated with that model
before anything heavy loads and reach the instance as ``self.config``.

Example:
    >>> from repo_sdk.interfaces import RewardSource
    >>> from repo_sdk.types import SourceScore
    >>> class Length(RewardSource):
    ...     name = "length"
    ...     def score(self, samples):
    ...         return [SourceScore(value=float(len(s.response))) for s in samples]
    >>> from repo_sdk.testing import make_sample
    >>> Length().score([make_sample(response="hey")])[0].value
    3.0
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel

from repo_sdk.plugin_config import ConfigT, Configurable, NoConfig
from repo_sdk.types import Dialogue, RuleHit, Sample, SourceScore, assemble

if TYPE_CHECKING:
    from repo_sdk.plugins import Registry
    from repo_sdk.rules.context import DialogueContext, TurnContext

__all__ = [
    "BuildContext",
    "Combined",
    "Combiner",
    "NoConfig",
    "PointsMap",
    "RewardSource",
    "Rule",
    "SOPModel",
    "SourceKind",
]

SourceKind = Literal["rm", "judge", "rules", "other"]


@dataclass
class BuildContext:
    """What a plugin may need when it is built from a spec.

    Attributes:
        registry: every registered source, combiner, rule, template and SOP model.
        base_dir: directory of the spec file; relative paths in a spec resolve against it.
        cache_dir: where sources may keep on-disk caches.
    """

    registry: Registry
    base_dir: Path = field(default_factory=Path.cwd)
    cache_dir: Path | None = None

    def resolve(self, path: str | Path) -> Path:
        """A spec path made absolute against the spec's directory."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)


@dataclass(frozen=True)
class PointsMap:
    """Affine map from a source's value to enhancement points: ``(value - center) * scale``.

    Example:
        >>> PointsMap(center=3, scale=25)(5.0)
        50.0
    """

    center: float = 0.0
    scale: float = 1.0

    def __call__(self, value: float) -> float:
        return (value - self.center) * self.scale


class RewardSource(Configurable[ConfigT], ABC):
    """Scores a batch of samples: one :class:`SourceScore` per sample, in order.

    Override ``score`` (sync) or ``ascore`` (async); the other is derived. Sources
    that hold models or connections release them in ``close``.

    Class attributes:
        name: the ``type`` used in a spec.
        kind: ``rm``, ``judge``, ``rules`` or ``other``; combiners use it to assign roles.
        Config: pydantic model of the spec parameters (``extra="forbid"``), set from the
            type argument (``RewardSource[MyConfig]``) or given as it is.
        points_map: how the REPO combiner turns this source's value into enhancement
            points unless the spec says otherwise.
        item_telemetry_keys: the counters this source puts in each score's
            ``details["telemetry"]`` (what scoring that one sample took); trainer
            adapters log them per sample, 0 where a score lacks one.
    """

    name: ClassVar[str]
    kind: ClassVar[SourceKind] = "other"
    Config: ClassVar[type[BaseModel]] = NoConfig
    points_map: ClassVar[PointsMap] = PointsMap()
    item_telemetry_keys: ClassVar[tuple[str, ...]] = ()
    config: ConfigT

    def __init__(self, config: ConfigT | None = None) -> None:
        super().__init__(config)

    @classmethod
    def from_config(cls, config: Any, context: BuildContext) -> RewardSource[Any]:
        """Build from a validated config; override when the source needs the registry or paths."""
        return cls(config)

    def score(self, samples: Sequence[Sample]) -> list[SourceScore]:
        """Score samples synchronously."""
        if type(self).ascore is RewardSource.ascore:
            raise NotImplementedError(f"{type(self).__name__} must override score or ascore")
        return asyncio.run(self.ascore(samples))

    async def ascore(self, samples: Sequence[Sample]) -> list[SourceScore]:
        """Score samples asynchronously (default: ``score`` in a worker thread)."""
        if type(self).score is RewardSource.score:
            raise NotImplementedError(f"{type(self).__name__} must override score or ascore")
        return await asyncio.to_thread(self.score, samples)

    def score_dialogue(self, dialogue: Dialogue) -> SourceScore | None:
        """A dialogue-level score, for sources that judge whole conversations (default: none)."""
        return None

    def telemetry(self) -> dict[str, float]:
        """Counters worth showing in summaries and trainer logs (calls, cache hits, ...)."""
        return {}

    def close(self) -> None:
        """Release models, servers and connections."""


@dataclass
class Combined:
    """A combiner's output for one sample: the reward and how it came about."""

    reward: float | None
    details: dict[str, Any] = field(default_factory=dict)


class Combiner(Configurable[ConfigT], ABC):
    """Turns per-source scores into one reward per sample.

    ``bind`` is called once at build time with the built sources, so a combiner can
    check the names it refers to and pick roles by source kind before any scoring.
    Its parameters are ``Config`` (the type argument: ``Combiner[MyConfig]``), as ``self.config``.
    """

    name: ClassVar[str]
    Config: ClassVar[type[BaseModel]] = NoConfig
    #: True when one sample's reward depends on the other samples of its group
    #: (``Sample.group``), so a whole group must be combined in one call
    group_aware: ClassVar[bool] = False
    #: the numeric ``details`` a trainer's summary log shows (REPO: ``E`` and ``multiplier``)
    summary_details: ClassVar[tuple[str, ...]] = ()
    config: ConfigT

    def __init__(self, config: ConfigT | None = None) -> None:
        super().__init__(config)

    @classmethod
    def from_config(cls, config: Any, context: BuildContext) -> Combiner[Any]:
        """Build from a validated config; override when the combiner nests others."""
        return cls(config)

    def bind(self, sources: Mapping[str, RewardSource[Any]]) -> None:
        """Check the spec's source names against the built sources; raise SpecError at the config key if off."""

    @abstractmethod
    def combine(self, samples: Sequence[Sample], scores: Mapping[str, Sequence[SourceScore]]) -> list[Combined]:
        """One Combined per sample; ``scores[name][i]`` is source ``name`` on sample ``i``."""


class Rule(Configurable[ConfigT], ABC):
    """A programmatic check (RF). Compile patterns in ``__init__``; checks must be cheap.

    Turn rules implement ``check_turn`` (one reply in its dialogue: the reply's shared
    text views and the dialogue state carried turn to turn, see
    :mod:`repo_sdk.rules.context`) or, more simply, ``check`` (one Sample); the other
    is derived. Dialogue rules set ``scope = "dialogue"`` and implement ``check_dialogue``
    (the whole Dialogue) or ``check_dialogue_context`` (the Dialogue plus its
    :class:`~repo_sdk.rules.context.DialogueContext`, every turn pushed: the trackers the turn
    rules fed while scoring its replies, so dialogue state is not built again); the other is derived.

    Class attributes:
        name: the name used in a spec's ``rules:`` list.
        description: one line shown by ``repo-sdk plugins``.
        default_points: points per hit (negative = penalty) unless the spec overrides them.
        Config: pydantic model of the rule's parameters, the type argument (``Rule[MyParams]``);
            ``Params`` is the same model (its older name, still read).

    Instance attributes:
        config: the validated ``Config`` (``params`` is the same object).
        points: points per hit (the spec's ``points``, else ``default_points``).
        max_hits: the spec's ``max_hits`` (every rule takes it; None: no cap); the rules
            source keeps the first ``max_hits`` hits per reply.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    scope: ClassVar[Literal["turn", "dialogue"]] = "turn"
    default_points: ClassVar[float] = -10.0
    Config: ClassVar[type[BaseModel]] = NoConfig
    Params: ClassVar[type[BaseModel]] = NoConfig
    max_hits: int | None = None
    config: ConfigT

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if "Params" in cls.__dict__ and "Config" not in cls.__dict__:  # the older spelling: Params = MyParams
            cls.Config = cls.__dict__["Params"]
        super().__init_subclass__(**kwargs)
        cls.Params = cls.Config

    def __init__(self, config: ConfigT | None = None, points: float | None = None) -> None:
        super().__init__(config)
        self.points = self.default_points if points is None else points
        self.max_hits = getattr(self.config, "max_hits", None)

    @property
    def params(self) -> ConfigT:
        """The validated parameters: ``self.config`` under its older name."""
        return self.config

    def check(self, sample: Sample) -> list[RuleHit]:
        """Hits of this rule on the sample's response (turn rules)."""
        if self.scope != "turn":
            raise NotImplementedError(f"rule {self.name!r} has scope {self.scope!r}; use check_dialogue")
        if type(self).check_turn is Rule.check_turn:
            raise NotImplementedError(f"rule {self.name!r} must implement check or check_turn")
        from repo_sdk.rules.context import TurnContext

        return self.check_turn(TurnContext.of_sample(sample))

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        """Hits on one reply in its dialogue: ``turn.reply`` (text views) and ``turn.dialogue`` (carried state).

        The default calls ``check(turn.sample)``; override this one to share views and state.
        """
        if type(self).check is Rule.check:
            raise NotImplementedError(f"rule {self.name!r} must implement check or check_turn")
        return self.check(turn.sample)

    def check_dialogue(self, dialogue: Dialogue) -> list[RuleHit]:
        """Hits of this rule on a whole dialogue, each naming its ``turn_index``.

        The default builds the dialogue's context (every turn pushed) and calls ``check_dialogue_context``.
        """
        if type(self).check_dialogue_context is Rule.check_dialogue_context:
            raise NotImplementedError(f"rule {self.name!r} has scope {self.scope!r}; use check")
        from repo_sdk.rules.context import DialogueContext

        return self.check_dialogue_context(dialogue, DialogueContext.of_history(dialogue.task, dialogue.turns))

    def check_dialogue_context(self, dialogue: Dialogue, context: DialogueContext) -> list[RuleHit]:
        """Hits on a whole dialogue, given its context with every turn pushed (``context.tracker(...)``
        holds the state the turn rules built). The default calls ``check_dialogue(dialogue)``."""
        if type(self).check_dialogue is Rule.check_dialogue:
            raise NotImplementedError(f"rule {self.name!r} must implement check_dialogue or check_dialogue_context")
        return self.check_dialogue(dialogue)

    def near_miss_params(self) -> BaseModel | None:
        """Parameters of a looser copy of this rule, or None: the rule has no notion of a near-miss.

        A reply the looser copy fires on while this rule passes it came close to firing: the
        report lists such replies under the rule (``repo-sdk score --report``). Scoring never
        calls this. Override it where a threshold makes "close" meaningful.

        Example:
            >>> from repo_sdk.rules.length import MaxLength, MaxLengthParams
            >>> MaxLength(MaxLengthParams(max_chars=100)).near_miss_params().max_chars
            80
        """
        return None

    def hit(
        self,
        reason: str,
        *,
        span: tuple[int, int] | None = None,
        evidence: str = "",
        points: float | None = None,
        turn_index: int | None = None,
    ) -> RuleHit:
        """A RuleHit of this rule with its configured points."""
        value = self.points if points is None else points
        if (  # values of exactly the fields' types (a rule's own, mostly) need no validation: one per hit
            type(reason) is str
            and type(evidence) is str
            and type(value) is float
            and type(self.name) is str
            and (span is None or (type(span) is tuple and len(span) == 2 and type(span[0]) is type(span[1]) is int))
            and (turn_index is None or type(turn_index) is int)
        ):
            values = {
                "rule": self.name,
                "points": value,
                "reason": reason,
                "span": span,
                "evidence": evidence,
                "turn_index": turn_index,
            }
            return assemble(RuleHit, values, _HIT_FIELDS)
        return RuleHit(rule=self.name, points=value, reason=reason, span=span, evidence=evidence, turn_index=turn_index)


class SOPModel(ABC):
    """A Standard Operating Procedure: ordered stages and a detector of the current one.

    Example:
        >>> class TwoStep(SOPModel):
        ...     name = "two_step"
        ...     stages = ("greet", "close")
        ...     def stage_of(self, sample):
        ...         return "close" if "bye" in sample.response.lower() else "greet"
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    stages: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def stage_of(self, sample: Sample) -> str | None:
        """The SOP stage the reply is in, or None when it cannot tell."""


_HIT_FIELDS = frozenset(RuleHit.model_fields)
