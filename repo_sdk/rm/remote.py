"""The ``rm`` source with ``base_url``: scores through an RM server (vLLM or OpenRLHF-style).

Spec example::

    sources:
      rm:
        type: rm
        base_url: http://gpu-box:8000   # vllm serve <rm> --runner pooling --convert classify
        tokenizer: models/my-rm         # optional: render and truncate here, send token ids
        normalize: models/my-rm/calibration.json

Each sample is rendered as the local RM renders it (:mod:`repo_sdk.rm.render`): with
a ``tokenizer`` folder, by its chat template, truncated to ``max_length`` keeping the
reply, and sent as token ids (or the text, ``input: text``); without one, as chat
messages that vLLM renders with the served model's template (``truncate_prompt_tokens``
keeps the end when ``max_length`` is set), or as plain ``role: content`` text. Prompts
are sorted by length and packed into requests of at most ``max_batch_size`` rows and
``token_budget`` padded tokens, sent ``concurrency`` at a time (bounded over every
process by ``max_concurrency_global`` / ``requests_per_second``). Raw values are
normalised as the local RM's are.

Errors are per sample: a request that fails for good (retries spent, a timeout) gives
its samples ``None`` with the reason; a 4xx for a batch is split in halves until the
bad sample stands alone, so one overlong or malformed prompt never costs the others.
With ``probe`` (the default) the source checks the server answers when it is built.

Example:
    >>> from repo_sdk.rm.fakes import FakeRMServer
    >>> from repo_sdk.testing import make_sample
    >>> with FakeRMServer(scorer=lambda prompt: float(len(prompt))) as server:  # characters, as a reward
    ...     rm = RemoteRMSource.build(base_url=server.url, input="text")
    ...     scores = rm.score([make_sample(response="Deal at 80."), make_sample(response="No.")])
    >>> [s.value for s in scores], rm.telemetry()["requests"]
    ([75.0, 67.0], 1.0)
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from repo_sdk.errors import ConfigError
from repo_sdk.interfaces import BuildContext, RewardSource
from repo_sdk.judge.client import api_key as read_api_key
from repo_sdk.remote import limits
from repo_sdk.remote.client import CallCounters, CallError, JsonClient, RetryPolicy
from repo_sdk.remote.probe import probe_url
from repo_sdk.rm.batching import plan_batches
from repo_sdk.rm.loading import META_FILE
from repo_sdk.rm.normalize import Normalizer
from repo_sdk.rm.remote_config import resolved_input
from repo_sdk.rm.remote_wire import Prompt, Wire
from repo_sdk.rm.render import Encoded, Renderer
from repo_sdk.rm.source import RMConfig, normalizer_for
from repo_sdk.types import Sample, SourceScore

__all__ = ["RemoteRMSource"]

log = logging.getLogger("repo_sdk.rm")
_DEFAULT_TOKEN_BUDGET = 65536


class RemoteRMSource(RewardSource[RMConfig]):
    """Reward model (RM) behind a server: vLLM's ``/classify`` or OpenRLHF's ``/get_reward``."""

    name: ClassVar[str] = "rm"
    kind = "rm"

    def __init__(
        self,
        config: RMConfig,
        *,
        tokenizer: Any = None,
        meta: dict[str, Any] | None = None,
        normalizer: Normalizer | None = None,
        api_key: str | None = None,
        base_dir: Path | None = None,
    ) -> None:
        super().__init__(config)
        assert config.base_url is not None
        self.cfg = config
        self.normalizer = normalizer
        self._api_key = api_key
        self._base_dir = base_dir
        render = (meta or {}).get("render", {})

        def pick(key: str) -> Any:  # spec value if set, else what training recorded, else default
            return getattr(config, key) if key in config.model_fields_set else render.get(key, getattr(config, key))

        self.input = resolved_input(config)
        self.max_length = pick("max_length") if tokenizer is not None else config.max_length
        if tokenizer is not None and self.max_length is None:
            limit = getattr(tokenizer, "model_max_length", None)
            self.max_length = int(limit) if isinstance(limit, int) and 0 < limit < 1_000_000 else None
        self.renderer = Renderer(
            tokenizer,
            task_placement=pick("task_placement"),
            task_template=pick("task_template"),
            max_length=self.max_length if tokenizer is not None else None,
        )
        self.tokenizer = tokenizer
        self.wire = Wire(
            config.protocol, self.input, model=config.model, use_activation=config.use_activation,
            add_special_tokens=not self.renderer.has_chat_template,
            truncate_to=config.max_length if tokenizer is None and config.protocol == "vllm" else None,
        )  # fmt: skip
        self.counters = CallCounters()
        self.client = JsonClient(
            self.wire.url(config.base_url), api_key=api_key, timeout_s=config.timeout_s,
            concurrency=config.concurrency, telemetry=self.counters, transport=config.transport,
            retry=RetryPolicy(config.max_retries, config.backoff_base_s, config.backoff_max_s),
        )  # fmt: skip
        self.client.limit = limits.shared_limit(
            self.client.url, config.model, max_concurrency=config.max_concurrency_global,
            requests_per_second=config.requests_per_second, backend=config.global_limit,
            lease_s=config.timeout_s + 30,
        )  # fmt: skip
        self._counts = {"samples": 0, "requests": 0, "errors": 0, "truncations": 0, "tokens": 0, "with_tokens": 0}

    @classmethod
    def from_config(cls, config: RMConfig, context: BuildContext) -> RemoteRMSource:
        assert config.base_url is not None
        tokenizer: Any = None
        meta: dict[str, Any] = {}
        if config.tokenizer:
            tokenizer, meta = _load_tokenizer(context.resolve(config.tokenizer))
        if config.max_concurrency_global is not None or config.requests_per_second is not None:
            limits.check_backend(config.global_limit)
        source = cls(
            config, tokenizer=tokenizer, meta=meta, normalizer=normalizer_for(config.normalize, context),
            api_key=read_api_key(config.api_key_env), base_dir=context.base_dir,
        )  # fmt: skip
        if config.probe:
            source.check_server()
        return source

    @classmethod
    def build(cls, **params: Any) -> RemoteRMSource:
        """A remote RM from spec parameters, outside any spec (``base_url`` required)."""
        from repo_sdk.plugins import get_registry

        return cls.from_config(RMConfig.model_validate(params), BuildContext(registry=get_registry()))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as config and spec folder (trainers ship reward functions to workers); no second probe."""
        return (_rebuild, (self.cfg.model_copy(update={"probe": False}), str(self._base_dir or Path.cwd())))

    def check_server(self) -> None:
        """Raise a one-line ConfigError when nothing answers at ``base_url`` (one GET of its health path).

        Raises:
            ConfigError: naming the URL and what is wrong.
        """
        root = self.client.url.rsplit("/", 1)[0]
        problem = probe_url(root + "/health", api_key=self._api_key, timeout_s=min(self.cfg.timeout_s, 10.0))
        if problem is not None:
            raise ConfigError(f"rm: base_url {self.cfg.base_url}: {problem}; start the RM server or fix base_url "
                              "(probe: false skips this check)")  # fmt: skip

    # -- scoring ------------------------------------------------------------------------------

    async def ascore(self, samples: Sequence[Sample]) -> list[SourceScore]:
        """Score a batch: render, pack into requests, send them concurrently; failures per sample."""
        if not samples:
            return []
        out: list[SourceScore | None] = [None] * len(samples)
        prompts: dict[int, tuple[Prompt, dict[str, Any], int]] = {}
        for i, sample in enumerate(samples):
            try:
                prompts[i] = self._prompt(sample)
            except Exception as exc:  # a chat template refusing this conversation, say
                out[i] = self._failed(f"rm: cannot render the sample: {type(exc).__name__}: {exc}", {})
        order = list(prompts)
        lengths = [prompts[i][2] for i in order]
        budget = (self.cfg.token_budget or _DEFAULT_TOKEN_BUDGET) if self.tokenizer is not None else 1 << 62
        rows = 1 if self.wire.one_per_request else self.cfg.max_batch_size
        plan = [[order[k] for k in batch] for batch in plan_batches(lengths, budget, rows)]
        async with self.client.session():
            done = await asyncio.gather(*(self._send(batch, prompts) for batch in plan))
        for results in done:
            for i, score in results.items():
                out[i] = score
        self._counts["samples"] += len(samples)
        self._counts["errors"] += sum(1 for s in out if s is None or s.value is None)
        if cut := sum(1 for s in out if s is not None and "truncated" in s.details):
            log.warning("rm: truncated %d of %d inputs to max_length=%s (%d so far); the responses were kept",
                        cut, len(samples), self.max_length, self._counts["truncations"])  # fmt: skip
        scores = [s for s in out if s is not None]
        assert len(scores) == len(samples), "every sample is scored or failed"
        return scores

    def _prompt(self, sample: Sample) -> tuple[Prompt, dict[str, Any], int]:
        """The prompt of a sample, its details (tokens, truncation) and its length for batching."""
        r = self.renderer
        if self.input == "messages":
            messages = r.messages(sample.task, sample.history, sample.response)
            return Prompt(messages=messages, task=sample.task), {}, sum(len(m["content"]) for m in messages)
        if self.tokenizer is None:
            text = r.text(sample)
            return Prompt(text=text, task=sample.task), {}, len(text)
        (enc,) = r.encode([sample])
        if enc.error is not None:
            raise ValueError(enc.error)
        details = _token_details(enc)
        self._counts["tokens"] += len(enc.ids)
        self._counts["with_tokens"] += 1
        if enc.truncated:
            self._counts["truncations"] += 1
        if self.input == "tokens":
            return Prompt(ids=enc.ids, task=sample.task), details, len(enc.ids)
        if not enc.truncated:
            return Prompt(text=r.text(sample), task=sample.task), details, len(enc.ids)
        # a chat template's special tokens are its text; a plain rendering's the server adds again
        text = self.tokenizer.decode(enc.ids, skip_special_tokens=not r.has_chat_template)
        return Prompt(text=text, task=sample.task), details, len(enc.ids)

    async def _send(
        self, batch: list[int], prompts: dict[int, tuple[Prompt, dict[str, Any], int]]
    ) -> dict[int, SourceScore]:
        """Scores of one request's samples; a 4xx for several is split until the bad one stands alone."""
        self._counts["requests"] += 1
        body = self.wire.body([prompts[i][0] for i in batch])
        try:
            answer = await self.client.call(body, lambda raw: self.wire.read(raw, len(batch)))
        except CallError as exc:
            if exc.kind == "client_errors" and len(batch) > 1:
                half = len(batch) // 2
                parts = await asyncio.gather(self._send(batch[:half], prompts), self._send(batch[half:], prompts))
                return parts[0] | parts[1]
            return {i: self._failed(f"rm server: {exc.reason}", prompts[i][1]) for i in batch}
        out = {}
        for i, value in zip(batch, answer.value, strict=True):
            details = {**prompts[i][1], "calls": answer.calls}
            if isinstance(value, str):
                out[i] = self._failed(value, details)
                continue
            details["raw"] = value
            out[i] = SourceScore(value=self.normalizer(value) if self.normalizer else value, details=details)
        return out

    def _failed(self, reason: str, details: dict[str, Any]) -> SourceScore:
        return SourceScore(value=None, reason=reason, details={**details, "error": reason})

    def telemetry(self) -> dict[str, float]:
        c, calls = self._counts, self.counters
        return {
            "samples": float(c["samples"]),
            "requests": float(c["requests"]),
            "calls": float(calls.calls),
            "retries": float(calls.retries),
            "errors": float(c["errors"]),
            "timeouts": float(calls.timeouts),
            "server_errors": float(calls.server_errors),
            "connection_errors": float(calls.connection_errors),
            "truncations": float(c["truncations"]),
            "mean_tokens": c["tokens"] / c["with_tokens"] if c["with_tokens"] else 0.0,
            "latency_mean_s": calls.latency_total_s / calls.answered if calls.answered else 0.0,
        }


def _token_details(enc: Encoded) -> dict[str, Any]:
    details: dict[str, Any] = {"tokens": len(enc.ids)}
    if enc.truncated:
        details["truncated"] = {"dropped_turns": enc.dropped_turns, "cut_tokens": enc.cut_tokens,
                                "full_length": enc.full_length}  # fmt: skip
    return details


def _load_tokenizer(path: Path) -> tuple[Any, dict[str, Any]]:
    """The tokenizer in ``path`` and the ``repo_rm.json`` that ``rm train`` wrote there (if any)."""
    if not path.is_dir():
        raise ConfigError(f"rm: tokenizer folder {path} does not exist")
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except Exception as exc:
        raise ConfigError(f"rm: cannot load the tokenizer in {path}: {type(exc).__name__}: {exc}") from None
    meta_file = path / META_FILE
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
    return tokenizer, meta


def _rebuild(config: RMConfig, base_dir: str) -> RemoteRMSource:
    from repo_sdk.plugins import get_registry

    return RemoteRMSource.from_config(config, BuildContext(registry=get_registry(), base_dir=Path(base_dir)))
