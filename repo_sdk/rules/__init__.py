"""The built-in guardrail pack (RF rules). Each module holds one family of rules.

Every rule compiles its patterns when built, returns hits with points (negative by
default), a reason, a span into the reply and the evidence text. The reference is
``docs/rules.md``; the shared text helpers (number extraction above all) live in
:mod:`repo_sdk.rules.text` for plugins to reuse, and what rules of a spec share per
reply and per dialogue (:class:`TextView`, :class:`TurnContext`, :class:`DialogueContext`,
:class:`DialogueTracker`) in :mod:`repo_sdk.rules.views` and :mod:`repo_sdk.rules.context`.

Example:
    >>> from repo_sdk.testing import make_sample
    >>> sample = make_sample(response="Okay, so the user wants a ticket. ## Offer")
    >>> sorted({h.rule for cls in BUILTIN_RULES for h in cls().check(sample)})
    ['cot_leak', 'forbidden_terms']
"""

from __future__ import annotations

from typing import Any

from repo_sdk.hookspecs import hookimpl
from repo_sdk.interfaces import Rule
from repo_sdk.rules.base import RuleParams, cap_hits
from repo_sdk.rules.context import DialogueContext, DialogueTracker, TurnContext
from repo_sdk.rules.cot import CotLeak, CotLeakParams
from repo_sdk.rules.empty import EmptyReply, EmptyReplyParams
from repo_sdk.rules.flattery import Flattery, FlatteryParams
from repo_sdk.rules.format import FormatBreakage, FormatBreakageParams
from repo_sdk.rules.injection import JudgeInjection, JudgeInjectionParams
from repo_sdk.rules.length import MaxLength, MaxLengthParams
from repo_sdk.rules.numeric import NumericConsistency, NumericConsistencyParams
from repo_sdk.rules.padding import Padding, PaddingParams
from repo_sdk.rules.repetition import Repetition, RepetitionParams
from repo_sdk.rules.script import MixedScript, MixedScriptParams
from repo_sdk.rules.terms import ForbiddenTerms, ForbiddenTermsParams, Term
from repo_sdk.rules.text import NumberMention, extract_numbers, normalize_currency
from repo_sdk.rules.views import TextView

__all__ = [
    "BUILTIN_RULES",
    "CotLeak",
    "CotLeakParams",
    "DialogueContext",
    "DialogueTracker",
    "EmptyReply",
    "EmptyReplyParams",
    "Flattery",
    "FlatteryParams",
    "ForbiddenTerms",
    "ForbiddenTermsParams",
    "FormatBreakage",
    "FormatBreakageParams",
    "JudgeInjection",
    "JudgeInjectionParams",
    "MaxLength",
    "MaxLengthParams",
    "MixedScript",
    "MixedScriptParams",
    "NumberMention",
    "NumericConsistency",
    "NumericConsistencyParams",
    "Padding",
    "PaddingParams",
    "Repetition",
    "RepetitionParams",
    "RuleParams",
    "Term",
    "TextView",
    "TurnContext",
    "cap_hits",
    "extract_numbers",
    "normalize_currency",
]

BUILTIN_RULES: tuple[type[Rule], ...] = (
    ForbiddenTerms,
    CotLeak,
    MixedScript,
    Repetition,
    MaxLength,
    FormatBreakage,
    NumericConsistency,
    EmptyReply,
    JudgeInjection,
    Flattery,
    Padding,
)


@hookimpl
def register_rules(register: Any) -> None:
    for cls in BUILTIN_RULES:
        register(cls)
