"""The SOP model, the state tracker and the order rules (per reply and per dialogue), plus style in context."""

from __future__ import annotations

from typing import Any

import pytest
from repo_sdk_negotiation import NegotiationSOP, NegotiationState
from repo_sdk_negotiation.rules import (
    AcceptAtTarget,
    NoPushAfterAccept,
    OneLanguage,
    ProposalBeforeConfirm,
    RepeatedScript,
    StageOrder,
    TicketsClosed,
)
from repo_sdk_negotiation.rules.dialogue import StageOrderParams, TicketsClosedParams
from repo_sdk_negotiation.rules.style import OneLanguageParams

from repo_sdk.interfaces import Rule, SOPModel
from repo_sdk.testing import make_dialogue, make_sample
from repo_sdk.types import Turn

ONE: dict[str, Any] = {
    "hotel": "Hotel Casa del Sol",
    "city": "Seville",
    "room_type": "Twin Room",
    "current_price": 120,
    "target_price": 95,
}
TWO: dict[str, Any] = {
    "tickets": [
        {"id": "T1", "room_type": "Superior Double Room", "current_price": 150, "target_price": 125},
        {"id": "T2", "room_type": "Junior Suite", "current_price": 220, "target_price": 190},
    ]
}
GREET = ("assistant", "Hello, this is Lena from Wayfarer Trips. Is your Twin Room still at €120 per night?")
CONFIRMED = [("user", "Hotel Casa del Sol, hello."), GREET, ("user", "Yes, that's right.")]
ASKED = [*CONFIRMED, ("assistant", "Could you lower the twin to €100?")]


def evidence(
    rule: Rule, response: str, history: list[tuple[str, str]], task: dict[str, Any] | None = None
) -> list[str]:
    sample = make_sample(response=response, task=ONE if task is None else task, history=history)
    hits = rule.check(sample)
    for h in hits:
        assert h.span is not None and response[h.span[0] : h.span[1]] == h.evidence
    return [h.evidence for h in hits]


def turns(pairs: list[tuple[str, str]]) -> list[Turn]:
    return [Turn(role=r, content=c) for r, c in pairs]  # type: ignore[arg-type]


# --- state ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hotel", "kind", "quotes", "accepts"),
    [
        ("[no reply]", "silent", {}, {}),
        ("...", "silent", {}, {}),
        ("Ok.", "unclear", {}, {}),
        ("Hmm, maybe, let me check with my manager.", "unclear", {}, {}),
        ("Maybe 100 could work, I need to ask my boss.", "unclear", {}, {}),
        ("OK, 100 works for us.", "accept", {}, {"T1": 100.0}),
        ("Deal.", "accept", {}, {"T1": 100.0}),
        ("We can't do 100, but we can do 110.", "quote", {"T1": 110.0}, {}),
        ("We cannot do 100, our best price is 110.", "quote", {"T1": 110.0}, {}),
        ("One hundred and ten euros is the best we can do.", "quote", {"T1": 110.0}, {}),
        ("That's too low, we'd need at least 110.", "quote", {"T1": 110.0}, {}),
        ("Maybe, we could do 100.", "unclear", {}, {}),
        ("100 is too low for us.", "reject", {}, {}),
        ("No, sorry, that's not possible.", "reject", {}, {}),
        ("Sorry, who is this?", "other", {}, {}),
    ],
)
def test_hotel_reading(hotel: str, kind: str, quotes: dict[str, float], accepts: dict[str, float]) -> None:
    state = NegotiationState.replay(ONE, turns(ASKED))
    reading = state.read_hotel(hotel)
    assert (reading.kind, reading.quotes, reading.accepts) == (kind, quotes, accepts)


def test_state_tracks_two_tickets() -> None:
    state = NegotiationState.replay(
        TWO,
        turns(
            [
                ("assistant", "Hello, this is Lena from Wayfarer Trips. Is the Superior Double still at €150?"),
                ("user", "Yes."),
                ("assistant", "Could you do €125 for the superior double?"),
                ("user", "OK, 125 is fine. And the suite could go to 185."),
            ]
        ),
    )
    t1, t2 = state.tickets["T1"], state.tickets["T2"]
    assert (t1.status, t1.accepted_price, t1.confirmed) == ("agreed", 125.0, True)
    assert (t2.status, t2.quotes, t2.confirmed) == ("open", [185.0], True)
    assert state.last_hotel is not None and state.last_hotel.quotes == {"T2": 185.0}


