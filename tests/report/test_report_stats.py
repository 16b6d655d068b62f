"""Report statistics: None-tolerant, no division by zero on empty or constant data."""

from __future__ import annotations

import math

import pytest

from repo_sdk.report import stats
from repo_sdk.rows import rules_per_turn


@pytest.mark.parametrize(
    ("xs", "ys", "expected"),
    [
        ([1, 2, 3], [2, 4, 6], 1.0),
        ([1, 2, 3], [3, 2, 1], -1.0),
        ([1, 2, 3, 4], [1, 3, 2, 4], 0.8),
        ([1, 1, 1], [1, 2, 3], None),  # constant: undefined, not a ZeroDivisionError
        ([1], [2], None),
        ([], [], None),
    ],
)
def test_pearson(xs: list[float], ys: list[float], expected: float | None) -> None:
    r = stats.pearson(xs, ys)
    assert r == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1.0), (2.5, 2.5), (None, None), (True, None), ("3", None), (math.nan, None), (math.inf, None)],
)
def test_num(value: object, expected: float | None) -> None:
    assert stats.num(value) == expected


@pytest.mark.parametrize(
    ("values", "labels", "counts"),
    [
        ([], [], []),
        ([7.0], ["7"], [1]),
        ([2.0, 2.0, 2.0], ["2"], [3]),
        ([1, 5, 5, 3], ["1", "3", "5"], [1, 1, 2]),
        ([i / 10 for i in range(100)], ["0", "2", "4", "6", "8"], [20, 20, 20, 20, 20]),
    ],
)
def test_histogram_bins(values: list[float], labels: list[str], counts: list[int]) -> None:
    bins = stats.histogram_bins(values, max_bins=5)
    assert [b.label for b in bins] == labels and [b.count for b in bins] == counts
    assert sum(b.count for b in bins) == len(values)


def test_histogram_bins_cover_every_value_at_the_edges() -> None:
    values = [-0.996, 2.51, *[i / 7 for i in range(30)]]
    bins = stats.histogram_bins(values)
    assert sum(b.count for b in bins) == len(values)
    assert bins[0].lo <= min(values) and bins[-1].hi >= max(values)


def test_values_and_sources_skip_missing() -> None:
    rows = [
        {"reward": 1.0, "sources": {"rules": 0.0, "judge": None, "zeta": 1.0, "rm": 2.0}},
        {"reward": None, "sources": None},
        {},
    ]
    assert stats.source_names(rows) == ["rm", "judge", "rules", "zeta"]
    assert stats.values_of(rows, "reward") == [1.0] and stats.values_of(rows, "judge") == []


def test_fire_rates_count_a_turn_once_and_attribute_dialogue_hits() -> None:
    turns = [
        {"dialogue_id": "d", "turn_index": 1, "fired": [{"rule": "a"}, {"rule": "a"}]},
        {"dialogue_id": "d", "turn_index": 3, "fired": []},
    ]
    dialogues = [{"dialogue_id": "d", "dialogue_fired": [{"rule": "b", "turn_index": 3}, {"rule": "c"}]}]
    assert stats.fire_rates(turns, dialogues) == [("a", 1, 0.5), ("b", 1, 0.5)]
    assert rules_per_turn(turns, dialogues) == ([{"a"}, {"b"}], 1)
    assert stats.fire_rates([]) == []


def test_correlation_matrix_pairs_only_present_values() -> None:
    rows = [
        {"reward": 1.0, "sources": {"rm": 1.0, "judge": None}},
        {"reward": 2.0, "sources": {"rm": 2.0, "judge": 5.0}},
        {"reward": 3.0, "sources": {"rm": 3.0, "judge": 4.0}},
    ]
    m = stats.correlation_matrix(rows, ["reward", "rm", "judge"])
    assert m[0][1] == (pytest.approx(1.0), 3)
    assert m[0][2] == (pytest.approx(-1.0), 2)
    assert m[2][2][1] == 2


def test_worst_turns_puts_missing_rewards_last() -> None:
    rows = [{"reward": None, "id": 0}, {"reward": 2.0, "id": 1}, {"reward": -1.0, "id": 2}, {"id": 3}]
    assert [r["id"] for r in stats.worst_turns(rows, 3)] == [2, 1, 0]
    assert stats.worst_turns(rows, 0) == []


@pytest.mark.parametrize(("value", "text"), [(None, "\u2013"), (3.0, "3"), (0.12345, "0.123"), (-20.0, "-20")])
def test_fmt(value: float | None, text: str) -> None:
    assert stats.fmt(value) == text
