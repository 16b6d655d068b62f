"""The shared text helpers: number extraction above all (the negotiation plugin builds on it)."""

from __future__ import annotations

import pytest

from repo_sdk.rules.text import (
    clip_evidence,
    extract_numbers,
    normalize_currency,
    parse_number,
    split_sentences,
    tokenize,
    word_spans,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # currency before / after, with and without a space, symbols, codes and words
        ("Only €80 tonight", [("€80", 80.0, "EUR")]),
        ("Only 80 € tonight", [("80 €", 80.0, "EUR")]),
        ("Only 80€ tonight", [("80€", 80.0, "EUR")]),
        ("EUR 80 per night", [("EUR 80", 80.0, "EUR")]),
        ("80EUR per night", [("80EUR", 80.0, "EUR")]),
        ("EUR80 per night", [("EUR80", 80.0, "EUR")]),
        ("80 euros per night", [("80 euros", 80.0, "EUR")]),
        ("usd 75 is fine", [("usd 75", 75.0, "USD")]),
        ("$75.50 is fine", [("$75.50", 75.5, "USD")]),
        ("US$ 75 is fine", [("US$ 75", 75.0, "USD")]),
        ("80 US dollars", [("80 US dollars", 80.0, "USD")]),
        ("CNY 680 is the rate", [("CNY 680", 680.0, "CNY")]),
        ("¥680 is the rate", [("¥680", 680.0, "CNY")]),
        ("价格是680元", [("680元", 680.0, "CNY")]),
        ("RMB680 per night", [("RMB680", 680.0, "CNY")]),
        ("£99", [("£99", 99.0, "GBP")]),
        ("JPY 12,000", [("JPY 12,000", 12000.0, "JPY")]),
        # thousands separators and decimals
        ("A suite is 1,200 tonight", [("1,200", 1200.0, None)]),
        ("A suite is 1,200.50", [("1,200.50", 1200.5, None)]),
        ("We pay 80.00.", [("80.00", 80.0, None)]),
        ("Es kostet 1.200,50 €", [("1.200,50 €", 1200.5, "EUR")]),
        ("Es kostet 80,50 €", [("80,50 €", 80.5, "EUR")]),
        ("about 1.2k EUR", [("1.2k EUR", 1200.0, "EUR")]),
        ("a total of 12,345,678", [("12,345,678", 12345678.0, None)]),
        # a sentence's full stop or a list comma is no decimal separator
        ("We can do 85.", [("85", 85.0, None)]),
        ("Either 80, 90 or 100", [("80", 80.0, None), ("90", 90.0, None), ("100", 100.0, None)]),
    ],
)
def test_extract_numbers_values_and_currencies(text: str, expected: list[tuple[str, float, str | None]]) -> None:
    found = extract_numbers(text)
    assert [(m.text, m.value, m.currency) for m in found] == expected
    for m in found:
        assert text[m.span[0] : m.span[1]] == m.text


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Check-in on 2024-05-01", ["date", "date", "date"]),
        ("Check-in on 12/05/2024", ["date", "date", "date"]),
        ("Arriving May 3-5, 2024", ["date", "date", "date"]),
        ("Arriving on the 3rd of May", ["date"]),
        ("5月1日入住", ["date", "date"]),
        ("See you in 2025", ["date"]),
        ("Check-in from 14:30", ["time", "time"]),
        ("Breakfast until 10am", ["time"]),
        ("Call +86 138-0000-0000", ["identifier"] * 4),
        ("Room 502 is ready", ["identifier"]),
        ("Booking #12345", ["identifier"]),
        ("An A380 flew by", ["identifier"]),
        ("2 twin rooms for 3 nights", ["count", "count"]),
        ("a 5-star hotel", ["count"]),
        ("3晚", ["count"]),
        ("10% off", ["percent"]),
        ("3 percent off", ["percent"]),
        ("the 3rd floor", ["ordinal"]),
        ("May 80 work for you?", ["number"]),  # "May" the verb, 80 no day of a month
        ("100 a night", ["number"]),
        ("80/night", ["number"]),
        ("€80 for 2 nights", ["money", "count"]),
    ],
)
def test_extract_numbers_kinds(text: str, kinds: list[str]) -> None:
    assert [m.kind for m in extract_numbers(text)] == kinds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80-90", [(80.0, None), (90.0, None)]),
        ("80 - 90 EUR", [(80.0, "EUR"), (90.0, "EUR")]),
        ("€80 \u2013 €90", [(80.0, "EUR"), (90.0, "EUR")]),
        ("from $80 to 90", [(80.0, "USD"), (90.0, "USD")]),
        ("80~90元", [(80.0, "CNY"), (90.0, "CNY")]),
    ],
)
def test_ranges_link_both_ends(text: str, expected: list[tuple[float, str | None]]) -> None:
    found = extract_numbers(text)
    assert [(m.value, m.currency) for m in found] == expected
    assert all(m.range_bounds == (expected[0][0], expected[-1][0]) for m in found)


def test_numbers_that_are_not_ranges() -> None:
    assert all(m.range_bounds is None for m in extract_numbers("between 80 and 90, or 2024-05-01"))
    assert [m.currency for m in extract_numbers("€80 - $90")] == ["EUR", "USD"]


def test_no_numbers() -> None:
    assert extract_numbers("") == []
    assert extract_numbers("no digits here") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("80", 80.0),
        ("80.00", 80.0),
        ("1,200", 1200.0),
        ("1,20", 1.2),
        ("1.200,50", 1200.5),
        ("1.200.000", 1200000.0),
        ("1\u00a0200", 1200.0),
        ("1,200.5", 1200.5),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == value


def test_parse_number_rejects_words() -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_number("eighty")


@pytest.mark.parametrize(
    ("marker", "code"),
    [
        ("€", "EUR"),
        ("EUR", "EUR"),
        ("Euros", "EUR"),
        ("$", "USD"),
        ("us dollars", "USD"),
        ("¥", "CNY"),
        ("元", "CNY"),
        ("yen", "JPY"),
        ("THB", "THB"),
        ("", None),
        (None, None),
        ("price", None),
    ],
)
def test_normalize_currency(marker: str | None, code: str | None) -> None:
    assert normalize_currency(marker) == code


def test_sentences_words_tokens_and_evidence() -> None:
    text = "Hi there. The price is 80.00 EUR!\n谢谢。OK"
    assert [text[s:e] for s, e in split_sentences(text)] == ["Hi there.", "The price is 80.00 EUR!", "谢谢。", "OK"]
    assert tokenize("Thank you, 谢谢") == ["thank", "you", "谢", "谢"]
    assert [("Hi there"[s:e]) for s, e in word_spans("Hi there")] == ["Hi", "there"]
    assert clip_evidence("abcdef", (0, 6)) == "abcdef"
    assert clip_evidence("abcdef", (0, 6), limit=4) == "abc…"