# --- SOP --------------------------------------------------------------------------------------------


def test_sop_is_a_core_sop_model() -> None:
    sop = NegotiationSOP()
    assert isinstance(sop, SOPModel) and sop.name == "negotiation"
    assert sop.stages == ("greet", "confirm_room", "make_case", "propose", "handle_objection", "close", "fallback")


@pytest.mark.parametrize(
    ("history", "response", "stage"),
    [
        ([("user", "Hello?")], "Hello, this is Lena from Wayfarer Trips.", "greet"),
        ([("user", "Hello?")], GREET[1], "confirm_room"),
        (CONFIRMED, "Thank you. Travellers compare twin rooms closely in Seville.", "make_case"),
        (CONFIRMED, "Thank you. Could you lower the twin to €95 per night?", "propose"),
        (
            [*ASKED, ("user", "100 is too low, our costs went up.")],
            "I completely understand your costs.",
            "handle_objection",
        ),
        ([*ASKED, ("user", "100 is too low, our costs went up.")], "I understand. Could we meet at €105?", "propose"),
        ([*ASKED, ("user", "OK, 100 works.")], "Wonderful, thank you!", "close"),
        (
            [*ASKED, ("user", "No, 120 is final.")],
            "No problem, we'll keep the current price. Thank you for your time anyway.",
            "fallback",
        ),
        ([*ASKED, ("user", "OK, 100 works.")], "Thanks! Have a great day!", "close"),
        (CONFIRMED, "Okay.", None),
    ],
)
def test_stage_of(history: list[tuple[str, str]], response: str, stage: str | None) -> None:
    assert NegotiationSOP().stage_of(make_sample(response=response, task=ONE, history=history)) == stage


def test_stages_in_names_the_ticket() -> None:
    sample = make_sample(
        task=TWO,
        history=[
            ("assistant", "Hello, this is Lena from Wayfarer Trips. Is the Superior Double still at €150?"),
            ("user", "Yes."),
            ("assistant", "Could you do €125?"),
            ("user", "OK, 125 is fine."),
        ],
        response="Thank you! Now the Junior Suite: is it still at €220 per night?",
    )
    cues = [(c.stage, c.ticket) for c in NegotiationSOP().stages_in(sample)]
    assert ("confirm_room", "T2") in cues


# --- order rules per reply --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "response", "found"),
    [
        ([("user", "Hello?")], "Hi! Could you lower the twin to €95?", ["€95"]),
        ([("user", "Hello?")], "Hello! Could you lower your rates a bit?", ["lower"]),
        (
            [("user", "Hello?"), ("assistant", "Is your Twin Room still at €120?"), ("user", "[no reply]")],
            "Could you do ninety-five euros?",
            ["ninety-five euros"],
        ),  # silence confirms nothing
        ([("user", "Hello?")], GREET[1], []),
        # stating the purpose is not a proposal
        ([("user", "Hello?")], "Hello, this is Lena. I'd like to talk about a lower rate for your twin.", []),
        (CONFIRMED, "Could you lower the twin to €95?", []),
        ([("user", "Hello, the twin is 120 euros, how can I help?")], "Could you do €95?", []),  # hotel named it
    ],
)
def test_proposal_before_confirm(history: list[tuple[str, str]], response: str, found: list[str]) -> None:
    assert evidence(ProposalBeforeConfirm(), response, history) == found


def test_proposal_before_confirm_per_ticket() -> None:
    history = [
        ("assistant", "Hello, this is Lena from Wayfarer Trips. Is the Superior Double still at €150?"),
        ("user", "Yes, it is."),
    ]
    assert evidence(ProposalBeforeConfirm(), "Could you do €125 for the double?", history, TWO) == []
    assert evidence(ProposalBeforeConfirm(), "And could the Junior Suite go to €190?", history, TWO) == ["€190"]


ACCEPTED = [*ASKED, ("user", "OK, 100 works for us.")]


@pytest.mark.parametrize(
    ("history", "response", "found"),
    [
        (ACCEPTED, "Thanks! Could you go a bit lower, say €95?", ["€95"]),
        (ACCEPTED, "Thank you! Is there any flexibility to go further?", ["any flexibility"]),
        (
            [*ACCEPTED, ("assistant", "Thank you!"), ("user", "You're welcome.")],
            "One more thing: could you do €98?",
            ["€98"],
        ),  # still agreed turns later
        (ACCEPTED, "Thank you for lowering the rate to €100!", []),
        (ACCEPTED, "Wonderful, €100 per night it is. Have a great day!", []),
        (ASKED, "Could you go a bit lower?", []),  # nothing accepted yet
    ],
)
def test_no_push_after_accept(history: list[tuple[str, str]], response: str, found: list[str]) -> None:
    assert evidence(NoPushAfterAccept(), response, history) == found


