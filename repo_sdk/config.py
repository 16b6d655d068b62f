"""The reward spec: one YAML file, validated before any model loads.

Short forms cover the common case; every plugin's parameters are validated by
the plugin's own pydantic model (``extra="forbid"``), and every error names the
file, line, key path and bad value.

Example:
    >>> spec = parse_spec({"sources": {"rules": ["cot_leak", "max_length"]}})
    >>> spec.sources["rules"].type, spec.combiner.type
    ('rules', 'repo')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from repo_sdk.errors import ConfigError, Loc, SpecError, format_loc
from repo_sdk.io.input_spec import InputSpec
from repo_sdk.plugin_config import CombinerSpec, SourceSpec, problems_of, validate_plugin
from repo_sdk.plugins import Registry, get_registry
from repo_sdk.spec_yaml import duplicate_keys, expanded_size, line_of

__all__ = [
    "CombinerSpec",
    "InputSpec",
    "LoadedSpec",
    "RewardSpec",
    "SourceSpec",
    "format_loc",
    "load_spec",
    "parse_spec",
]


MAX_SPEC_NODES = 100_000  # values in a spec once YAML aliases are expanded; real specs hold hundreds


class RewardSpec(BaseModel):
    """The whole reward spec (top level of the YAML file)."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    name: str = Field(
        "repo_reward",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="metric name of the combined reward in trainer logs",
    )
    sources: dict[str, SourceSpec] = Field(min_length=1)
    combiner: CombinerSpec = Field(default_factory=CombinerSpec)
    batch_size: int = Field(64, ge=1, description="samples per source call when scoring logs")
    input: InputSpec = Field(default_factory=InputSpec)
    train: dict[str, Any] | None = Field(None, description="training section, read by `repo-sdk train`")

    @field_validator("sources")
    @classmethod
    def _names(cls, value: dict[str, SourceSpec]) -> dict[str, SourceSpec]:
        for name in value:
            if not name.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"source name {name!r} must be letters, digits, '_' or '-'")
        return value


@dataclass
class LoadedSpec:
    """A spec with every plugin config validated, ready to build a pipeline."""

    spec: RewardSpec
    source_configs: dict[str, BaseModel]
    combiner_config: BaseModel
    base_dir: Path = field(default_factory=Path.cwd)
    path: Path | None = None
    yaml_root: yaml.Node | None = field(default=None, repr=False)  # for the line of a key path

    def where(self, loc: Loc) -> str:
        """``spec.yaml:12`` for a key path (``<spec>`` when the spec did not come from a file)."""
        name = str(self.path) if self.path is not None else "<spec>"
        line = line_of(self.yaml_root, loc)
        return f"{name}:{line}" if line and self.path is not None else name


def parse_spec(
    data: Any,
    *,
    registry: Registry | None = None,
    source: str = "<spec>",
    yaml_root: yaml.Node | None = None,
    base_dir: Path | None = None,
) -> RewardSpec:
    """Validate spec data (already parsed) and return the RewardSpec; see :func:`load`."""
    return _load(data, registry or get_registry(), source, yaml_root, base_dir).spec


def _load(data: Any, registry: Registry, source: str, yaml_root: yaml.Node | None, base_dir: Path | None) -> LoadedSpec:
    def where(loc: Loc) -> str:
        line = line_of(yaml_root, loc)
        return f"{source}:{line}" if line else source

    def fail(problems: list[tuple[Loc, str]]) -> SpecError:
        return SpecError.collect(problems, where, "run `repo-sdk validate`")

    if not isinstance(data, dict):
        raise fail([((), f"the spec must be a mapping, got {type(data).__name__}")])
    try:
        spec = RewardSpec.model_validate(data)
    except ValidationError as exc:
        raise fail(problems_of(exc)) from None

    problems: list[tuple[Loc, str]] = []
    source_configs: dict[str, BaseModel] = {}
    for name, src in spec.sources.items():
        try:
            source_configs[name] = validate_plugin("sources", src, registry, ("sources", name))[1]
        except SpecError as exc:
            problems.extend(exc.problems)
    combiner_config: BaseModel | None = None
    try:
        combiner_config = validate_plugin("combiners", spec.combiner, registry, ("combiner",))[1]
    except SpecError as exc:
        problems.extend(exc.problems)
    if problems:
        raise fail(problems)
    assert combiner_config is not None
    return LoadedSpec(spec, source_configs, combiner_config, base_dir or Path.cwd())


def load_spec(path: str | Path, *, registry: Registry | None = None) -> LoadedSpec:
    """Read and fully validate a YAML spec file.

    Raises:
        ConfigError: one line naming the file, line, key path and bad value.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such spec file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read spec: {exc}") from None
    try:
        root = yaml.compose(text)
        if expanded_size(root, MAX_SPEC_NODES) > MAX_SPEC_NODES:
            raise ConfigError(f"{p}: the spec expands to more than {MAX_SPEC_NODES} values (aliases of aliases?)")
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{p}:{mark.line + 1}" if mark is not None else str(p)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{p}: the YAML is nested too deeply to read") from None
    if repeats := duplicate_keys(root):
        lines = {loc: line for loc, line, _ in repeats}
        raise SpecError.collect(
            [(loc, f"duplicate key (first at line {first})") for loc, _, first in repeats],
            lambda loc: f"{p}:{lines[loc]}",
        )
    loaded = _load(data, registry or get_registry(), str(p), root, p.resolve().parent)
    loaded.path = p
    loaded.yaml_root = root
    return loaded


def load(spec: str | Path | Mapping[str, Any] | RewardSpec, *, registry: Registry | None = None) -> LoadedSpec:
    """A LoadedSpec from a path, a mapping or a RewardSpec."""
    if isinstance(spec, (str, Path)):
        return load_spec(spec, registry=registry)
    if isinstance(spec, RewardSpec):
        spec = spec.model_dump(exclude_none=True)
    return _load(dict(spec), registry or get_registry(), "<spec>", None, None)
