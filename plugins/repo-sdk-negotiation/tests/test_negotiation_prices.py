"""Number words, digits, prices and percentages in free text, and the task schema."""

from __future__ import annotations

import pytest
from repo_sdk_negotiation.numwords import find_numbers, parse_digits, words_to_number
from repo_sdk_negotiation.prices import currency_matches, find_percentages, find_prices
from repo_sdk_negotiation.task import parse_task, task_numbers


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("ninety-five", 95),
        ("Ninety Five", 95),
        ("eighty", 80),
        ("twelve", 12),
        ("a hundred", 100),
        ("one hundred and twenty-five", 125),
        ("one hundred ten", 110),
        ("two thousand five hundred", 2500),
        ("one thousand and five", 1005),
        ("twenty-one thousand", 21000),
        ("a thousand", 1000),
        ("nice", None),
        ("ninety-five euros", None),  # not only a number
        ("", None),
    ],
)
def test_words_to_number(text: str, value: int | None) -> None:
    assert words_to_number(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("95", 95.0),
        ("95.50", 95.5),
        ("95,50", 95.5),
        ("1,250", 1250.0),
        ("1.250", 1250.0),
        ("1,250.50", 1250.5),
        ("1.250,50", 1250.5),
        ("24,000", 24000.0),
    ],
)
def test_parse_digits_both_conventions(text: str, value: float) -> None:
    assert parse_digits(text) == value


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("We could do ninety-five, or 1.250,50 for the week.", [95.0, 1250.5]),
        ("Ticket T-1042, order WO5531, room12", []),  # identifiers
        ("On 2025-06-15 at 14:00, or 15/06", []),  # dates and times
        ("one or two nights", [1.0, 2.0]),
        ("a good deal and one hundred and", [100.0]),  # a dangling "and" is not part of the number
    ],
)
def test_find_numbers(text: str, found: list[float]) -> None:
    assert [n.value for n in find_numbers(text)] == found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("€95", [(95.0, "EUR")]),
        ("€ 95", [(95.0, "EUR")]),
        ("95€", [(95.0, "EUR")]),
        ("95 EUR", [(95.0, "EUR")]),
        ("EUR 1.250,00", [(1250.0, "EUR")]),
        ("ninety-five euros", [(95.0, "EUR")]),
        ("one hundred and ten euros per night", [(110.0, "EUR")]),
        ("95 eur a night", [(95.0, "EUR")]),
        ("$120", [(120.0, "$")]),
        ("US$ 120", [(120.0, "USD")]),
        ("£80", [(80.0, "GBP")]),
        ("¥24,000", [(24000.0, "¥")]),
        ("24,000 yen", [(24000.0, "JPY")]),
        ("CHF 230", [(230.0, "CHF")]),
        ("NOK 1,200 per night", [(1200.0, "NOK")]),
        ("a rate of 95", [(95.0, None)]),
        ("95 per night", [(95.0, None)]),
        ("for 2 nights at 95 per night", [(95.0, None)]),
        ("at 3pm", []),
        ("we had 2025 bookings", []),
        ("4 stars and 10% off", []),
        ("could you do 95?", []),  # a weak cue needs a plausible range
        ("Chf 130", []),  # lower-case codes are not codes
    ],
)
def test_find_prices(text: str, expected: list[tuple[float, str | None]]) -> None:
    assert [(p.value, p.currency) for p in find_prices(text)] == expected


@pytest.mark.parametrize(
    ("text", "plausible", "loose", "found"),
    [
        ("could you do 95?", (30, 400), False, [95.0]),
        ("could you do ninety-five?", (30, 400), False, [95.0]),
        ("meet at 3", (30, 400), False, []),
        ("OK, 100 works.", (30, 400), False, []),
        ("OK, 100 works.", (30, 400), True, [100.0]),
        ("OK, 100 rooms.", (30, 400), True, []),
    ],
)
def test_find_prices_plausible_range(
    text: str, plausible: tuple[float, float], loose: bool, found: list[float]
) -> None:
    assert [p.value for p in find_prices(text, plausible=plausible, loose=loose)] == found


