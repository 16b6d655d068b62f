"""The built-in guardrail pack (RF rules). Each module holds a few related rules."""

from __future__ import annotations

from typing import Any

from repo_sdk.hookspecs import hookimpl
from repo_sdk.rules.cot import CotLeak
from repo_sdk.rules.length import MaxLength

__all__ = ["BUILTIN_RULES", "CotLeak", "MaxLength"]

BUILTIN_RULES = (CotLeak, MaxLength)


@hookimpl
def register_rules(register: Any) -> None:
    for cls in BUILTIN_RULES:
        register(cls)
