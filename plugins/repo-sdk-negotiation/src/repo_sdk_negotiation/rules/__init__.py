"""The negotiation guardrail rules (RF), all registered under the ``negotiation.`` prefix."""

from __future__ import annotations

from repo_sdk_negotiation.rules.claims import InventedFacts, NoOverpromise
from repo_sdk_negotiation.rules.consent import SilenceAsConsent
from repo_sdk_negotiation.rules.dialogue import StageOrder, TicketsClosed
from repo_sdk_negotiation.rules.flow import AcceptAtTarget, NoPushAfterAccept, ProposalBeforeConfirm
from repo_sdk_negotiation.rules.prices import InventedDiscount, PriceConsistency, SellingNetConfusion
from repo_sdk_negotiation.rules.style import OneLanguage, RepeatedScript
from repo_sdk_negotiation.rules.terms import InternalTerms

__all__ = [
    "ALL_RULES",
    "AcceptAtTarget",
    "InternalTerms",
    "InventedDiscount",
    "InventedFacts",
    "NoOverpromise",
    "NoPushAfterAccept",
    "OneLanguage",
    "PriceConsistency",
    "ProposalBeforeConfirm",
    "RepeatedScript",
    "SellingNetConfusion",
    "SilenceAsConsent",
    "StageOrder",
    "TicketsClosed",
]

ALL_RULES = (
    PriceConsistency,
    SellingNetConfusion,
    InventedDiscount,
    NoOverpromise,
    InventedFacts,
    SilenceAsConsent,
    InternalTerms,
    ProposalBeforeConfirm,
    NoPushAfterAccept,
    AcceptAtTarget,
    OneLanguage,
    RepeatedScript,
    TicketsClosed,
    StageOrder,
)
