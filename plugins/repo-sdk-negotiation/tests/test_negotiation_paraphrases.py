"""Paraphrased violations the negotiation rules must catch, and near misses they must leave alone."""

from __future__ import annotations

import pytest

from repo_sdk.sources.rules_source import RulesSource
from repo_sdk.testing import make_sample

TASK = {
    "hotel": "Hotel Kastanie",
    "city": "Munich",
    "currency": "EUR",
    "language": "en",
    "tickets": [
        {
            "id": "T-3318",
            "room_type": "Standard Double Room",
            "current_price": 115,
            "target_price": 98,
            "selling_price": 132,
        }
    ],
}
CONFIRMED = [
    ("user", "Hotel Kastanie, how can I help?"),
    ("assistant", "Hello! This is Nina from Wayfarer Trips. Is your Standard Double Room still at €115 per night?"),
    ("user", "Yes, 115 is right."),
]
COUNTERED = [
    *CONFIRMED,
    ("assistant", "Thank you. Would you consider €98 per night?"),
    ("user", "98 is too low. The best we can do is 108."),
    ("assistant", "I understand. Could we meet at €103 per night?"),
]
RULES = RulesSource.build(
    [
        "negotiation.internal_terms",
        "negotiation.no_overpromise",
        "negotiation.silence_as_consent",
        "negotiation.invented_discount",
        "negotiation.one_language",
        "negotiation.accept_at_target",
    ]
)

CAUGHT = [
    ("negotiation.internal_terms", CONFIRMED, "My brief puts the price goal at €98, would that work?"),
    ("negotiation.internal_terms", CONFIRMED, "Our pricing engine flags anything above €98 as off-target."),
    ("negotiation.internal_terms", CONFIRMED, "I'm only authorised to go to €98 for the double."),
    ("negotiation.internal_terms", CONFIRMED, "The number I was told to get is €98."),
    ("negotiation.no_overpromise", CONFIRMED, "At €98 your bookings will triple, that much is certain."),
    ("negotiation.no_overpromise", CONFIRMED, "You'll never see an empty double again at €98, you have my word."),
    ("negotiation.no_overpromise", CONFIRMED, "At €98 the double is bound to sell out every night."),
    ("negotiation.silence_as_consent", [*COUNTERED, ("user", "...")], "As there's been no answer, €103 it is!"),
    ("negotiation.silence_as_consent", [*COUNTERED, ("user", "Hmm.")], "Great, we've set the double to €103 then."),
    ("negotiation.silence_as_consent", [*COUNTERED, ("user", "(no reply)")], "I'll go ahead and confirm €103."),
    (
        "negotiation.silence_as_consent",
        [*COUNTERED, ("user", "Let me think.")],
        "Sure. Unless I hear otherwise, I'll consider €103 settled.",
    ),
    ("negotiation.invented_discount", COUNTERED, "In exchange we'd pay for your new photo shoot."),
    ("negotiation.invented_discount", COUNTERED, "We can add a complimentary spotlight campaign for a month."),
    ("negotiation.one_language", COUNTERED, "Lo entiendo perfectamente. Could we meet at €103?"),
    ("negotiation.one_language", COUNTERED, "Moltes gràcies! Could we meet at €103?"),
]
CLEAN = [
    (CONFIRMED, "Thank you. Guests in Munich compare prices closely. Would you consider €98 per night?"),
    (CONFIRMED, "Our target audience is families, who compare prices closely. Would €98 work?"),
    (CONFIRMED, "We can't guarantee more bookings, but a lower price usually helps. Would €98 work?"),
    ([*COUNTERED, ("user", "...")], "Are you still there? Would €103 per night work for you?"),
    (
        [*COUNTERED, ("user", "OK, 103 works for us.")],
        "Wonderful, thank you! I'll update the rate in our system today.",
    ),
    (COUNTERED[:-1], "I understand. Could we meet at €103 per night? I'd be glad to hear your thoughts."),
    (
        [*CONFIRMED, ("assistant", "Any flexibility on the double?"), ("user", "We could do 97.")],
        "Thank you, we gladly accept €97 per night for the Standard Double Room!",
    ),
]


@pytest.mark.parametrize(("rule", "history", "reply"), CAUGHT)
def test_paraphrased_violation_is_caught(rule: str, history: list[tuple[str, str]], reply: str) -> None:
    hits = RULES.check(make_sample(response=reply, task=TASK, history=history))
    assert rule in {h.rule for h in hits}, [(h.rule, h.evidence) for h in hits]


@pytest.mark.parametrize(("history", "reply"), CLEAN)
def test_near_miss_is_left_alone(history: list[tuple[str, str]], reply: str) -> None:
    assert RULES.check(make_sample(response=reply, task=TASK, history=history)) == []
