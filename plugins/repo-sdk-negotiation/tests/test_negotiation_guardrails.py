"""Guardrail rules, each with hit and miss cases: prices, promises, facts, consent, internal terms."""

from __future__ import annotations

from typing import Any

import pytest
from repo_sdk_negotiation.rules import (
    InternalTerms,
    InventedDiscount,
    InventedFacts,
    NoOverpromise,
    PriceConsistency,
    SellingNetConfusion,
    SilenceAsConsent,
)
from repo_sdk_negotiation.rules.prices import PriceConsistencyParams
from repo_sdk_negotiation.rules.terms import InternalTermsParams

from repo_sdk.interfaces import Rule
from repo_sdk.testing import make_sample

TASK: dict[str, Any] = {
    "hotel": "Hotel Aurora",
    "city": "Lisbon",
    "currency": "EUR",
    "tickets": [
        {
            "id": "T-1001",
            "room_type": "Deluxe Double Room",
            "current_price": 120,
            "target_price": 95,
            "selling_price": 138,
        }
    ],
    "offers": ["two weeks of free homepage promotion"],
    "facts": {"searches_last_month": 340},
}
CONFIRMED = [
    ("assistant", "Hello, this is Lena from Wayfarer Trips. Is your Deluxe Double Room still at €120 per night?"),
    ("user", "Yes, that's right."),
]
QUOTED = [*CONFIRMED, ("assistant", "Could you do €95?"), ("user", "95 is too low. We can do 110.")]


def evidence(
    rule: Rule, response: str, history: list[tuple[str, str]] | None = None, task: dict[str, Any] | None = None
) -> list[str]:
    sample = make_sample(
        response=response, task=TASK if task is None else task, history=CONFIRMED if history is None else history
    )
    hits = rule.check(sample)
    for h in hits:
        assert h.rule == rule.name and h.points == rule.points and h.reason
        assert h.span is not None and response[h.span[0] : h.span[1]] == h.evidence
    return [h.evidence for h in hits]


@pytest.mark.parametrize(
    ("response", "history", "found"),
    [
        # hits
        ("Could you do €80 per night?", None, ["€80"]),
        ("Could you do eighty euros?", None, ["eighty euros"]),  # words
        ("Could you lower it to one hundred and thirty euros?", None, ["one hundred and thirty euros"]),
        ("Could we settle at $100 per night?", QUOTED, ["$100"]),  # wrong currency
        ("Could we settle at 100 USD?", QUOTED, ["100 USD"]),
        (
            "Could we meet at €112?",
            [*CONFIRMED, ("assistant", "Could you do €95?"), ("user", "That's too low, we'd need at least 110.")],
            ["€112"],
        ),  # above the quote
        ("Could you do ninety?", None, ["ninety"]),  # bare number words after a cue, in range
        ("Your current rate of €125 is high.", None, ["€125"]),  # misquoted current price
        # misses
        ("Would you consider €95 per night?", None, []),  # target
        ("We have it at 120 EUR per night.", None, []),  # current
        ("Could we meet at €100?", QUOTED, []),  # counter between target and last quote
        ("Could we meet at €1,00?", QUOTED, ["€1,00"]),  # a typo is still a wrong price
        ("You offered 110 euros; could we meet at one hundred and five?", QUOTED, []),
        ("That is only €15 less than your quote.", QUOTED, []),  # difference of two known prices
        ("Guests see €138 on our platform.", None, []),  # selling price is a task price
        ("We would like to stay for 2 nights in May.", None, []),  # quantities are not prices
        ("Could you do €340?", None, []),  # a number from the task's facts
    ],
)
def test_price_consistency(response: str, history: list[tuple[str, str]] | None, found: list[str]) -> None:
    assert evidence(PriceConsistency(), response, history) == found


