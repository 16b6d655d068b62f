"""The ``rm`` reward source: batched scoring with a sequence-classification reward model.

Spec example (every key but ``path`` optional; ``base_url`` instead of ``path`` scores
through an RM server, :mod:`repo_sdk.rm.remote`)::

    sources:
      rm:
        type: rm
        path: models/my-rm            # resolved against the spec's directory
        device: auto                  # auto | cpu | cuda | cuda:1 | mps
        dtype: auto                   # auto | float32 | bfloat16 | float16
        max_length: 1024              # default: the model's own limit
        token_budget: 16384           # padded tokens per micro-batch (default: 16384 CUDA, 4096 CPU)
        task_placement: system        # system | user-prefix | none
        task_template: "Hotel {{ task.hotel }}, target {{ task.target_price }}"
        normalize: {file: models/my-rm/calibration.json, method: positive_quantile, floor: 0.1}

``SourceScore.value`` is the RM score (on the configured scale, ``None`` when the
model returned NaN or infinity); ``details`` holds ``raw``, ``tokens`` and, for a cut input,
``truncated: {dropped_turns, cut_tokens, full_length}``. Rendering settings a spec
leaves unset come from ``repo_rm.json`` when ``rm train`` wrote one, so scoring
renders exactly as training did.

Example:
    >>> import tempfile
    >>> from repo_sdk.interfaces import BuildContext
    >>> from repo_sdk.plugins import get_registry
    >>> from repo_sdk.rm.tiny import build_tiny_model
    >>> from repo_sdk.testing import make_sample
    >>> path = build_tiny_model(tempfile.mkdtemp())
    >>> src = RMSource.from_config(RMConfig(path=str(path)), BuildContext(registry=get_registry()))
    >>> scores = src.score([make_sample(response="Deal at 80."), make_sample(response="No.")])
    >>> [type(s.value).__name__ for s in scores], src.telemetry()["samples"]
    (['float', 'float'], 2.0)
    >>> src.close()
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from repo_sdk.errors import ConfigError
from repo_sdk.interfaces import BuildContext, RewardSource
from repo_sdk.rm.batching import forward_scores
from repo_sdk.rm.deps import require_rm
from repo_sdk.rm.loading import LoadedRM, acquire, release
from repo_sdk.rm.normalize import POSITIVE_METHODS, Method, Normalizer, load_calibration
from repo_sdk.rm.render import Renderer, TaskPlacement, compile_task_template
from repo_sdk.types import Sample, SourceScore

__all__ = ["CalibrationRef", "MeanStd", "RMConfig", "RMSource"]

log = logging.getLogger("repo_sdk.rm")
_FALLBACK_MAX_LENGTH = 2048


class MeanStd(BaseModel):
    """Fixed z-score normalisation: ``(raw - mean) / std``."""

    model_config = ConfigDict(extra="forbid")

    mean: float
    std: float = Field(gt=0)


class CalibrationRef(BaseModel):
    """A scale from a calibration file (``calibration.json`` written by ``rm train``), or a plain sigmoid.

    ``method``: ``zscore`` or ``quantile`` (signed), ``positive_quantile`` or ``sigmoid``
    (positive, in ``(0, 1]``; ``floor`` is the lowest value, default 0.1). ``file`` may be
    left out only for ``sigmoid`` (a sigmoid of the raw logit).
    """

    model_config = ConfigDict(extra="forbid")

    file: str | None = None
    method: Method = "zscore"
    floor: float | None = Field(None, ge=0, lt=1, description="lowest value of a positive scale (default 0.1)")

    @model_validator(mode="after")
    def _consistent(self) -> CalibrationRef:
        if self.file is None and self.method != "sigmoid":
            raise ValueError(f"method {self.method!r} needs a calibration file (file: .../calibration.json)")
        if self.floor is not None and self.method not in POSITIVE_METHODS:
            raise ValueError(f"floor applies to the positive methods {list(POSITIVE_METHODS)}, not {self.method!r}")
        if self.method == "positive_quantile" and self.floor == 0:
            raise ValueError("positive_quantile needs floor > 0 (its lowest value), so every value is positive")
        return self

    @property
    def positive_floor(self) -> float:
        return (0.1 if self.floor is None else self.floor) if self.method in POSITIVE_METHODS else 0.0


class RMConfig(BaseModel):
    """Parameters of the ``rm`` source (see the module docs)."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(
        None, description="directory of a num_labels=1 sequence-classification model and its tokenizer (a local RM)"
    )
    device: str = Field("auto", description="auto (CUDA if present, else CPU), cpu, cuda, cuda:N, mps")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="auto: bf16 on CUDA, fp32 on CPU"
    )
    max_length: int | None = Field(None, ge=8, description="longest input in tokens; default: the model's limit")
    token_budget: int | None = Field(
        None, ge=1, description="padded tokens per micro-batch (rows x longest row); default 16384 on CUDA, 4096 else"
    )
    max_batch_size: int = Field(256, ge=1, description="most rows per micro-batch")
    task_placement: TaskPlacement = Field("system", description="where the task text goes: system | user-prefix | none")
    task_template: str | None = Field(None, description="Jinja template of the task text (variable: task)")
    normalize: Literal["none", "sigmoid"] | MeanStd | CalibrationRef | str = Field(
        "none",
        description="the RM's scale: none | sigmoid | {mean, std} | {file, method, floor} | calibration file path; "
        "the repo combiner needs a positive one (method positive_quantile or sigmoid)",
    )

    def scale(self) -> Literal["raw", "signed", "positive"]:
        """What the ``repo`` combiner gets: ``raw`` scores, a ``signed`` scale or a ``positive`` one."""
        n = self.normalize
        if n == "none":
            return "raw"
        if n == "sigmoid" or (isinstance(n, CalibrationRef) and n.method in POSITIVE_METHODS):
            return "positive"
        return "signed"

    @field_validator("task_template")
    @classmethod
    def _template_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compile_task_template(value)
            except Exception as exc:
                raise ValueError(f"task_template does not compile: {exc}") from None
        return value

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        base = value.split(":", 1)[0]
        if base not in {"auto", "cpu", "cuda", "mps", "xpu"}:
            raise ValueError(f"device must be auto, cpu, cuda, cuda:N, mps or xpu, got {value!r}")
        return value

    # A remote RM: base_url instead of path (repo_sdk.rm.remote_config, docs/rm.md "A remote RM").
    base_url: str | None = Field(None, description="an RM server: vLLM (POST /classify) or OpenRLHF-style "
                                 "(POST /get_reward); instead of path")  # fmt: skip
    protocol: Literal["vllm", "openrlhf"] = Field("vllm", description="the server's API: vllm or openrlhf")
    model: str | None = Field(None, description="model name sent to vLLM (default: the one it serves)")
    tokenizer: str | None = Field(
        None, description="folder of the RM's tokenizer: render with its chat template and truncate here"
    )
    input: Literal["auto", "tokens", "text", "messages"] = Field(
        "auto",
        description="what is sent: token ids, rendered text, or chat messages the server renders; "
        "auto: tokens with a tokenizer (vllm), text (openrlhf), else messages",
    )
    use_activation: bool = Field(False, description="vLLM: apply the classifier's activation; false: raw rewards")
    api_key_env: str | None = Field(None, description="environment variable holding the server's API key")
    concurrency: int = Field(8, ge=1, le=1024, description="requests in flight at once (per process)")
    timeout_s: float = Field(60.0, gt=0, description="deadline of one HTTP call")
    max_retries: int = Field(3, ge=0, le=50, description="retries of a request (timeouts, 5xx, 429, bad bodies)")
    backoff_base_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(20.0, ge=0)
    transport: Literal["auto", "aiohttp", "httpx"] = "auto"
    probe: bool = Field(True, description="check that the server answers when the source is built")
    max_concurrency_global: int | None = Field(
        None, ge=1, le=4096, description="requests in flight over every process and Ray actor"
    )
    requests_per_second: float | None = Field(
        None, gt=0, le=100000, description="requests started per second over every process and Ray actor"
    )
    global_limit: Literal["auto", "file", "ray"] = Field("auto", description="who holds the shared limits")

    @model_validator(mode="after")
    def _local_or_remote(self) -> RMConfig:
        from repo_sdk.rm.remote_config import check_rm_config

        check_rm_config(self)
        return self


