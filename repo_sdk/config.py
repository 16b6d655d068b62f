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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from repo_sdk.errors import ConfigError, PluginError
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
    "validate_plugin_config",
]


MAX_SPEC_NODES = 100_000  # values in a spec once YAML aliases are expanded; real specs hold hundreds


class SourceSpec(BaseModel):
    """``type`` picks a registered source; the other keys are its parameters.

    Short forms: a list is a rules source (``rules: [cot_leak]``); a string is a
    source type with default parameters (``rm: rm``).
    """

    model_config = ConfigDict(extra="allow")

    type: str

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {"type": "rules", "rules": value}
        if isinstance(value, str):
            return {"type": value}
        return value

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class CombinerSpec(BaseModel):
    """``type`` picks a registered combiner (default ``repo``); the rest are its parameters."""

    model_config = ConfigDict(extra="allow")

    type: str = "repo"

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class InputSpec(BaseModel):
    """How to read logged dialogues whose fields are named differently.

    Each key names the field in the input records (dotted paths reach nested fields).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = "id"
    task: str = "task"
    turns: str = "turns"
    role: str = "role"
    content: str = "content"
    tool_calls: str = Field("tool_calls", description="an assistant turn's tool calls")
    tool_name: str = Field("name", description="a tool turn's tool name")
    tool_call_id: str = Field("tool_call_id", description="the call a tool turn answers")
    roles: dict[str, Literal["system", "user", "assistant", "tool"]] = Field(
        default_factory=dict, description="map of input role names to system/user/assistant/tool"
    )


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

    def where(self, loc: tuple[Any, ...]) -> str:
        """``spec.yaml:12`` for a key path (``<spec>`` when the spec did not come from a file)."""
        name = str(self.path) if self.path is not None else "<spec>"
        line = line_of(self.yaml_root, loc)
        return f"{name}:{line}" if line and self.path is not None else name


def format_loc(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("sources", "rules", "rules", 1)`` -> ``sources.rules.rules[1]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class NestedConfigError(ValueError):
    """Raised by plugin validators that validate nested plugin configs (rules in a rules
    source, the inner combiner of a gate), so the error keeps its full key path."""

    def __init__(self, loc: tuple[Any, ...], msg: str) -> None:
        super().__init__(f"{format_loc(loc)}: {msg}")
        self.loc = loc
        self.msg = msg


def _errors(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    out = []
    for err in exc.errors(include_url=False):
        loc = prefix + tuple(p for p in err["loc"] if not str(p).startswith("function-"))
        msg = err["msg"].removeprefix("Value error, ")
        nested = (err.get("ctx") or {}).get("error")
        if isinstance(nested, NestedConfigError):
            out.append((loc + nested.loc, nested.msg))
            continue
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif (
            "input" in err
            and err["type"] != "missing"
            and not isinstance(err["input"], (dict, list))
            and ("(got " not in msg)
        ):
            msg = f"{msg} (got {_short(err['input'])})"
        out.append((loc, msg))
    return out


def validate_plugin_config(
    model: type[BaseModel], params: Mapping[str, Any], registry: Registry, loc: tuple[Any, ...]
) -> BaseModel:
    """Validate a plugin's parameters; raise ConfigError with the full key path.

    Unknown keys are errors even when the model does not say ``extra="forbid"`` (a
    misspelt key must not be dropped in silence); a model with ``extra="allow"`` keeps them.
    Plugin validators may read ``info.context["registry"]`` (to check rule names, say).
    """
    errors: list[tuple[tuple[Any, ...], str]] = []
    if model.model_config.get("extra") in (None, "ignore"):
        known = set(model.model_fields) | {f.alias for f in model.model_fields.values() if f.alias}
        errors = [((*loc, key), "unknown key") for key in params if key not in known]
    try:
        config = model.model_validate(dict(params), context={"registry": registry})
    except ValidationError as exc:
        raise _SpecErrors(_errors(exc, loc) + errors) from None
    if errors:
        raise _SpecErrors(errors)
    return config


class _SpecErrors(Exception):
    def __init__(self, errors: list[tuple[tuple[Any, ...], str]]) -> None:
        super().__init__(errors)
        self.errors = errors


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
    def fail(errors: list[tuple[tuple[Any, ...], str]]) -> ConfigError:
        lines = []
        for loc, msg in errors:
            line = line_of(yaml_root, loc)
            where = f"{source}:{line}" if line else source
            lines.append(f"{where}: {format_loc(loc)}: {msg}")
        more = f" (and {len(errors) - 1} more error(s); run `repo-sdk validate`)" if len(errors) > 1 else ""
        err = ConfigError(lines[0] + more)
        err.all_errors = lines  # type: ignore[attr-defined]
        return err

    if not isinstance(data, dict):
        raise fail([((), f"the spec must be a mapping, got {type(data).__name__}")])
    try:
        spec = RewardSpec.model_validate(data)
    except ValidationError as exc:
        raise fail(_errors(exc)) from None

    errors: list[tuple[tuple[Any, ...], str]] = []
    source_configs: dict[str, BaseModel] = {}
    for name, src in spec.sources.items():
        try:
            cls = registry.get("sources", src.type)
            source_configs[name] = validate_plugin_config(cls.Config, src.params, registry, ("sources", name))
        except PluginError as exc:
            errors.append((("sources", name, "type"), str(exc)))
        except _SpecErrors as exc:
            errors.extend(exc.errors)
    combiner_config: BaseModel | None = None
    try:
        cls = registry.get("combiners", spec.combiner.type)
        combiner_config = validate_plugin_config(cls.Config, spec.combiner.params, registry, ("combiner",))
    except PluginError as exc:
        errors.append((("combiner", "type"), str(exc)))
    except _SpecErrors as exc:
        errors.extend(exc.errors)
    if errors:
        raise fail(errors)
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
        lines = [
            f"{p}:{line}: {format_loc(loc)}: duplicate key (first at line {first})" for loc, line, first in repeats
        ]
        err = ConfigError(lines[0] + (f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""))
        err.all_errors = lines  # type: ignore[attr-defined]
        raise err
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
