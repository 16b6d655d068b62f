"""``gate``: a rule veto on top of another combiner.

When any of the named rules fires on a sample, the inner combiner's reward is
capped (``mode: cap``: at most ``value``), floored (``floor``: at least ``value``)
or replaced (``set``).

Example (spec):

    combiner:
      type: gate
      rules: [no_internal_terms]
      mode: cap
      value: -1.0
      inner: {type: repo}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from repo_sdk.errors import SpecError
from repo_sdk.interfaces import BuildContext, Combined, Combiner, RewardSource
from repo_sdk.plugin_config import CombinerSpec, validate_plugin
from repo_sdk.types import SourceScore

__all__ = ["GateCombiner", "GateConfig"]


class GateConfig(BaseModel):
    """Parameters of the ``gate`` combiner."""

    model_config = ConfigDict(extra="forbid")

    rules: list[str] = Field(min_length=1, description="rule names whose hits trigger the gate")
    mode: Literal["cap", "floor", "set"] = "cap"
    value: float = Field(-1.0, description="cap / floor / replacement value")
    inner: CombinerSpec = Field(default_factory=CombinerSpec, description="the gated combiner")

    @field_validator("inner")
    @classmethod
    def _inner_valid(cls, inner: CombinerSpec, info: ValidationInfo) -> CombinerSpec:
        registry = (info.context or {}).get("registry")
        if registry is not None:
            validate_plugin("combiners", inner, registry)
        return inner


class GateCombiner(Combiner[GateConfig]):
    """Cap, floor or replace the inner reward when named rules fire."""

    name: ClassVar[str] = "gate"

    def __init__(self, config: GateConfig, inner: Combiner[Any]) -> None:
        super().__init__(config)
        self.inner = inner

    @classmethod
    def from_config(cls, config: GateConfig, context: BuildContext) -> GateCombiner:
        inner_cls, inner_config = validate_plugin("combiners", config.inner, context.registry, ("inner",))
        return cls(config, inner_cls.from_config(inner_config, context))

    @property
    def group_aware(self) -> bool:  # type: ignore[override]
        return self.inner.group_aware

    @property
    def summary_details(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.inner.summary_details

    def bind(self, sources: Mapping[str, RewardSource[Any]]) -> None:
        try:
            self.inner.bind(sources)
        except SpecError as exc:
            raise exc.within("inner") from None

    def combine(self, samples: Sequence[Any], scores: Mapping[str, Sequence[SourceScore]]) -> list[Combined]:
        cfg = self.config
        watched = set(cfg.rules)
        out = []
        for i, comb in enumerate(self.inner.combine(samples, scores)):
            fired = sorted(
                {
                    h["rule"] if isinstance(h, dict) else h.rule
                    for s in scores.values()
                    for h in s[i].details.get("hits", [])
                }
                & watched
            )
            if not fired or comb.reward is None:
                out.append(comb)
                continue
            r = comb.reward
            gated = min(r, cfg.value) if cfg.mode == "cap" else max(r, cfg.value) if cfg.mode == "floor" else cfg.value
            out.append(Combined(gated, comb.details | {"gate": fired, "ungated": r}))
        return out
