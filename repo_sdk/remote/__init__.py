"""Talking to model servers: HTTP transports, a retrying JSON client, limits shared across processes.

The judge (:mod:`repo_sdk.judge`) and the remote reward model (:mod:`repo_sdk.rm.remote`)
both call servers through :class:`~repo_sdk.remote.client.JsonClient`; a
:func:`~repo_sdk.remote.limits.shared_limit` bounds the load on one server over every
process and Ray actor (docs/judge.md, "Limits shared across processes").

Example:
    >>> from repo_sdk.remote import RetryPolicy
    >>> RetryPolicy(max_retries=2).delay(0, retry_after=1.0) >= 1.0
    True
"""

from __future__ import annotations

from repo_sdk.remote.client import Answer, CallCounters, CallError, JsonClient, RetryPolicy, Unreadable
from repo_sdk.remote.limits import SharedLimit, limit_key, shared_limit
from repo_sdk.remote.probe import probe_url

__all__ = [
    "Answer",
    "CallCounters",
    "CallError",
    "JsonClient",
    "RetryPolicy",
    "SharedLimit",
    "Unreadable",
    "limit_key",
    "probe_url",
    "shared_limit",
]
