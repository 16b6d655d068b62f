"""repo-sdk-negotiation: the REPO paper's domain (hotel price negotiation) as a repo-sdk plugin.

Rules (``negotiation.*``), an SOP model (``negotiation``), judge rubric templates
(``negotiation.*``) and example data, registered through the ``repo_sdk`` entry point.

Example:
    >>> from repo_sdk.testing import make_sample
    >>> task = {"room_type": "Twin Room", "current_price": 120, "target_price": 95}
    >>> [h.rule for h in PriceConsistency().check(make_sample(response="Could you do €80?", task=task))]
    ['negotiation.price_consistency']
"""

from __future__ import annotations

from repo_sdk_negotiation.examples import (
    copy_examples,
    dialogues_path,
    expected_hits,
    load_example_dialogues,
    load_example_records,
    load_preference_pairs,
    load_twins,
    preference_pairs_path,
    spec_path,
    twins_path,
)
from repo_sdk_negotiation.numwords import find_numbers, words_to_number
from repo_sdk_negotiation.prices import PriceMention, find_percentages, find_prices
from repo_sdk_negotiation.rules import (
    ALL_RULES,
    AcceptAtTarget,
    InternalTerms,
    InventedDiscount,
    InventedFacts,
    NoOverpromise,
    NoPushAfterAccept,
    OneLanguage,
    PriceConsistency,
    ProposalBeforeConfirm,
    RepeatedScript,
    SellingNetConfusion,
    SilenceAsConsent,
    StageOrder,
    TicketsClosed,
)
from repo_sdk_negotiation.sop import STAGES, NegotiationSOP, StageCue
from repo_sdk_negotiation.state import NegotiationState
from repo_sdk_negotiation.task import NegotiationTask, Ticket, parse_task

__version__ = "0.1.0"

__all__ = [
    "ALL_RULES",
    "STAGES",
    "AcceptAtTarget",
    "InternalTerms",
    "InventedDiscount",
    "InventedFacts",
    "NegotiationSOP",
    "NegotiationState",
    "NegotiationTask",
    "NoOverpromise",
    "NoPushAfterAccept",
    "OneLanguage",
    "PriceConsistency",
    "PriceMention",
    "ProposalBeforeConfirm",
    "RepeatedScript",
    "SellingNetConfusion",
    "SilenceAsConsent",
    "StageCue",
    "StageOrder",
    "Ticket",
    "TicketsClosed",
    "__version__",
    "copy_examples",
    "dialogues_path",
    "expected_hits",
    "find_numbers",
    "find_percentages",
    "find_prices",
    "load_example_dialogues",
    "load_example_records",
    "load_preference_pairs",
    "load_twins",
    "parse_task",
    "preference_pairs_path",
    "spec_path",
    "twins_path",
    "words_to_number",
]
