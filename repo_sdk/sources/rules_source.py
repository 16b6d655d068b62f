"""The rules source (RF): runs a set of rules and sums their points.

Its value is the sum of the points of every hit (0 when nothing fired: the rules
did run, so 0 is a real score here), and ``details["hits"]`` lists the hits
(:class:`~repo_sdk.types.RuleHit` objects). The REPO combiner reads the value as E_rules.

Each reply gets one :class:`~repo_sdk.rules.context.TurnContext` shared by every
rule (text views computed once). The samples of one logged dialogue
(``Dialogue.samples()``) share one :class:`~repo_sdk.rules.context.DialogueContext`:
each turn is pushed into it once, in order, so dialogue state costs linear time in
the dialogue's length. Any other sample gets a context built from its history.
Dialogue rules get the same context with the dialogue's remaining turns pushed
(:meth:`~repo_sdk.interfaces.Rule.check_dialogue_context`): the state the turn rules
built is reused, not built again.

Example:
    >>> from repo_sdk.testing import make_sample
    >>> src = RulesSource.build(["cot_leak", {"name": "max_length", "max_chars": 10, "points": -5}])
    >>> s = src.score([make_sample(response="<think>x</think> a very long reply")])[0]
    >>> s.value, sorted(h.rule for h in s.details["hits"])
    (-15.0, ['cot_leak', 'max_length'])
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from repo_sdk.errors import Loc, PluginError, SpecError
from repo_sdk.hookspecs import hookimpl
from repo_sdk.interfaces import BuildContext, RewardSource, Rule
from repo_sdk.plugin_config import PluginRef, problems_of, validate_config
from repo_sdk.plugins import Registry, get_registry
from repo_sdk.rules.context import DialogueContext, TurnContext
from repo_sdk.rules.views import TextView
from repo_sdk.types import Dialogue, RuleHit, Sample, SourceScore, assemble

__all__ = ["RuleRef", "RulesConfig", "RulesSource", "build_rule", "capped", "validate_rule"]


class RuleRef(PluginRef):
    """A rule in a spec: its name, optional points per hit and hit cap, and its parameters.

    Short form: just the name (``- cot_leak``). ``points`` and ``max_hits`` are taken by
    every rule, whatever its ``Config`` declares; the other keys are the rule's parameters.
    """

    name: str
    points: float | None = Field(None, allow_inf_nan=False, description="points per hit (default: the rule's)")

    @model_validator(mode="before")
    @classmethod
    def _name_as_key(cls, value: Any) -> Any:
        """``- max_length: {max_chars: 500}`` (the rule's name as the key) is told how to write it."""
        if isinstance(value, dict) and "name" not in value and len(value) == 1:
            ((key, params),) = value.items()
            if isinstance(params, dict) or params is None:
                raise ValueError(
                    f"write `{{name: {key}, ...}}` with the parameters beside 'name', not `{{{key}: {{...}}}}`"
                )
        return value

    max_hits: int | None = Field(
        None, ge=1, description="at most this many hits per reply (per turn for a dialogue rule); caps the penalty"
    )


def validate_rule(
    ref: RuleRef | str | dict[str, Any], registry: Registry | None = None, loc: Loc = ()
) -> tuple[type[Rule[Any]], BaseModel, RuleRef]:
    """The rule a reference names, its validated config and the reference; SpecError at ``loc`` if off.

    ``max_hits`` reaches the rule's ``Config`` when it declares it (the built-ins' do,
    through :class:`~repo_sdk.rules.base.RuleParams`). A problem with a parameter names the rule.

    Example:
        >>> validate_rule({"name": "max_length", "maxchars": 3}, loc=("sources", "r", "rules", 2))
        Traceback (most recent call last):
        ...
        repo_sdk.errors.SpecError: sources.r.rules[2].maxchars: unknown key (rule max_length)
    """
    registry = registry or get_registry()
    if not isinstance(ref, RuleRef):
        try:
            ref = RuleRef.model_validate(ref)
        except ValidationError as exc:
            raise SpecError.collect(problems_of(exc, loc)) from None
    try:
        cls: type[Rule[Any]] = registry.get("rules", ref.name)
    except PluginError as exc:
        raise SpecError((*loc, "name"), str(exc)) from None
    values = ref.params
    if ref.max_hits is not None and "max_hits" in cls.Config.model_fields:
        values["max_hits"] = ref.max_hits
    try:
        return cls, validate_config(cls.Config, values, registry, loc), ref
    except SpecError as exc:
        raise SpecError.collect((where, f"{msg} (rule {ref.name})") for where, msg in exc.problems) from None


def build_rule(ref: RuleRef | str | dict[str, Any], registry: Registry | None = None) -> Rule[Any]:
    """Instantiate a registered rule from a reference, validating its parameters.

    ``max_hits`` is set on the rule whether its ``Config`` declares it or not; the rules
    source caps every rule's hits by it.

    Example:
        >>> build_rule({"name": "max_length", "max_chars": 5}).config.max_chars
        5
        >>> build_rule({"name": "cot_leak", "max_hits": 2}).max_hits
        2
    """
    cls, config, ref = validate_rule(ref, registry)
    rule = cls(config, points=ref.points)
    if ref.max_hits is not None:
        rule.max_hits = ref.max_hits
    return rule


def capped(rule: Rule[Any], hits: list[RuleHit]) -> list[RuleHit]:
    """The first ``rule.max_hits`` hits: per reply for a turn rule, per turn for a dialogue rule.

    Example:
        >>> rule = build_rule({"name": "cot_leak", "max_hits": 1})
        >>> hits = [rule.hit("a", turn_index=1), rule.hit("b", turn_index=1), rule.hit("c", turn_index=3)]
        >>> [h.reason for h in capped(rule, hits)]
        ['a']
    """
    limit = rule.max_hits
    if limit is None:
        return hits
    if rule.scope == "turn":
        return hits[:limit]
    seen: Counter[int | None] = Counter()
    out = []
    for hit in hits:
        seen[hit.turn_index] += 1
        if seen[hit.turn_index] <= limit:
            out.append(hit)
    return out


class RulesConfig(BaseModel):
    """Parameters of the ``rules`` source: the rules it runs."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RuleRef] = Field(min_length=1, description="rule names or {name, points, ...params}")

    @field_validator("rules")
    @classmethod
    def _known(cls, refs: list[RuleRef], info: ValidationInfo) -> list[RuleRef]:
        registry = (info.context or {}).get("registry")
        if registry is None:
            return refs
        problems: list[tuple[Loc, str]] = []
        for i, ref in enumerate(refs):
            try:
                validate_rule(ref, registry, (i,))
            except SpecError as exc:
                problems.extend(exc.problems)
        if problems:
            raise SpecError.collect(problems)
        return refs


class RulesSource(RewardSource[RulesConfig]):
    """Programmatic rules (RF): value = sum of hit points, hits in ``details``."""

    name: ClassVar[str] = "rules"
    kind = "rules"

    def __init__(self, config: RulesConfig, rules: Sequence[Rule[Any]]) -> None:
        super().__init__(config)
        self.turn_rules = [r for r in rules if r.scope == "turn"]
        self.dialogue_rules = [r for r in rules if r.scope == "dialogue"]
        self._carried: _Carried | None = None  # the contexts of the last batch, for its dialogue rows

    @classmethod
    def from_config(cls, config: RulesConfig, context: BuildContext) -> RulesSource:
        return cls(config, [build_rule(ref, context.registry) for ref in config.rules])

    @classmethod
    def build(cls, rules: list[str | dict[str, Any]], registry: Registry | None = None) -> RulesSource:
        """A rules source from rule references, outside any spec."""
        registry = registry or get_registry()
        config = validate_config(RulesConfig, {"rules": rules}, registry)
        return cls.from_config(config, BuildContext(registry=registry))

    def check(self, sample: Sample) -> list[RuleHit]:
        """Hits of every turn rule on one sample (its context built from its history)."""
        return self.check_turn(TurnContext.of_sample(sample))

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        """Hits of every turn rule on one reply in its context."""
        hits: list[RuleHit] = []
        for rule in self.turn_rules:
            found = rule.check_turn(turn)
            if found:  # (most rules on most replies find nothing)
                hits += capped(rule, found)
        return hits

    def score(self, samples: Sequence[Sample]) -> list[SourceScore]:
        carried = _Carried()
        scores = [_summarise(self.check_turn(carried.turn(s))) for s in samples]
        if self.dialogue_rules:  # score_dialogue finishes these contexts instead of building them again
            self._carried = carried
        else:
            carried.close()
        return scores

    def score_dialogue(self, dialogue: Dialogue) -> SourceScore | None:
        if not self.dialogue_rules:
            return None
        context = self._carried.finish(dialogue) if self._carried is not None else None
        if context is None:
            context = DialogueContext.of_history(dialogue.task, dialogue.turns)
        hits = [
            hit for rule in self.dialogue_rules for hit in capped(rule, rule.check_dialogue_context(dialogue, context))
        ]
        context.close()
        return _summarise(hits)


class _Carried:
    """The dialogue contexts of one batch: samples of a logged dialogue, met in order, share one."""

    def __init__(self) -> None:
        # id(dialogue) -> (dialogue, its context, index and view of the last reply scored)
        self.open: dict[int, tuple[Dialogue, DialogueContext, int, TextView]] = {}
        self.lone: dict[tuple[object, ...], DialogueContext] = {}

    def turn(self, sample: Sample) -> TurnContext:
        origin = sample.origin()
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
        turns = dialogue.turns
        for i in range(len(ctx.turns), index):  # each turn pushed once; the last reply keeps its views
            ctx.push(turns[i], last_view if i == last else None)
        reply = TextView(sample.response)
        self.open[id(dialogue)] = (dialogue, ctx, index, reply)
        return TurnContext(sample, ctx, reply)

    def close(self) -> None:
        """Close the contexts still open (their dialogues are scored)."""
        for _, ctx, _, _ in self.open.values():
            ctx.close()
        for ctx in self.lone.values():
            ctx.close()
        self.open.clear()
        self.lone.clear()

    def finish(self, dialogue: Dialogue) -> DialogueContext | None:
        """The context carried through ``dialogue``'s replies with its remaining turns pushed (None: none carried)."""
        entry = self.open.pop(id(dialogue), None)
        if entry is None or entry[0] is not dialogue:
            return None
        _, ctx, last, last_view = entry
        for i in range(len(ctx.turns), len(dialogue.turns)):
            ctx.push(dialogue.turns[i], last_view if i == last else None)
        return ctx


def _summarise(hits: list[RuleHit]) -> SourceScore:
    total = float(sum(h.points for h in hits))
    reason = "; ".join(f"{h.rule}: {h.reason}" for h in hits) if hits else "no rule fired"
    if not math.isfinite(total):  # points past the largest float: refused as SourceScore refuses it
        return SourceScore(value=total, reason=reason, details={"hits": hits})
    return assemble(SourceScore, {"value": total, "reason": reason, "details": {"hits": hits}}, _SCORE_FIELDS)


_SCORE_FIELDS = frozenset({"value", "reason", "details"})


@hookimpl
def register_sources(register: Any) -> None:
    register(RulesSource)
