"""How a plugin declares, is named with, and validates its parameters.

- :class:`Configurable`: the generic base of sources, combiners and rules. A plugin
  declares its parameters once, as the type argument (``RewardSource[MyConfig]``) or
  as a ``Config`` class attribute; the validated model reaches the instance as
  ``self.config``, typed.
- :class:`PluginRef`: a plugin named in a spec with its parameters, in the long form
  (``{type: judge, template: ...}``, ``{name: max_length, max_chars: 900}``) or the
  short one (``judge``, ``- cot_leak``). Sources, combiners and rules share it.
- :func:`validate_config` and :func:`validate_plugin`: validation of a plugin's
  parameters at its place in the spec, raising :class:`~repo_sdk.errors.SpecError`
  with every problem at its full key path. A plugin whose config nests other plugins
  (the rules of a rules source, the inner combiner of a gate) calls them from its
  validators: pydantic passes the located problems through.

Example:
    >>> from pydantic import BaseModel, Field
    >>> class WordsConfig(BaseModel):
    ...     max_words: int = Field(100, ge=1)
    >>> class Words(Configurable[WordsConfig]):
    ...     pass
    >>> Words.Config is WordsConfig, Words().config.max_words
    (True, 100)
    >>> try:
    ...     validate_config(WordsConfig, {"max_words": 0, "maxwords": 3}, loc=("sources", "w"))
    ... except SpecError as exc:
    ...     exc.all_errors
    ['sources.w.max_words: Input should be greater than or equal to 1 (got 0)', 'sources.w.maxwords: unknown key']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from repo_sdk.errors import Loc, PluginError, SpecError

if TYPE_CHECKING:
    from repo_sdk.plugins import Registry

__all__ = [
    "CombinerSpec",
    "ConfigT",
    "Configurable",
    "NoConfig",
    "PluginRef",
    "SourceSpec",
    "problems_of",
    "validate_config",
    "validate_plugin",
]


class NoConfig(BaseModel):
    """The config of a plugin that takes no parameters."""

    model_config = ConfigDict(extra="forbid")


ConfigT = TypeVar("ConfigT", bound=BaseModel)


class Configurable(Generic[ConfigT]):
    """A plugin whose parameters are one pydantic model: ``Config``, validated, as ``self.config``.

    Name the model as the type argument (``class Lexicon(RewardSource[LexiconConfig])``:
    ``Config`` is set from it and ``self.config`` is typed) or set ``Config = LexiconConfig``.
    Either is checked when the class is created: a ``Config`` that is not a pydantic model,
    or that differs from the type argument, is a TypeError there.
    """

    Config: ClassVar[type[BaseModel]] = NoConfig
    config: ConfigT

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = _type_argument(cls)
        if declared is not None:
            own = cls.__dict__.get("Config")
            if own is not None and own is not declared:
                raise TypeError(f"{cls.__name__}: Config {own.__name__} is not its type argument {declared.__name__}")
            cls.Config = declared
        if not (isinstance(cls.Config, type) and issubclass(cls.Config, BaseModel)):
            raise TypeError(f"{cls.__name__}.Config must be a pydantic model class (got {cls.Config!r})")

    def __init__(self, config: ConfigT | None = None) -> None:
        if config is not None and not isinstance(config, self.Config):
            raise TypeError(f"{type(self).__name__} takes a {self.Config.__name__} (got {type(config).__name__})")
        self.config = config if config is not None else self.Config()  # type: ignore[assignment]


def _type_argument(cls: type) -> type[BaseModel] | None:
    for base in cls.__dict__.get("__orig_bases__", ()):
        origin = get_origin(base)
        if isinstance(origin, type) and issubclass(origin, Configurable):
            for arg in get_args(base):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    return arg
    return None


class PluginRef(BaseModel):
    """A plugin named in a spec: its name under ``name_key``; the other keys are its parameters.

    Short forms: a string is the name alone; a list, where ``list_form = (plugin, key)``,
    is that plugin with the list as its ``key`` (``rules: [cot_leak]`` is a rules source).

    Example:
        >>> SourceSpec.model_validate("judge").type, SourceSpec.model_validate(["cot_leak"]).params
        ('judge', {'rules': ['cot_leak']})
    """

    model_config = ConfigDict(extra="allow")

    name_key: ClassVar[str] = "name"
    list_form: ClassVar[tuple[str, str] | None] = None

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {cls.name_key: value}
        if isinstance(value, list) and cls.list_form is not None:
            plugin, key = cls.list_form
            return {cls.name_key: plugin, key: value}
        return value

    @property
    def plugin(self) -> str:
        """The name of the plugin referred to."""
        return str(getattr(self, self.name_key))

    @property
    def params(self) -> dict[str, Any]:
        """The plugin's parameters (every key the reference does not declare itself)."""
        return dict(self.model_extra or {})


