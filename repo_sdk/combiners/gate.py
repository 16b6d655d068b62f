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

from repo_sdk.interfaces import BuildContext, Combined, Combiner, RewardSource
from repo_sdk.types import SourceScore

__all__ = ["GateCombiner", "GateConfig"]


class GateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[str] = Field(min_length=1, description="rule names whose hits trigger the gate")
    mode: Literal["cap", "floor", "set"] = "cap"
    value: float = Field(-1.0, description="cap / floor / replacement value")
    inner: dict[str, Any] = Field(default_factory=lambda: {"type": "repo"}, description="the gated combiner")

    @field_validator("inner")
    @classmethod
    def _inner_valid(cls, inner: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        registry = (info.context or {}).get("registry")
        if registry is not None:
            from repo_sdk.config import CombinerSpec, NestedConfigError, _SpecErrors, validate_plugin_config
            from repo_sdk.errors import PluginError

            spec = CombinerSpec.model_validate(inner)
            try:
                validate_plugin_config(registry.get("combiners", spec.type).Config, spec.params, registry, ())
            except PluginError as exc:
                raise NestedConfigError(("type",), str(exc)) from None
            except _SpecErrors as exc:
                loc, msg = exc.errors[0]
                raise NestedConfigError(loc, msg) from None
        return inner


class GateCombiner(Combiner):
    """Cap, floor or replace the inner reward when named rules fire."""

    name: ClassVar[str] = "gate"
    Config = GateConfig

    def __init__(self, config: GateConfig, inner: Combiner) -> None:
        super().__init__(config)
        self.inner = inner

    @classmethod
    def from_config(cls, config: BaseModel, context: BuildContext) -> GateCombiner:
        from repo_sdk.config import CombinerSpec, validate_plugin_config

        assert isinstance(config, GateConfig)
        spec = CombinerSpec.model_validate(config.inner)
        inner_cls = context.registry.get("combiners", spec.type)
        inner_cfg = validate_plugin_config(inner_cls.Config, spec.params, context.registry, ("combiner", "inner"))
        return cls(config, inner_cls.from_config(inner_cfg, context))

    @property
    def group_aware(self) -> bool:  # type: ignore[override]
        return self.inner.group_aware

    @property
    def summary_details(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.inner.summary_details

    def bind(self, sources: Mapping[str, RewardSource]) -> None:
        self.inner.bind(sources)

    def combine(self, samples: Sequence[Any], scores: Mapping[str, Sequence[SourceScore]]) -> list[Combined]:
        cfg: GateConfig = self.config  # type: ignore[assignment]
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
