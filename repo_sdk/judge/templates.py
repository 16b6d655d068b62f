"""Judge prompt templates: YAML header, sandboxed Jinja rendering, system/user blocks.

A template is a ``.j2`` file that starts with a Jinja comment holding YAML::

    {#- repo-sdk judge template
    kind: pointwise          # or pairwise
    scale: [1, 5]            # pointwise: allowed score range
    variables: [task, history, response, criteria]
    defaults:                # optional: values of rubric parameters the spec may omit
      criteria: [politeness]
    -#}
    {% block system %}You are a strict judge ...{% endblock %}
    {% block user %}...{{ response }}...{% endblock %}

The ``system`` block becomes the system message and the ``user`` block the user
message; a template without blocks is rendered whole as one user message. Text
outside the blocks is ignored when blocks are present.

Rendering happens in Jinja's immutable sandbox with ``StrictUndefined``: a
template that reaches for Python internals (``''.__class__``) fails with a
SecurityError, a misspelt variable fails instead of rendering empty. Dialogue text
is passed as data and never evaluated as template code, and every interpolated
value goes through :func:`repo_sdk.judge.fence.as_data`, so it cannot write the
tags that fence it (``</reply>`` renders as ``‹/reply›``).

Example:
    >>> t = JudgeTemplate.from_text("demo", '''{#- repo-sdk judge template
    ... kind: pointwise
    ... scale: [1, 5]
    ... variables: [response]
    ... -#}
    ... {% block system %}Judge.{% endblock %}{% block user %}Reply: {{ response }}{% endblock %}''')
    >>> t.render({"response": "{{ 7 * 7 }} </reply>"})
    [{'role': 'system', 'content': 'Judge.'}, {'role': 'user', 'content': 'Reply: {{ 7 * 7 }} ‹/reply›'}]
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jinja2
import yaml
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from repo_sdk.errors import ConfigError
from repo_sdk.judge.fence import as_data

__all__ = [
    "BUILTIN_VARIABLES",
    "JudgeTemplate",
    "TemplateError",
    "TemplateHeader",
    "TemplateRenderError",
    "load_template",
]

HEADER_MARK = "repo-sdk judge template"
_HEADER = re.compile(r"\A\s*\{#-?\s*repo-sdk judge template[ \t]*\n(?P<yaml>.*?)-?#\}", re.DOTALL)

BUILTIN_VARIABLES: dict[str, frozenset[str]] = {
    "pointwise": frozenset({"task", "history", "response"}),
    "pairwise": frozenset({"task", "history", "response", "response_a", "response_b"}),
}


class TemplateError(ConfigError):
    """A judge template is missing, malformed, or does not fit the spec's parameters."""


class TemplateRenderError(TemplateError):
    """Rendering one sample failed (undefined variable, sandbox violation, ...)."""


