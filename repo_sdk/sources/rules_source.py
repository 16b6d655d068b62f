"""The rules source (RF): runs a set of rules and sums their points.

Its value is the sum of the points of every hit (0 when nothing fired: the rules
did run, so 0 is a real score here), and ``details["hits"]`` lists the hits
(:class:`~repo_sdk.types.RuleHit` objects). The REPO combiner reads the value as E_rules.

Each reply gets one :class:`~repo_sdk.rules.context.TurnContext` shared by every
rule (text views computed once). The samples of one logged dialogue
(``Dialogue.samples()``) share one :class:`~repo_sdk.rules.context.DialogueContext`:
each turn is pushed into it once, in order, so dialogue state costs linear time in
the dialogue's length. Any other sample gets a context built from its history.

Example:
    >>> from repo_sdk.testing import make_sample
    >>> src = RulesSource.build(["cot_leak", {"name": "max_length", "max_chars": 10, "points": -5}])
    >>> s = src.score([make_sample(response="<think>x</think> a very long reply")])[0]
    >>> s.value, sorted(h.rule for h in s.details["hits"])
    (-15.0, ['cot_leak', 'max_length'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from repo_sdk.errors import PluginError
from repo_sdk.hookspecs import hookimpl
from repo_sdk.interfaces import BuildContext, RewardSource, Rule
from repo_sdk.plugins import Registry, get_registry
from repo_sdk.rules.context import DialogueContext, TurnContext
from repo_sdk.rules.views import TextView
from repo_sdk.types import Dialogue, RuleHit, Sample, SourceScore

__all__ = ["RuleRef", "RulesSource", "build_rule"]


class RuleRef(BaseModel):
    """A rule in a spec: its name, optional points per hit, and its parameters.

    Short form: just the name (``- cot_leak``).
    """

    model_config = ConfigDict(extra="allow")

    name: str
    points: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def build_rule(ref: RuleRef | str | dict[str, Any], registry: Registry | None = None) -> Rule:
    """Instantiate a registered rule from a reference, validating its parameters.

    Example:
        >>> build_rule({"name": "max_length", "max_chars": 5}).params.max_chars
        5
    """
    from repo_sdk.config import validate_plugin_config

    registry = registry or get_registry()
    ref = ref if isinstance(ref, RuleRef) else RuleRef.model_validate(ref)
    cls: type[Rule] = registry.get("rules", ref.name)
    params = validate_plugin_config(cls.Params, ref.params, registry, ())
    return cls(params, points=ref.points)


class RulesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleRef] = Field(min_length=1, description="rule names or {name, points, ...params}")

    @field_validator("rules")
    @classmethod
    def _known(cls, refs: list[RuleRef], info: ValidationInfo) -> list[RuleRef]:
        registry = (info.context or {}).get("registry")
        if registry is None:
            return refs
        from repo_sdk.config import NestedConfigError, _SpecErrors

        for i, ref in enumerate(refs):
            try:
                build_rule(ref, registry)
            except PluginError as exc:
                raise NestedConfigError((i, "name"), str(exc)) from None
            except _SpecErrors as exc:
                loc, msg = exc.errors[0]
                raise NestedConfigError((i, *loc), f"{msg} (rule {ref.name})") from None
        return refs


class RulesSource(RewardSource):
    """Programmatic rules (RF): value = sum of hit points, hits in ``details``."""

    name: ClassVar[str] = "rules"
    kind = "rules"
    Config = RulesConfig

    def __init__(self, config: RulesConfig, rules: Sequence[Rule]) -> None:
        super().__init__(config)
        self.turn_rules = [r for r in rules if r.scope == "turn"]
        self.dialogue_rules = [r for r in rules if r.scope == "dialogue"]

    @classmethod
    def from_config(cls, config: BaseModel, context: BuildContext) -> RulesSource:
        assert isinstance(config, RulesConfig)
        return cls(config, [build_rule(ref, context.registry) for ref in config.rules])

    @classmethod
    def build(cls, rules: list[str | dict[str, Any]], registry: Registry | None = None) -> RulesSource:
        """A rules source from rule references, outside any spec."""
        registry = registry or get_registry()
        config = RulesConfig.model_validate({"rules": rules}, context={"registry": registry})
        return cls.from_config(config, BuildContext(registry=registry))

    def check(self, sample: Sample) -> list[RuleHit]:
        """Hits of every turn rule on one sample (its context built from its history)."""
        return self.check_turn(TurnContext.of_sample(sample))

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        """Hits of every turn rule on one reply in its context."""
        return [hit for rule in self.turn_rules for hit in rule.check_turn(turn)]

    def score(self, samples: Sequence[Sample]) -> list[SourceScore]:
        carried = _Carried()
        return [_summarise(self.check_turn(carried.turn(s))) for s in samples]

    def score_dialogue(self, dialogue: Dialogue) -> SourceScore | None:
        if not self.dialogue_rules:
            return None
        return _summarise([hit for rule in self.dialogue_rules for hit in rule.check_dialogue(dialogue)])


class _Carried:
    """The dialogue contexts of one batch: samples of a logged dialogue, met in order, share one."""

    def __init__(self) -> None:
        # id(dialogue) -> (dialogue, its context, index and view of the last reply scored)
        self.open: dict[int, tuple[Dialogue, DialogueContext, int, TextView]] = {}
        self.lone: dict[tuple[object, ...], DialogueContext] = {}

    def turn(self, sample: Sample) -> TurnContext:
        origin = sample._origin
        if origin is None:  # samples with the same task and history (a GRPO group) share one context
            key = (id(sample.task), *((t.role, t.content, t.name, repr(t.tool_calls)) for t in sample.history))
            ctx = self.lone.get(key)
            if ctx is None:
                ctx = self.lone[key] = DialogueContext.of_history(sample.task, sample.history)
            return TurnContext(sample, ctx)
        dialogue, index = origin.dialogue, origin.index
        entry = self.open.get(id(dialogue))
        if entry is None or entry[0] is not dialogue or len(entry[1].turns) > index:
            ctx, last, last_view = DialogueContext(dialogue.task), -1, None
        else:
            _, ctx, last, last_view = entry
        for i in range(len(ctx.turns), index):  # each turn pushed once; the last reply keeps its views
            ctx.push(dialogue.turns[i], last_view if i == last else None)
        reply = TextView(sample.response)
        self.open[id(dialogue)] = (dialogue, ctx, index, reply)
        return TurnContext(sample, ctx, reply)


def _summarise(hits: list[RuleHit]) -> SourceScore:
    total = float(sum(h.points for h in hits))
    reason = "; ".join(f"{h.rule}: {h.reason}" for h in hits) if hits else "no rule fired"
    return SourceScore(value=total, reason=reason, details={"hits": hits})


@hookimpl
def register_sources(register: Any) -> None:
    register(RulesSource)
