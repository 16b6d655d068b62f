"""numeric_consistency: prices in the reply against task fields, bounds, history and currency."""

from __future__ import annotations

from typing import Any

import pytest

from repo_sdk.rules import NumericConsistency, NumericConsistencyParams
from repo_sdk.rules.numeric import task_numbers, task_value
from repo_sdk.testing import make_sample

TASK = {"current_price": 100, "target_price": 80, "currency": "EUR"}


def evidence(
    response: str, task: dict[str, Any] | None = None, history: list[tuple[str, str]] | None = None, **params: Any
) -> list[str]:
    sample = make_sample(response=response, task=TASK if task is None else task, history=history)
    hits = NumericConsistency(NumericConsistencyParams(**params)).check(sample)
    for h in hits:
        assert h.span is not None and response[h.span[0] : h.span[1]] == h.evidence
    return [h.evidence for h in hits]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        # prices that match a task field, however they are written
        ("Could you do 80?", []),
        ("Could you do €80?", []),
        ("Could you do 80 €?", []),
        ("Could you do 80.00 EUR?", []),
        ("Could you do EUR80 instead of EUR 100?", []),
        ("Could you do 80euros?", []),
        # prices that match nothing
        ("Could you do 85?", ["85"]),
        ("Could you do €85 per night?", ["€85"]),
        ("Could you do 85,00 €?", ["85,00 €"]),
        ("We would pay 1,200 for the week", ["1,200"]),
        # each end of a range on its own
        ("Somewhere in 80-90?", ["90"]),
        ("Somewhere in €80 \u2013 €100?", []),
        # not prices: dates, times, counts, identifiers, percentages, ordinals, small plain numbers
        ("For 2 nights from 2024-05-01, check-in 14:30, room 502.", []),
        ("A 10% discount on the 3rd night, for 5 guests?", []),
        ("I have 3 questions and 2 requests.", []),
        # the wrong currency
        ("Could you do $80?", ["$80"]),
    ],
)
def test_against_task_fields(response: str, expected: list[str]) -> None:
    assert evidence(response) == expected


def test_bounds_fixed_and_from_fields() -> None:
    assert evidence("How about 90?", min_value=80, max_value=100) == []
    assert evidence("How about 120?", min_value=80, max_value=100) == ["120"]
    assert evidence("How about 90?", min_field="target_price", max_field="current_price") == []
    assert evidence("How about 70 or 110?", min_field="target_price", max_field="current_price") == ["70", "110"]
    assert evidence("How about 150?", max_value=200) == []  # an open lower bound
    # both a fixed and a field bound: the stricter one holds
    assert evidence("How about 95?", max_value=200, max_field="current_price") == []
    assert evidence("How about 150?", max_value=200, max_field="current_price") == ["150"]


TICKETS = {
    "currency": "EUR",
    "tickets": [
        {"id": "T1", "current_price": 120, "target_price": 95},
        {"id": "T2", "current_price": 200, "target_price": 150},
    ],
}


def test_bounds_over_every_item_of_a_list() -> None:
    """`*` walks a list: with several tickets, the range spans the lowest target to the highest price."""
    bounds = {"min_field": "tickets.*.target_price", "max_field": "tickets.*.current_price", "fields": []}
    assert evidence("Could we meet at €100, and €170 for the suite?", TICKETS, **bounds) == []
    assert evidence("Could you do €90, or €210?", TICKETS, **bounds) == ["€90", "€210"]
    assert evidence("Could you do €90?", TICKETS, min_field="tickets.*.nope", fields=[]) == []  # no bound: open
    assert evidence("€95 and €150 then", TICKETS, fields=["tickets.*.target_price"]) == []
    assert evidence("€120 then", TICKETS, fields=["tickets.*.target_price"]) == ["€120"]


@pytest.mark.parametrize(
    ("response", "currency", "expected"),
    [
        ("¥24,000 per night?", "JPY", []),  # ¥ is yen as well as yuan
        ("¥24,000 per night?", "CNY", []),
        ("¥24,000 per night?", "EUR", ["¥24,000"]),
        ("24,000 yen per night?", "CNY", ["24,000 yen"]),  # a word that says which
        ("$80 then?", "CAD", []),  # $ is many dollars
        ("US$80 then?", "CAD", ["US$80"]),
        ("¥80-90?", "JPY", []),  # the 90 end takes its currency from the other end
        ("¥80-90?", "EUR", ["¥80"]),  # ... and is not reported twice for it
    ],
)
def test_ambiguous_currency_markers(response: str, currency: str, expected: list[str]) -> None:
    current = 24000 if "000" in response else 90
    task = {"current_price": current, "target_price": 80, "currency": currency}
    assert evidence(response, task) == expected


def test_tolerances() -> None:
    assert evidence("How about 80.5?") == ["80.5"]
    assert evidence("How about 80.5?", tolerance=0.5) == []
    assert evidence("How about 82?", rel_tolerance=0.05) == []


def test_only_currency_and_plain_min() -> None:
    assert evidence("How about 85? Or €85?", only_currency=True) == ["€85"]
    assert evidence("We need 3 rooms? No: 3 of them.", plain_min=0) == ["3"]  # "3 rooms" is a count, "3 of" is not
    assert evidence("I have 3 questions.", plain_min=0) == []


def test_history_roles_accept_quoted_numbers() -> None:
    history = [("user", "We can do 90 per night.")]
    assert evidence("90 works for us.", history=history) == ["90"]
    assert evidence("90 works for us.", history=history, history_roles=["user"]) == []


def test_fields_paths_lists_and_strings() -> None:
    task = {"rooms": [{"type": "twin", "price": "75 EUR"}, {"type": "double", "price": 95}]}
    assert evidence("Twin at 75 and double at 95?", task=task, fields=["rooms"]) == []
    assert evidence("Twin at 75 and double at 96?", task=task, fields=["rooms"]) == ["96"]
    assert evidence("Deal at 70?", task={"offer": {"low": 70}}, fields=["offer.low"]) == []


def test_nothing_to_check_against() -> None:
    assert evidence("How about 85?", task={}) == []
    assert evidence("How about 85?", task={"hotel": "Aurora"}) == []


def test_currency_check_can_be_off_and_task_currency_symbols_work() -> None:
    assert evidence("Could you do $80?", currency_field=None) == []
    assert evidence("Could you do €80?", task={"target_price": 80, "currency": "€"}) == []


def test_reason_names_fields_and_bounds() -> None:
    sample = make_sample(response="How about 120?", task=TASK)
    [hit] = NumericConsistency(NumericConsistencyParams(max_field="current_price")).check(sample)
    assert hit.reason == (
        "price '120' matches no task field (current_price=100, target_price=80) and lies outside [-inf, 100]"
    )
    assert hit.points == -10


def test_params_validation() -> None:
    with pytest.raises(ValueError, match="must not exceed"):
        NumericConsistencyParams(min_value=10, max_value=5)


def test_task_helpers() -> None:
    assert task_value({"a": {"b": 3}}, "a.b") == 3
    assert task_value({"a": 1}, "a.b") is None
    assert task_numbers({"x": [1, "2.5 EUR"], "flag": True, "nan": float("nan")}) == [1.0, 2.5]