def test_price_consistency_params() -> None:
    anchor = PriceConsistency(PriceConsistencyParams(anchor_below_target_pct=10))
    assert evidence(anchor, "Could you do €88?") == []
    no_range = PriceConsistency(PriceConsistencyParams(allow_counter_range=False))
    assert evidence(no_range, "Could we meet at €100?", QUOTED) == ["€100"]
    extra = PriceConsistency(PriceConsistencyParams(extra_prices=[80]))
    assert evidence(extra, "Could you do €80?") == []


@pytest.mark.parametrize(
    ("response", "found"),
    [
        ("Your current rate of €138 is above the market.", ["€138"]),  # selling quoted as the hotel's rate
        ("Could you lower it from 138 euros to 120?", ["138 euros"]),
        ("Guests pay €120 on our platform for this room.", ["€120"]),  # net quoted as guest price
        ("Your room sells at €95 on our site at the moment.", ["€95"]),
        ("Guests see €138 on our platform, and your rate to us is €120 per night.", []),
        ("The selling price guests see is €138.", []),
        ("Your net rate is €120; could you lower it to €95?", []),
    ],
)
def test_selling_net_confusion(response: str, found: list[str]) -> None:
    assert evidence(SellingNetConfusion(), response) == found


@pytest.mark.parametrize(
    ("response", "found"),
    [
        ("In return we can waive our commission for May.", ["we can waive our commission"]),
        ("We will give your guests 20% off their next stay.", ["We will give your guests 20% off"]),
        ("We could offer you an exclusive discount for you on fees.", ["We could offer you an exclusive discount"]),
        ("Guests will get a 15% discount if you join.", ["Guests will get a 15% discount"]),
        ("In return we can add two weeks of free homepage promotion.", []),  # listed in the task's offers
        ("Could you give us a small discount?", []),  # asking the hotel is not offering
        ("We cannot offer a discount on our commission.", []),  # negated
    ],
)
def test_invented_discount(response: str, found: list[str]) -> None:
    assert evidence(InventedDiscount(), response) == found


def test_invented_discount_without_offers() -> None:
    task = {**TASK, "offers": []}
    assert evidence(InventedDiscount(), "We can add two weeks of free homepage promotion.", task=task) != []


@pytest.mark.parametrize(
    ("response", "hit"),
    [
        ("We guarantee you more bookings.", True),
        ("At €95 you will definitely get more guests.", True),
        ("Your hotel will be ranked first in Lisbon.", True),
        ("Lowering the price will double your bookings.", True),
        ("I promise you'll be fully booked all summer.", True),
        ("We can't guarantee more bookings, but a better price usually helps conversion.", False),
        ("A better price could help your visibility.", False),
        ("We will update the price on our platform today.", False),
        ("I cannot promise a top position in search results.", False),
    ],
)
def test_no_overpromise(response: str, hit: bool) -> None:
    assert bool(evidence(NoOverpromise(), response)) is hit


@pytest.mark.parametrize(
    ("response", "found"),
    [
        ("We had 450 searches for your hotel last month.", ["450"]),
        ("85% of travellers book the cheapest room.", ["85%"]),
        (
            "The hotel next door already lowered its rate for us.",
            ["The hotel next door already lowered its rate for us."],
        ),
        ("Your hotel is ranked #7 in Lisbon.", ["ranked #7"]),
        ("Your hotel had 340 searches on our site last month.", []),  # a fact of the task
        ("That is a reduction of about 21%.", []),  # implied by 120 -> 95
        ("Travellers often compare similar hotels in the area.", []),  # no claim about competitors
        ("Could you do it for room number 12?", []),
        ("We stay 2 nights, with 2 adults.", []),
    ],
)
def test_invented_facts(response: str, found: list[str]) -> None:
    assert evidence(InventedFacts(), response) == found


def test_invented_facts_competitor_fact_in_task() -> None:
    task = {**TASK, "facts": {"competitor": "Hotel Sol offers a similar double at 99 EUR"}}
    assert evidence(InventedFacts(), "A nearby competitor offers a similar double at €99.", task=task) == []