def test_price_spans_cover_the_currency() -> None:
    text = "Could we settle at €95, or ninety euros per night?"
    assert [text[p.start : p.end] for p in find_prices(text)] == ["€95", "ninety euros"]


@pytest.mark.parametrize(
    ("found", "expected", "ok"),
    [
        ("EUR", "EUR", True),
        ("$", "USD", True),
        ("$", "AUD", True),
        ("¥", "JPY", True),
        ("¥", "CNY", True),
        ("CNY", "RMB", True),
        ("USD", "EUR", False),
        ("GBP", "EUR", False),
        (None, "EUR", True),
    ],
)
def test_currency_matches(found: str | None, expected: str, ok: bool) -> None:
    assert currency_matches(found, expected) is ok


def test_find_percentages() -> None:
    assert [(p.value, p.text) for p in find_percentages("a 10% cut, fifteen percent, or 12.5 per cent")] == [
        (10.0, "10%"),
        (15.0, "fifteen percent"),
        (12.5, "12.5 per cent"),
    ]


def test_task_shorthand_and_defaults() -> None:
    t = parse_task({"hotel": "Aurora", "room_type": "Twin Room", "current_price": 110, "target_price": 90})
    assert [(x.id, x.room_type, x.net, x.currency) for x in t.tickets] == [("T1", "Twin Room", 110.0, "EUR")]
    assert t.language == "en"


def test_task_tickets_and_aliases() -> None:
    t = parse_task(
        {
            "currency": "AUD",
            "tickets": [
                {"id": "A", "room_type": "Superior Double Room", "current_price": 150, "target_price": 125},
                {
                    "id": "B",
                    "room_type": "Deluxe Double Room",
                    "current_price": 180,
                    "target_price": 160,
                    "currency": "USD",
                },
                {
                    "id": "C",
                    "room_type": "Junior Suite",
                    "current_price": 300,
                    "target_price": 260,
                    "aliases": ["the JS"],
                },
            ],
        }
    )
    aliases = t.aliases()
    assert "double" not in aliases["A"] and "double" not in aliases["B"]  # shared: ambiguous
    assert {"superior double room", "superior double"} <= set(aliases["A"])
    assert {"junior suite", "suite", "the js"} <= set(aliases["C"])
    assert [x.currency for x in t.tickets] == ["AUD", "USD", "AUD"]


def test_task_errors_name_the_field() -> None:
    with pytest.raises(ValueError, match=r"tickets\.0\.target_price"):
        parse_task({"tickets": [{"id": "A", "room_type": "Twin", "current_price": 100}]})


@pytest.mark.parametrize(
    ("task", "field"),
    [
        ({"room_type": "Twin", "current_price": 100, "target_price": float("nan")}, r"tickets\.0\.target_price"),
        ({"room_type": "Twin", "current_price": float("inf"), "target_price": 90}, r"tickets\.0\.current_price"),
        ({"room_type": "Twin", "current_price": 100, "target_price": 90, "allowed_prices": [float("-inf")]}, "allowed"),
    ],
)
def test_a_task_price_that_is_not_a_number_is_refused_naming_it(task, field) -> None:
    # json.loads reads NaN and Infinity: a NaN target would make every price comparison false, every check pass
    with pytest.raises(ValueError, match=rf"{field}.*finite number"):
        parse_task(task)


@pytest.mark.parametrize(
    ("price", "message"),
    [(True, "a price must be a number, got true"), (0, "greater than 0"), (-95, "greater than 0")],
)
def test_a_flag_zero_or_negative_price_is_refused(price, message) -> None:
    with pytest.raises(ValueError, match=rf"tickets\.0\.target_price: .*{message}"):
        parse_task({"room_type": "Twin", "current_price": 100, "target_price": price})
    assert (
        parse_task({"room_type": "Twin", "current_price": "100", "target_price": 90.5}).tickets[0].current_price == 100
    )


def test_task_numbers_reads_nested_facts() -> None:
    assert task_numbers({"facts": {"searches": 340, "note": "rated 4.6 by 212 guests"}, "flag": True}) == {
        340.0,
        4.6,
        212.0,
    }