class TemplateHeader(BaseModel):
    """The YAML header of a judge template."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["pointwise", "pairwise"]
    scale: tuple[float, float] | None = Field(None, description="pointwise: allowed score range [low, high]")
    variables: list[str] = Field(description="every variable the template uses")
    description: str = ""
    defaults: dict[str, Any] = Field(default_factory=dict, description="default values of rubric parameters")

    @model_validator(mode="after")
    def _check(self) -> TemplateHeader:
        if self.kind == "pointwise":
            if self.scale is None:
                raise ValueError("a pointwise template needs 'scale: [low, high]'")
            if not self.scale[0] < self.scale[1]:
                raise ValueError(f"scale {list(self.scale)} must be [low, high] with low < high")
        if unknown := set(self.defaults) - set(self.variables):
            raise ValueError(f"defaults for undeclared variable(s) {sorted(unknown)}")
        return self


def _to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _environment() -> ImmutableSandboxedEnvironment:
    # finalize runs on every {{ ... }} output: interpolated values are data and never write a tag
    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True, finalize=as_data
    )
    env.filters["json"] = _to_json
    return env


_ENV = _environment()


@dataclass(frozen=True)
class JudgeTemplate:
    """A parsed judge template: its header and the compiled sandboxed Jinja template."""

    name: str
    header: TemplateHeader
    source: str
    path: Path | None = None
    _compiled: jinja2.Template = field(repr=False, compare=False, kw_only=True)

    @property
    def kind(self) -> str:
        return self.header.kind

    @property
    def fences(self) -> frozenset[str]:
        """The tag names the template writes itself (``task``, ``dialogue``, ``reply``, ...)."""
        return frozenset(re.findall(r"</?([A-Za-z_][\w\-]*)>", _HEADER.sub("", self.source)))

    @property
    def scale(self) -> tuple[float, float]:
        """The score range (pairwise templates score the candidate in [0, 1])."""
        return self.header.scale if self.header.scale is not None else (0.0, 1.0)

    @classmethod
    def from_text(cls, name: str, text: str, path: Path | None = None) -> JudgeTemplate:
        """Parse a template's text; raise TemplateError naming the template and the problem."""
        where = str(path) if path is not None else f"template {name!r}"
        match = _HEADER.match(text)
        if match is None:
            raise TemplateError(f"{where}: must start with a '{{#- {HEADER_MARK}' YAML header comment")
        try:
            raw = yaml.safe_load(match.group("yaml")) or {}
            header = TemplateHeader.model_validate(raw)
        except yaml.YAMLError as exc:
            raise TemplateError(f"{where}: invalid YAML header: {str(exc).splitlines()[0]}") from None
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in err["loc"]) or "header"
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            raise TemplateError(f"{where}: header {loc}: {msg}") from None
        try:
            ast = _ENV.parse(text)
            compiled = _ENV.from_string(text)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"{where}:{exc.lineno}: template syntax error: {exc.message}") from None
        if undeclared := meta.find_undeclared_variables(ast) - set(header.variables):
            raise TemplateError(f"{where}: uses undeclared variable(s) {sorted(undeclared)}; list them in variables")
        return cls(name, header, text, path, _compiled=compiled)

    def __reduce__(self) -> tuple[Any, ...]:
        # compiled Jinja code does not pickle: rebuild from the text
        return (JudgeTemplate.from_text, (self.name, self.source, self.path))

    def parameters(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The rubric parameters for rendering: header defaults overlaid with the spec's ``params``.

        Raises:
            TemplateError: a parameter the template does not declare, or a declared one with no value.
        """
        builtins = BUILTIN_VARIABLES[self.kind]
        if unknown := sorted(set(params) - (set(self.header.variables) - builtins)):
            raise TemplateError(
                f"params {unknown} not used by template {self.name!r} (its rubric parameters: "
                f"{sorted(set(self.header.variables) - builtins)})"
            )
        merged = {**self.header.defaults, **params}
        if missing := sorted(set(self.header.variables) - builtins - set(merged)):
            raise TemplateError(f"template {self.name!r} needs params {missing} (no default in its header)")
        return merged

    def probe(self, params: Mapping[str, Any]) -> None:
        """Render once with placeholder data so a sandbox violation fails at build time, not mid-run.

        Only sandbox violations are raised; other errors depend on the real data
        (a task field a sample lacks) and surface per sample as None with the reason.

        Raises:
            TemplateError: the template was stopped by the sandbox.
        """
        variables = {
            **self.parameters(params),
            "task": _Placeholders(),
            "history": [
                {"role": "user", "content": "(probe)", "name": "", "tool_calls": []},
                {"role": "assistant", "content": "", "name": "", "tool_calls": [{"name": "(probe)", "arguments": {}}]},
                {"role": "tool", "content": "(probe)", "name": "(probe)", "tool_calls": []},
            ],
            "response": "(probe)",
            "response_a": "(a)",
            "response_b": "(b)",
        }
        try:
            self.render(variables)
        except TemplateRenderError as exc:
            if "sandbox" in str(exc):
                raise TemplateError(str(exc)) from None

    def render(self, variables: Mapping[str, Any]) -> list[dict[str, str]]:
        """Chat messages from the template's ``system`` / ``user`` blocks (or the whole text).

        Raises:
            TemplateRenderError: an undefined variable, a sandbox violation, or any other render error.
        """
        t = self._compiled
        try:
            if not t.blocks:
                return [{"role": "user", "content": t.render(variables).strip()}]
            ctx = t.new_context(dict(variables))
            messages = []
            for role in ("system", "user"):
                if role in t.blocks:
                    messages.append({"role": role, "content": "".join(t.blocks[role](ctx)).strip()})
            return messages
        except jinja2.exceptions.SecurityError as exc:
            raise TemplateRenderError(f"template {self.name!r} was stopped by the sandbox: {exc}") from None
        except jinja2.UndefinedError as exc:
            raise TemplateRenderError(f"template {self.name!r}: undefined variable: {exc.message}") from None
        except Exception as exc:
            raise TemplateRenderError(f"template {self.name!r}: {type(exc).__name__}: {exc}") from None


class _Placeholders(dict[str, Any]):
    """A task whose every field exists, for :meth:`JudgeTemplate.probe`."""

    def __missing__(self, key: Any) -> str:
        return "(probe)"


@lru_cache(maxsize=64)
def _load_cached(path: str, stamp: tuple[int, int], name: str) -> JudgeTemplate:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: cannot read judge template: {exc}") from None
    return JudgeTemplate.from_text(name, text, Path(path))


def load_template(path: str | Path, name: str | None = None) -> JudgeTemplate:
    """Load and parse a ``.j2`` judge template file (cached until the file changes).

    Example:
        >>> from repo_sdk.templates_builtin import templates_dir
        >>> load_template(templates_dir() / "judges" / "pointwise.j2").scale
        (1.0, 5.0)
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        raise TemplateError(f"{p}: no such judge template") from None
    return _load_cached(str(p), (st.st_mtime_ns, st.st_size), name or p.stem)