class SourceSpec(PluginRef):
    """``type`` picks a registered source; the other keys are its parameters.

    Short forms: a list is a rules source (``rules: [cot_leak]``); a string is a
    source type with default parameters (``rm: rm``).
    """

    name_key: ClassVar[str] = "type"
    list_form: ClassVar[tuple[str, str] | None] = ("rules", "rules")

    type: str


class CombinerSpec(PluginRef):
    """``type`` picks a registered combiner (default ``repo``); the rest are its parameters."""

    name_key: ClassVar[str] = "type"

    type: str = "repo"


def problems_of(exc: ValidationError, prefix: Loc = ()) -> list[tuple[Loc, str]]:
    """Pydantic's errors as ``(key path, message)``, under ``prefix``.

    A :class:`SpecError` raised in a validator keeps its own key paths (under the
    validated field's); a bad scalar is quoted (``(got 0)``); an unknown key reads
    ``unknown key``.
    """
    out: list[tuple[Loc, str]] = []
    for err in exc.errors(include_url=False):
        loc = prefix + tuple(p for p in err["loc"] if not str(p).startswith("function-"))
        nested = (err.get("ctx") or {}).get("error")
        if isinstance(nested, SpecError):
            out.extend(((*loc, *inner), msg) for inner, msg in nested.problems)
            continue
        msg = err["msg"].removeprefix("Value error, ")
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


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validate_config(
    model: type[ConfigT], params: Mapping[str, Any], registry: Registry | None = None, loc: Loc = ()
) -> ConfigT:
    """Validate a plugin's parameters at key path ``loc``; SpecError lists every problem.

    Unknown keys are errors even when the model does not say ``extra="forbid"`` (a
    misspelt key must not be dropped in silence); a model with ``extra="allow"`` keeps them.
    Validators may read ``info.context["registry"]`` (to check rule names, say).
    """
    problems: list[tuple[Loc, str]] = []
    if model.model_config.get("extra") in (None, "ignore"):
        known = set(model.model_fields) | {f.alias for f in model.model_fields.values() if f.alias}
        problems = [((*loc, key), "unknown key") for key in params if key not in known]
    try:
        config = model.model_validate(dict(params), context={"registry": registry})
    except ValidationError as exc:
        raise SpecError.collect(problems_of(exc, loc) + problems) from None
    if problems:
        raise SpecError.collect(problems)
    return config


def validate_plugin(kind: str, ref: PluginRef, registry: Registry, loc: Loc = ()) -> tuple[type[Any], BaseModel]:
    """The registered plugin ``ref`` names and its validated config, at key path ``loc``.

    ``kind`` is ``sources``, ``combiners`` or ``rules``; an unknown name is a problem at
    ``loc + (name_key,)``.

    Example:
        >>> from repo_sdk.plugins import get_registry
        >>> cls, config = validate_plugin("combiners", CombinerSpec(type="repo", n=50), get_registry())
        >>> cls.__name__, config.n
        ('RepoCombiner', 50.0)
        >>> validate_plugin("combiners", CombinerSpec(type="rpeo"), get_registry(), ("combiner", "inner"))
        Traceback (most recent call last):
        ...
        repo_sdk.errors.SpecError: combiner.inner.type: unknown combiner 'rpeo' (known: ...)
    """
    try:
        cls = registry.get(kind, ref.plugin)
    except PluginError as exc:
        raise SpecError((*loc, ref.name_key), str(exc)) from None
    return cls, validate_config(cls.Config, ref.params, registry, loc)
