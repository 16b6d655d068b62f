"""REPO's enhancement combiner: rules and judge steer the RM without overwriting it.

    E = clip(E_judge + E_rules, -n, n)
    R = R_rm * (1 + sign(R_rm) * E / n)  =  R_rm + |R_rm| * E / n

The multiplier ``1 + sign(R_rm) * E / n`` stays in [0, 2] and the sign of R_rm is
kept. What the paper leaves open is explicit here:

- **points**: each judge / rules source value maps to points by an affine map
  ``(value - center) * scale``; the default comes from the source (rules report
  points as they are; the judge maps its rating scale, see its docs) and a spec can
  override it per source.
- **R_rm == 0** (``rm_zero``): ``keep`` returns 0, the formula's literal value;
  ``enhancement`` returns ``rm_zero_scale * E / n`` so a zero RM reward still
  carries the rules' and judge's direction.
- **missing sources**: with no RM in the spec, R = E / n (rules and judge alone).
  An RM that returns None for a sample gives ``missing_rm``: ``none`` (reward None)
  or ``enhancement`` (E / n). A judge or rules source that returns None counts as
  0 points (``missing_enhancer: neutral``) or makes the reward None (``none``).

Example:
    >>> from repo_sdk.types import SourceScore as S
    >>> c = RepoCombiner(RepoConfig(rm="rm", rules=["rules"]))
    >>> c.combine([None, None], {"rm": [S(value=2.0), S(value=-2.0)],
    ...                          "rules": [S(value=-50.0), S(value=-50.0)]})[0].reward
    1.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from repo_sdk.errors import ConfigError
from repo_sdk.interfaces import Combined, Combiner, PointsMap, RewardSource
from repo_sdk.types import Sample, SourceScore

__all__ = ["RepoCombiner", "RepoConfig", "enhance"]


def enhance(r_rm: float, e: float, n: float = 100.0) -> float:
    """The REPO formula on one value: ``r_rm * (1 + sign(r_rm) * clip(e, -n, n) / n)``.

    Example:
        >>> enhance(1.0, 50), enhance(-1.0, 50), enhance(1.0, 500)
        (1.5, -0.5, 2.0)
    """
    e = max(-n, min(n, e))
    return r_rm + abs(r_rm) * e / n


class PointsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    center: float | None = None
    scale: float | None = None


class RepoConfig(BaseModel):
    """Parameters of the ``repo`` combiner (see the module docs for each choice)."""

    model_config = ConfigDict(extra="forbid")

    n: float = Field(100.0, gt=0, description="clip bound of E and its normaliser")
    rm: str | None = Field(None, description="RM source name; default: the one source of kind rm")
    judge: list[str] | dict[str, PointsSpec] | None = Field(
        None, description="judge sources (optionally with points maps); default: all of kind judge"
    )
    rules: list[str] | dict[str, PointsSpec] | None = Field(
        None, description="rules sources (optionally with points maps); default: all of kind rules"
    )
    rm_zero: Literal["keep", "enhancement"] = "keep"
    rm_zero_scale: float = Field(1.0, ge=0)
    missing_rm: Literal["none", "enhancement"] = "none"
    missing_enhancer: Literal["neutral", "none"] = "neutral"

    @field_validator("judge", "rules", mode="before")
    @classmethod
    def _str_to_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


def _as_maps(value: list[str] | dict[str, PointsSpec] | None) -> dict[str, PointsSpec] | None:
    if value is None:
        return None
    return dict(value) if isinstance(value, dict) else {name: PointsSpec() for name in value}


class RepoCombiner(Combiner):
    """REPO: RM reward modulated by clipped judge + rules enhancement points."""

    name: ClassVar[str] = "repo"
    Config = RepoConfig
    summary_details: ClassVar[tuple[str, ...]] = ("E", "multiplier")

    def __init__(self, config: RepoConfig | None = None) -> None:
        super().__init__(config)
        cfg: RepoConfig = self.config  # type: ignore[assignment]
        self.rm = cfg.rm
        self.enhancers: dict[str, tuple[str, PointsMap]] = {}
        for role in ("judge", "rules"):
            for name, ps in (_as_maps(getattr(cfg, role)) or {}).items():
                self.enhancers[name] = (role, PointsMap(ps.center or 0.0, 1.0 if ps.scale is None else ps.scale))
        self._bound = False

    def bind(self, sources: Mapping[str, RewardSource]) -> None:
        cfg: RepoConfig = self.config  # type: ignore[assignment]
        names = set(sources)
        if cfg.rm is not None and cfg.rm not in names:
            raise ConfigError(f"combiner.rm: {cfg.rm!r} is not a source (sources: {sorted(names)})")
        if cfg.rm is None:
            rms = [n for n, s in sources.items() if s.kind == "rm"]
            if len(rms) > 1:
                raise ConfigError(f"combiner.rm: several RM sources {rms}; name the one to use")
            self.rm = rms[0] if rms else None
        self.enhancers = {}
        for role in ("judge", "rules"):
            maps = _as_maps(getattr(cfg, role))
            if maps is None:
                maps = {n: PointsSpec() for n, s in sources.items() if s.kind == role}
            for name, ps in maps.items():
                if name not in names:
                    raise ConfigError(f"combiner.{role}: {name!r} is not a source (sources: {sorted(names)})")
                default = sources[name].points_map
                pm = PointsMap(
                    default.center if ps.center is None else ps.center,
                    default.scale if ps.scale is None else ps.scale,
                )
                self.enhancers[name] = (role, pm)
        self._bound = True

    def combine(self, samples: Sequence[Sample | Any], scores: Mapping[str, Sequence[SourceScore]]) -> list[Combined]:
        cfg: RepoConfig = self.config  # type: ignore[assignment]
        n = cfg.n
        out = []
        for i in range(len(samples)):
            missing: list[str] = []
            points = {"judge": 0.0, "rules": 0.0}
            for name, (role, pm) in self.enhancers.items():
                value = scores[name][i].value if name in scores else None
                if value is None:
                    missing.append(name)
                else:
                    points[role] += pm(value)
            e_raw = points["judge"] + points["rules"]
            e = max(-n, min(n, e_raw))
            details: dict[str, Any] = {"E": e, "E_judge": points["judge"], "E_rules": points["rules"]}
            if missing:
                details["missing"] = missing
            if missing and cfg.missing_enhancer == "none":
                out.append(Combined(None, details | {"why": f"missing enhancer(s) {missing}"}))
                continue
            if self.rm is None:
                out.append(Combined(e / n, details | {"multiplier": None}))
                continue
            r_rm = scores[self.rm][i].value if self.rm in scores else None
            if r_rm is None:
                details["missing"] = [*missing, self.rm]
                reward = e / n if cfg.missing_rm == "enhancement" else None
                out.append(Combined(reward, details | {"multiplier": None}))
                continue
            if r_rm == 0.0 and cfg.rm_zero == "enhancement":
                out.append(Combined(cfg.rm_zero_scale * e / n, details | {"multiplier": None}))
                continue
            sign = (r_rm > 0) - (r_rm < 0)
            multiplier = 1.0 + sign * e / n
            out.append(Combined(r_rm * multiplier, details | {"multiplier": multiplier}))
        return out