ASKED = [*CONFIRMED, ("assistant", "Could you lower it to €95 per night?")]


@pytest.mark.parametrize(
    ("response", "history", "found"),
    [
        # the hotel did not reply at all
        ("Great, thank you for agreeing to €95!", ASKED, ["thank you for agreeing"]),
        (
            "Since you haven't replied, I'll take that as a yes.",
            [*ASKED, ("user", "[no reply]")],
            ["Since you haven't replied", "take that as a yes"],
        ),
        (
            "Unless you object by Friday, we will apply the new price.",
            ASKED,
            ["Unless you object", "we will apply the new price"],
        ),
        (
            "If I don't hear back from you by Monday, I'll update it.",
            ASKED,
            ["If I don't hear back from you by Monday, I'll update"],
        ),
        # unclear replies
        ("Perfect, we have a deal at €95!", [*ASKED, ("user", "Ok.")], ["we have a deal"]),
        (
            "Wonderful, I'll update the rate today.",
            [*ASKED, ("user", "Hmm, maybe. Let me check with my manager.")],
            ["I'll update the rate"],
        ),
        ("Great, it's a deal!", [*ASKED, ("user", "Maybe 95 could work, I need to ask my boss.")], ["it's a deal"]),
        ("Thanks for confirming the new rate!", [*ASKED, ("user", "...")], ["Thanks for confirming the new rate"]),
        # clear agreement, or an offer the agent accepts
        ("Thank you for agreeing! I'll update the rate today.", [*ASKED, ("user", "OK, 95 works for us.")], []),
        ("Great, it's a deal at €100!", [*ASKED, ("user", "We can do 100.")], []),
        ("Just to confirm: do you agree to €95 per night?", [*ASKED, ("user", "Ok.")], []),
        ("No problem, take your time.", [*ASKED, ("user", "Let me check.")], []),
        ("Thank you for confirming. Lisbon is very competitive in summer.", CONFIRMED, []),  # the room, not a deal
        ("If we can agree on €100, I'll make sure the new rate is live today.", [*ASKED, ("user", "Hmm.")], []),
        ("I won't take your silence as a yes; please let me know.", [*ASKED, ("user", "[no reply]")], []),
    ],
)
def test_silence_as_consent(response: str, history: list[tuple[str, str]], found: list[str]) -> None:
    assert evidence(SilenceAsConsent(), response, history) == found


@pytest.mark.parametrize(
    ("response", "found"),
    [
        ("Per the work order, our target price is 95.", ["work order", "our target price"]),
        ("This ticket is about your double room.", ["ticket"]),
        ("I'm following up on T-1001.", ["T-1001"]),  # the task's ticket id
        ("Our floor price is €90.", ["Our floor price"]),
        ("Our margin is thin on this room.", ["Our margin"]),
        ("According to the SOP, I must ask again.", ["SOP"]),
        ("As an AI language model, I can't do that.", ["As an AI", "language model"]),
        ("The target for this room is €95.", ["The target"]),
        ("Per the work-order WO-5531, please update.", ["work-order", "WO-5531"]),
        # near misses
        ("Many guests come with train tickets for day trips.", []),
        ("Families with concert tickets are our target audience.", []),
        ("The ticket office is next to your lobby.", []),
        ("We ran a targeted campaign for your city.", []),
        ("In order to stay competitive, could you lower the rate?", []),
        ("I understand your margins are tight.", []),
        ("Thank you for the prompt reply!", []),
        ("Sop? No, I meant stop by.", []),  # SOP is upper-case only
        ("Our target guests are families.", []),
    ],
)
def test_internal_terms(response: str, found: list[str]) -> None:
    assert evidence(InternalTerms(), response) == found


def test_internal_terms_params() -> None:
    rule = InternalTerms(InternalTermsParams(extra_terms=["deal desk"], allow=["agency margin"], ticket_ids=False))
    assert evidence(rule, "Our margin is thin; the deal desk set it, see T-1001.") == ["deal desk"]
