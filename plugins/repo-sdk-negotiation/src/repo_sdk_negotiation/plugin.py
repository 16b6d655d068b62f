"""The module the ``repo_sdk`` entry point names: registers rules, the SOP model and judge templates.

Example:
    >>> from repo_sdk.plugins import get_registry
    >>> reg = get_registry()  # with the package installed, its entry point is found
    >>> "negotiation.price_consistency" in reg.rules or "entry point not installed"
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from repo_sdk import hookimpl
from repo_sdk_negotiation.rules import ALL_RULES
from repo_sdk_negotiation.sop import NegotiationSOP

__all__ = ["TEMPLATES_DIR", "register_rules", "register_sops", "register_templates"]

TEMPLATES_DIR = Path(__file__).parent / "templates"


@hookimpl
def register_rules(register: Any) -> None:
    for cls in ALL_RULES:
        register(cls)


@hookimpl
def register_sops(register: Any) -> None:
    register(NegotiationSOP)


@hookimpl
def register_templates(register: Any) -> None:
    for path in sorted(TEMPLATES_DIR.glob("*.j2")):
        register(f"negotiation.{path.stem}", path)