def test_no_push_after_accept_other_ticket_is_fine() -> None:
    history = [
        ("assistant", "Hello, this is Lena from Wayfarer Trips. Is the Superior Double still at €150?"),
        ("user", "Yes."),
        ("assistant", "Could you do €125?"),
        ("user", "OK, 125 is fine."),
    ]
    assert evidence(NoPushAfterAccept(), "Thank you! Could the Junior Suite come down a bit too?", history, TWO) == []
    assert evidence(NoPushAfterAccept(), "Thank you! Could the double go a bit lower?", history, TWO) == ["lower"]


@pytest.mark.parametrize(
    ("hotel", "response", "found"),
    [
        ("We could do 90 for you.", "Could you make it €85?", ["€85"]),
        ("We could do 90 for you.", "Is there any flexibility?", ["any flexibility"]),
        ("We can do ninety-five.", "Hmm, let me think about it.", ["Hmm, let me think about it."]),
        ("We can do €95.", "Wonderful, 95 works for us!", []),
        ("We could do 90 for you.", "Thank you, we accept €90 per night.", []),
        ("We can do 110.", "Could we meet at €100?", []),  # above target: countering is right
        ("Maybe 90, I need to check.", "Could you make it €85?", []),  # a hedge is not a quote
    ],
)
def test_accept_at_target(hotel: str, response: str, found: list[str]) -> None:
    assert evidence(AcceptAtTarget(), response, [*CONFIRMED, ("user", hotel)]) == found


# --- style in context -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "found"),
    [
        ("好的, we can do €95 per night.", ["好的"]),
        ("Thank you! Спасибо за ответ.", ["Спасибо за ответ"]),
        (
            "Thank you. Merci beaucoup pour votre réponse, nous sommes très contents.",
            ["Merci beaucoup pour votre réponse", "nous sommes très contents."],
        ),
        ("Gracias! Could you do €95?", ["Gracias"]),
        ("Perfetto, grazie mille! Per noi va molto bene il prezzo.", ["grazie", "Per noi va molto bene il prezzo."]),
        ("Thank you for the update on Hotel Casa del Sol in Seville.", []),  # names from the task
        ("The room is en suite, with an à la carte breakfast.", []),  # loanwords
        ("Could you do €95 per night? That would be great.", []),
    ],
)
def test_one_language(response: str, found: list[str]) -> None:
    assert evidence(OneLanguage(), response, CONFIRMED) == found


def test_one_language_task_names_in_other_scripts_and_other_languages() -> None:
    task = {**ONE, "hotel": "桜旅館", "language": "en"}
    assert evidence(OneLanguage(), "Hello, is this 桜旅館?", [], task) == []
    spanish = {**ONE, "language": "es"}
    assert evidence(OneLanguage(), "Hola, ¿podría bajar el precio de la habitación?", [], spanish) == []
    assert evidence(OneLanguage(), "Hola, thank you for your time and your patience.", [], spanish) == [
        "thank you for your time and your patience."
    ]
    assert evidence(OneLanguage(OneLanguageParams(language="zh")), "好的\uff0c我们可以。OK!", [], ONE) == []


PITCH = "Travellers to Seville compare many similar places before booking their stay."


@pytest.mark.parametrize(
    ("history", "response", "found"),
    [
        ([("assistant", PITCH), ("user", "No.")], f"I understand. {PITCH}", [PITCH]),
        (
            [
                ("assistant", "Hello! Could you please confirm the current price of the twin room for us?"),
                ("user", "Sorry?"),
            ],
            "Hello! Could you please confirm the current price of the twin room for me?",
            ["Hello! Could you please confirm the current price of the twin room for me?"],
        ),  # near copy
        ([("assistant", "Thank you!"), ("user", "Welcome.")], "Thank you!", []),  # short courtesy
        (
            [("assistant", "Could you confirm the Superior Double is at €150 per night?"), ("user", "Yes.")],
            "Could you confirm the Junior Suite is at €220 per night?",
            [],
        ),  # same frame, another room
    ],
)
def test_repeated_script(history: list[tuple[str, str]], response: str, found: list[str]) -> None:
    assert evidence(RepeatedScript(), response, history) == found


