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
- **roles**: by source ``kind`` unless the config names them; a source of kind
  ``other`` that the config does not name is an error, never silently left out.
- **missing sources**: with no RM in the spec, R = E / n (rules and judge alone).
  An RM that returns None for a sample gives ``missing_rm``: ``none`` (reward None)
  or ``enhancement`` (E / n). A judge or rules source that returns None counts as
  0 points (``missing_enhancer: neutral``) or makes the reward None (``none``).
- **the RM's scale**: REPO keeps the RM's sign, so a full penalty on a positive
  R_rm gives 0, which out-ranks a clean reply whose R_rm is slightly negative. Put
  the RM on a positive scale (``normalize: {file: ..., method: positive_quantile}``
  or ``sigmoid``): then R is in [0, 2 * max R_rm] and a penalty only ever lowers it.
- **veto**: a hit of a rule named in ``veto`` (an empty reply, text aimed at the
  judge) sets the reward to ``veto_reward``, strictly below the range: -1 with a
  positive-scale RM (R >= 0), -2 with no RM (R = E / n >= -1).

Example:
    >>> from repo_sdk.types import SourceScore as S
    >>> c = RepoCombiner(RepoConfig(rm="rm", rules=["rules"]))
    >>> c.combine([None, None], {"rm": [S(value=2.0), S(value=-2.0)],
    ...                          "rules": [S(value=-50.0), S(value=-50.0)]})[0].reward
    1.0
    >>> v = RepoCombiner(RepoConfig(rm="rm", rules=["rules"], veto=["empty_reply"]))
    >>> hit = {"rule": "empty_reply", "points": -100.0}
    >>> [r.reward for r in v.combine([None, None], {"rm": [S(value=0.2), S(value=0.9)],
    ...                             "rules": [S(value=0.0), S(value=-100.0, details={"hits": [hit]})]})]
    [0.2, -1.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from repo_sdk.errors import ConfigError, SpecError
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
    veto: list[str] = Field(
        default_factory=list, description="rules whose hit sets the reward to veto_reward (e.g. empty_reply)"
    )
    veto_reward: float | None = Field(
        None, description="reward of a vetoed reply; default -1 with an RM (positive scale), -2 without"
    )

    @field_validator("veto")
    @classmethod
    def _known_rules(cls, names: list[str], info: ValidationInfo) -> list[str]:
        registry = (info.context or {}).get("registry")
        if registry is not None:
            unknown = [n for n in names if n not in registry.rules]
            if unknown:
                raise ValueError(f"unknown rule(s) {unknown} (see `repo-sdk plugins`)")
        return names

    @field_validator("judge", "rules", mode="before")
    @classmethod
    def _str_to_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


def _as_maps(value: list[str] | dict[str, PointsSpec] | None) -> dict[str, PointsSpec] | None:
    if value is None:
        return None
    return dict(value) if isinstance(value, dict) else {name: PointsSpec() for name in value}


class RepoCombiner(Combiner[RepoConfig]):
    """REPO: RM reward modulated by clipped judge + rules enhancement points."""

    name: ClassVar[str] = "repo"
    summary_details: ClassVar[tuple[str, ...]] = ("E", "multiplier")

    def __init__(self, config: RepoConfig | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        self.rm = cfg.rm
        self.enhancers: dict[str, tuple[str, PointsMap]] = {}
        for role in ("judge", "rules"):
            for name, ps in (_as_maps(getattr(cfg, role)) or {}).items():
                self.enhancers[name] = (role, PointsMap(ps.center or 0.0, 1.0 if ps.scale is None else ps.scale))
        self._bound = False

    def bind(self, sources: Mapping[str, RewardSource[Any]]) -> None:
        cfg = self.config
        names = set(sources)
        if cfg.rm is not None and cfg.rm not in names:
            raise SpecError(("rm",), f"{cfg.rm!r} is not a source (sources: {sorted(names)})")
        if cfg.rm is None:
            rms = [n for n, s in sources.items() if s.kind == "rm"]
            if len(rms) > 1:
                raise SpecError(("rm",), f"several RM sources {rms}; name the one to use")
            self.rm = rms[0] if rms else None
        self.enhancers = {}
        for role in ("judge", "rules"):
            maps = _as_maps(getattr(cfg, role))
            if maps is None:
                maps = {n: PointsSpec() for n, s in sources.items() if s.kind == role}
            for name, ps in maps.items():
                if name not in names:
                    raise SpecError((role,), f"{name!r} is not a source (sources: {sorted(names)})")
                default = sources[name].points_map
                pm = PointsMap(
                    default.center if ps.center is None else ps.center,
                    default.scale if ps.scale is None else ps.scale,
                )
                self.enhancers[name] = (role, pm)
        idle = [n for n, s in sources.items() if s.kind == "other" and n != self.rm and n not in self.enhancers]
        if idle:
            raise ConfigError(
                f"source {idle[0]!r} has kind 'other', so the repo combiner gives it no role; set its class's "
                "`kind` to rm, judge or rules, or name it in combiner.rm, combiner.judge or combiner.rules"
            )
        self._bound = True

    def combine(self, samples: Sequence[Sample | Any], scores: Mapping[str, Sequence[SourceScore]]) -> list[Combined]:
        cfg = self.config
        veto = set(cfg.veto)
        veto_reward = cfg.veto_reward if cfg.veto_reward is not None else (-1.0 if self.rm is not None else -2.0)
        out = []
        for i in range(len(samples)):
            combined = self._one(i, scores)
            vetoed = sorted(_fired(scores, i) & veto) if veto else []
            if vetoed:  # below every reward the formula can give, whatever the other sources say
                combined = Combined(veto_reward, combined.details | {"veto": vetoed, "unvetoed": combined.reward})
            out.append(combined)
        return out

    def _one(self, i: int, scores: Mapping[str, Sequence[SourceScore]]) -> Combined:
        cfg = self.config
        n = cfg.n
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
            return Combined(None, details | {"why": f"missing enhancer(s) {missing}"})
        if self.rm is None:
            return Combined(e / n, details | {"multiplier": None})
        r_rm = scores[self.rm][i].value if self.rm in scores else None
        if r_rm is None:
            details["missing"] = [*missing, self.rm]
            reward = e / n if cfg.missing_rm == "enhancement" else None
            return Combined(reward, details | {"multiplier": None})
        if r_rm == 0.0 and cfg.rm_zero == "enhancement":
            return Combined(cfg.rm_zero_scale * e / n, details | {"multiplier": None})
        sign = (r_rm > 0) - (r_rm < 0)
        multiplier = 1.0 + sign * e / n
        return Combined(r_rm * multiplier, details | {"multiplier": multiplier})


def _fired(scores: Mapping[str, Sequence[SourceScore]], i: int) -> set[str]:
    """Names of the rules that fired on sample ``i``, in any source's ``details["hits"]``."""
    names = set()
    for per_sample in scores.values():
        for hit in per_sample[i].details.get("hits", ()):
            names.add(hit["rule"] if isinstance(hit, Mapping) else hit.rule)
    return names