def _max_length(loaded: LoadedRM) -> int:
    limits = [getattr(loaded.model.config, "max_position_embeddings", None), loaded.tokenizer.model_max_length]
    usable = [int(x) for x in limits if isinstance(x, int) and 0 < x < 1_000_000]
    return min(usable) if usable else _FALLBACK_MAX_LENGTH


class RMSource(RewardSource):
    """Reward model (RM): a ``num_labels=1`` sequence classifier scores each reply."""

    name: ClassVar[str] = "rm"
    kind = "rm"
    Config = RMConfig
    config: RMConfig

    def __init__(self, config: RMConfig, loaded: LoadedRM, normalizer: Normalizer | None = None) -> None:
        super().__init__(config)
        self.loaded: LoadedRM | None = loaded
        self.normalizer = normalizer
        render = loaded.meta.get("render", {})

        def pick(key: str) -> Any:  # spec value if set, else what training recorded, else default
            return getattr(config, key) if key in config.model_fields_set else render.get(key, getattr(config, key))

        self.max_length = pick("max_length") or _max_length(loaded)
        # Big GPU batches keep the device busy; on a CPU, smaller ones pad less and stay in cache.
        self.token_budget = config.token_budget or (16384 if loaded.device.type == "cuda" else 4096)
        self.renderer = Renderer(
            loaded.tokenizer,
            task_placement=pick("task_placement"),
            task_template=pick("task_template"),
            max_length=self.max_length,
        )
        self._counts = {"samples": 0, "batches": 0, "truncations": 0, "tokens": 0, "padded_tokens": 0, "nan": 0}

    @classmethod
    def from_config(cls, config: BaseModel, context: BuildContext) -> RewardSource:
        assert isinstance(config, RMConfig)
        if config.base_url is not None:
            from repo_sdk.rm.remote import RemoteRMSource

            return RemoteRMSource.from_config(config, context)
        assert config.path is not None
        require_rm("the rm source")
        path = context.resolve(config.path)
        normalizer = _normalizer(config.normalize, context)
        return cls(config, acquire(path, config.device, config.dtype), normalizer)

    def score(self, samples: Sequence[Sample]) -> list[SourceScore]:
        if self.loaded is None:
            raise RuntimeError("rm source is closed")
        if not samples:
            return []
        encoded = self.renderer.encode(samples)
        for sample, enc in zip(samples, encoded, strict=True):
            if enc.error is not None:
                log.warning("rm: sample %s scores None: %s", sample.id, enc.error)
        ready = [e for e in encoded if e.error is None]
        with self.loaded.lock:
            raw_ready, stats = forward_scores(
                self.loaded.model,
                [e.ids for e in ready],
                pad_id=self.loaded.pad_id,
                token_budget=self.token_budget,
                max_batch_size=self.config.max_batch_size,
                device=self.loaded.device,
            )
        cut = sum(e.truncated for e in encoded)
        c = self._counts
        c["samples"] += len(samples)
        c["batches"] += stats.batches
        c["tokens"] += stats.tokens
        c["padded_tokens"] += stats.padded_tokens
        c["truncations"] += cut
        if cut:
            log.warning(
                "rm: truncated %d of %d inputs to max_length=%d (%d so far); the responses were kept",
                cut,
                len(samples),
                self.max_length,
                c["truncations"],
            )
        values = iter(raw_ready)
        out = []
        for enc in encoded:
            if enc.error is not None:
                out.append(SourceScore(value=None, reason=enc.error))
                continue
            value = next(values)
            details: dict[str, Any] = {"raw": value, "tokens": len(enc.ids)}
            if enc.truncated:
                details["truncated"] = {
                    "dropped_turns": enc.dropped_turns,
                    "cut_tokens": enc.cut_tokens,
                    "full_length": enc.full_length,
                }
            if not math.isfinite(value):  # NaN, or an overflow in half precision
                c["nan"] += 1
                out.append(
                    SourceScore(
                        value=None,
                        reason=f"reward model returned {'NaN' if math.isnan(value) else value}",
                        details=details,
                    )
                )
                continue
            out.append(SourceScore(value=self.normalizer(value) if self.normalizer else value, details=details))
        return out

    def telemetry(self) -> dict[str, float]:
        c = self._counts
        n = c["samples"]
        return {
            "samples": float(n),
            "batches": float(c["batches"]),
            "truncations": float(c["truncations"]),
            "nan": float(c["nan"]),
            "mean_tokens": c["tokens"] / n if n else 0.0,
            "pad_fraction": 1 - c["tokens"] / c["padded_tokens"] if c["padded_tokens"] else 0.0,
        }

    def close(self) -> None:
        if self.loaded is not None:
            release(self.loaded)
            self.loaded = None


def _normalizer(spec: Any, context: BuildContext) -> Normalizer | None:
    if spec == "none":
        return None
    if isinstance(spec, MeanStd):
        return Normalizer(spec.mean, spec.std)
    if spec == "sigmoid":
        spec = CalibrationRef(method="sigmoid")
    ref = spec if isinstance(spec, CalibrationRef) else CalibrationRef(file=spec)
    if ref.file is None:
        return Normalizer(method=ref.method, floor=ref.positive_floor)
    data = load_calibration(context.resolve(ref.file))
    try:
        return Normalizer.from_calibration(data, ref.method, ref.positive_floor)
    except ConfigError as exc:
        raise ConfigError(f"{exc} ({ref.file})") from None
