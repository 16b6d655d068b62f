"""Which ``rm`` keys go with a local RM (``path``) and which with a remote one (``base_url``).

One ``type: rm`` serves both: ``path`` loads the model in-process, ``base_url`` scores
through a server. Rendering (``task_placement``, ``task_template``, ``max_length``),
batching (``max_batch_size``, ``token_budget``) and ``normalize`` mean the same for
both. A key that only one of them reads, set for the other, is an error naming the
key and its value, as is a combination the server's protocol cannot carry.

Example:
    >>> from repo_sdk.rm.source import RMConfig
    >>> RMConfig(base_url="http://gpu-box:8000", tokenizer="models/rm").input
    'auto'
    >>> from repo_sdk.config import load
    >>> from repo_sdk.errors import ConfigError
    >>> try:
    ...     load({"sources": {"rm": {"type": "rm", "path": "models/rm", "timeout_s": 5}}})
    ... except ConfigError as exc:
    ...     print(exc)
    <spec>: sources.rm.timeout_s: applies to a remote RM (base_url), not to path 'models/rm' (got 5.0)
"""

from __future__ import annotations

from typing import Any, Literal

from repo_sdk.errors import SpecError

__all__ = ["LOCAL_KEYS", "REMOTE_KEYS", "check_rm_config", "resolved_input"]

#: keys only a model loaded in this process reads
LOCAL_KEYS = ("device", "dtype")
#: keys only a remote RM reads
REMOTE_KEYS = (
    "protocol", "model", "tokenizer", "input", "use_activation", "api_key_env", "concurrency", "timeout_s",
    "max_retries", "backoff_base_s", "backoff_max_s", "transport", "probe", "max_concurrency_global",
    "requests_per_second", "global_limit",
)  # fmt: skip


def resolved_input(cfg: Any) -> Literal["tokens", "text", "messages"]:
    """``input`` with ``auto`` resolved: tokens with a tokenizer (vllm), text for openrlhf, else messages."""
    if cfg.input != "auto":
        return cfg.input
    if cfg.protocol == "openrlhf":
        return "text"
    return "tokens" if cfg.tokenizer else "messages"


def check_rm_config(cfg: Any) -> None:
    """Raise a located error for the first key that does not fit (see the module docs)."""

    def fail(key: str, message: str) -> None:
        raise SpecError((key,), f"{message} (got {getattr(cfg, key)!r})")

    if cfg.path is None and cfg.base_url is None:
        raise SpecError(("path",), "path (a local model folder) or base_url (an RM server) is required")
    if cfg.path is not None and cfg.base_url is not None:
        fail("base_url", f"base_url and path {cfg.path!r} exclude each other: a local RM or a server, not both")
    given = cfg.model_fields_set
    if cfg.path is not None:
        for key in REMOTE_KEYS:
            if key in given:
                fail(key, f"applies to a remote RM (base_url), not to path {cfg.path!r}")
        return
    if not cfg.base_url.startswith(("http://", "https://")):
        fail("base_url", "must start with http:// or https://")
    for key in LOCAL_KEYS:
        if key in given:
            fail(key, "applies to a local RM (path); the server at base_url runs the model")
    sent = resolved_input(cfg)
    if cfg.protocol == "openrlhf":
        if sent != "text":
            fail("input", "protocol openrlhf sends text queries (input: text)")
        for key in ("model", "use_activation"):
            if key in given:
                fail(key, "is a vLLM request field; protocol openrlhf sends only the queries")
    if not cfg.tokenizer:
        if sent == "tokens":
            fail("input", "input tokens needs tokenizer (the folder of the RM's tokenizer)")
        if cfg.token_budget is not None:
            fail("token_budget", "needs tokenizer: without one the token counts are the server's")
        if cfg.max_length is not None and cfg.protocol == "openrlhf":
            fail("max_length", "needs tokenizer with protocol openrlhf (its server cuts at its own --data.max_len)")
    elif sent == "messages":
        fail("input", "input messages lets the server render and truncate: drop tokenizer, or send tokens or text")