# --- dialogue rules -----------------------------------------------------------------------------------

TWO_OPEN = [
    ("user", "Hotel Porto, hello."),
    ("assistant", "Hello, this is Lena from Wayfarer Trips. Is the Superior Double still at €150?"),
    ("user", "Yes."),
    ("assistant", "Could you do €125?"),
    ("user", "OK, 125 is fine."),
]


@pytest.mark.parametrize(
    ("extra", "params", "found"),
    [
        ([("assistant", "Thank you, have a great day!")], {}, [(5, "Junior Suite")]),
        ([("assistant", "Thank you! Is the Junior Suite still at €220?")], {}, []),  # not over yet
        ([("assistant", "Thank you! Is the Junior Suite still at €220?")], {"when": "always"}, [(5, "Junior Suite")]),
        (
            [
                ("assistant", "Thanks! And the Junior Suite, is it still €220?"),
                ("user", "Yes."),
                ("assistant", "Could you do €190?"),
                ("user", "No, 220 is final."),
                ("assistant", "I understand, we'll keep the current price for the suite. Have a great day!"),
            ],
            {},
            [],
        ),
        (
            [
                ("assistant", "Thanks! And the Junior Suite, is it still €220?"),
                ("user", "Yes."),
                ("assistant", "Could you do €190?"),
                ("user", "We can do 200."),
                ("assistant", "Great, €200 works for us. Goodbye!"),
            ],
            {},
            [],
        ),
    ],
)
def test_tickets_closed(extra: list[tuple[str, str]], params: dict[str, Any], found: list[tuple[int, str]]) -> None:
    d = make_dialogue([*TWO_OPEN, *extra], task=TWO)
    hits = TicketsClosed(TicketsClosedParams(**params)).check_dialogue(d)
    assert [(h.turn_index, h.evidence) for h in hits] == found
    assert all(h.rule == "negotiation.tickets_closed" and h.points == -20 for h in hits)


@pytest.mark.parametrize(
    ("pairs", "found"),
    [
        ([("user", "Hello."), ("assistant", "Is your Twin Room still at €120?")], [(1, "opens without")]),
        (
            [
                ("user", "Hello."),
                GREET,
                ("user", "Yes."),
                ("assistant", "Hello, this is Lena from Wayfarer Trips again."),
            ],
            [(3, "introduces itself")],
        ),
        (
            [
                ("user", "Hello."),
                GREET,
                ("user", "Sorry, who is this?"),
                ("assistant", "This is Lena from Wayfarer Trips, the travel agency."),
            ],
            [],
        ),  # asked who
        (
            [
                ("user", "Hello."),
                GREET,
                ("user", "Yes, but we are fully booked."),
                ("assistant", "I understand. We'll keep the current price and talk again next season."),
            ],
            [(3, "falls back before")],
        ),
        (
            [
                *ASKED,
                ("user", "No, 120 is final."),
                ("assistant", "I understand. We'll keep the current price and talk again next season."),
            ],
            [],
        ),
        ([("user", "Hello."), ("assistant", "Good morning! Is your Twin Room still at €120?")], []),
    ],
)
def test_stage_order(pairs: list[tuple[str, str]], found: list[tuple[int, str]]) -> None:
    hits = StageOrder().check_dialogue(make_dialogue(pairs, task=ONE))
    assert [(h.turn_index, h.reason[: len(f[1])]) for h, f in zip(hits, found, strict=False)] == found
    assert len(hits) == len(found)


def test_stage_order_params_switch_checks_off() -> None:
    d = make_dialogue([("user", "Hello."), ("assistant", "Is your Twin Room still at €120?")], task=ONE)
    assert StageOrder(StageOrderParams(require_opening=False)).check_dialogue(d) == []


def test_rules_without_a_negotiation_task_stay_quiet() -> None:
    sample = make_sample(response="Could you do €80? Thank you for agreeing!", task={})
    for rule in (ProposalBeforeConfirm(), NoPushAfterAccept(), AcceptAtTarget()):
        assert rule.check(sample) == []
    assert TicketsClosed().check_dialogue(make_dialogue([("assistant", "Bye!")])) == []
    assert StageOrder().check_dialogue(make_dialogue([("assistant", "Bye!")])) == []
