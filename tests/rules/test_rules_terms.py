"""forbidden_terms: word boundaries, case rules, plurals, per-term settings, allow-list."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from repo_sdk.rules import ForbiddenTerms, ForbiddenTermsParams
from repo_sdk.testing import make_sample


def evidence(params: dict[str, Any], response: str) -> list[str]:
    rule = ForbiddenTerms(ForbiddenTermsParams(**params))
    hits = rule.check(make_sample(response=response))
    for h in hits:
        assert h.span is not None and response[h.span[0] : h.span[1]] == h.evidence
    return [h.evidence for h in hits]


@pytest.mark.parametrize(
    ("params", "response", "expected"),
    [
        # defaults: internal jargon
        ({}, "I opened a work order for your ticket.", ["work order", "ticket"]),
        ({}, "Our target price is 80.", ["target price"]),
        ({}, "Could you do 80 per night?", []),
        # whole words: a near-miss is no hit, a plural is
        ({"terms": ["ticket"]}, "Our ticketing desk is open.", []),
        ({"terms": ["ticket"]}, "Both tickets are booked.", ["tickets"]),
        ({"terms": ["ticket"], "plurals": False}, "Both tickets are booked.", []),
        ({"terms": ["ticket"], "whole_word": False}, "Our ticketing desk is open.", ["ticket"]),
        # case rules
        ({"terms": ["ticket"]}, "TICKET closed", ["TICKET"]),
        ({"terms": ["KPI"], "case_sensitive": True}, "kpi is a word, KPI an acronym", ["KPI"]),
        ({"terms": [{"term": "KPI", "case_sensitive": True}, "ticket"]}, "kpi, KPI, Ticket", ["KPI", "Ticket"]),
        # spacing variants of a phrase
        ({"terms": ["work order"]}, "see work-order 12 and work  order 13", ["work-order", "work  order"]),
        ({"terms": ["work order"], "flexible_spacing": False}, "see work-order 12", []),
        # longest term wins at one position
        ({"terms": ["price", "target price"]}, "the target price", ["target price"]),
        # regular expressions
        ({"terms": [{"term": r"floor\s+price|bottom\s+line", "regex": True}]}, "our floor  price", ["floor  price"]),
        # CJK terms have no word boundaries to respect
        ({"terms": ["工单"]}, "您的工单已处理", ["工单"]),
        # allow-list: a forbidden word inside an allowed phrase is fine
        ({"terms": ["ticket"], "allow": ["train ticket"]}, "Your train ticket and your ticket", ["ticket"]),
        # ... its plural too, and a shorter allowed phrase listed first does not cut a longer one short
        ({"terms": ["ticket"], "allow": ["train ticket"]}, "guests hold train tickets; your tickets", ["tickets"]),
        ({"terms": ["ticket"], "allow": ["train ticket", "train tickets"]}, "they hold train tickets", []),
        ({"terms": ["ticket"], "allow": ["train ticket"], "plurals": False}, "train tickets", []),
        ({"terms": []}, "ticket", []),
        ({"terms": ["ticket"], "max_hits": 1}, "ticket ticket ticket", ["ticket"]),
    ],
)
def test_forbidden_terms(params: dict[str, Any], response: str, expected: list[str]) -> None:
    assert evidence(params, response) == expected


def test_per_term_points_and_reason() -> None:
    rule = ForbiddenTerms(
        ForbiddenTermsParams(terms=[{"term": "target price", "points": -30, "reason": "leaks the target"}, "ticket"]),
        points=-5,
    )
    hits = rule.check(make_sample(response="target price ticket"))
    assert [(h.points, h.reason) for h in hits] == [(-30, "leaks the target"), (-5, "forbidden term 'ticket'")]
    assert all(h.rule == "forbidden_terms" for h in hits)


def test_bad_regex_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="invalid regular expression"):
        ForbiddenTermsParams(terms=[{"term": "(", "regex": True}])


def test_unknown_param_is_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        ForbiddenTermsParams(wholeword=True)  # type: ignore[call-arg]
