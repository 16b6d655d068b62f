"""Micro-batching: the plan respects the budget, and batched scores equal one-by-one passes."""

from __future__ import annotations

import random

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from transformers import AutoModelForSequenceClassification

from repo_sdk.rm.batching import forward_scores, plan_batches


@given(
    lengths=st.lists(st.integers(1, 600), max_size=80),
    budget=st.integers(1, 5000),
    cap=st.one_of(st.none(), st.integers(1, 16)),
)
def test_plan_covers_each_row_once_within_budget(lengths, budget, cap):
    plan = plan_batches(lengths, budget, cap)
    assert sorted(i for b in plan for i in b) == list(range(len(lengths)))
    for batch in plan:
        widths = [lengths[i] for i in batch]
        assert widths == sorted(widths, reverse=True)
        assert len(batch) == 1 or len(batch) * widths[0] <= budget
        assert cap is None or len(batch) <= cap
    # greedy packing: the next batch's first row would not have fitted
    for a in plan[:-1]:
        full = cap is not None and len(a) == cap
        assert full or (len(a) + 1) * lengths[a[0]] > budget


def test_plan_rejects_a_bad_budget():
    with pytest.raises(ValueError, match="token_budget"):
        plan_batches([3], 0)


def one_by_one(model, rows):
    with torch.inference_mode():
        return [model(input_ids=torch.tensor([r])).logits[0, 0].item() for r in rows]


@pytest.mark.parametrize("fixture", ["tiny_llama", "tiny_qwen"])
def test_batched_scores_equal_unbatched_in_original_order(request, fixture):
    model = AutoModelForSequenceClassification.from_pretrained(request.getfixturevalue(fixture)).eval()
    rng = random.Random(0)
    rows = [[rng.randrange(4, 500) for _ in range(rng.randint(3, 300))] for _ in range(40)]
    expected = one_by_one(model, rows)
    scores, stats = forward_scores(model, rows, pad_id=model.config.pad_token_id, token_budget=1024)
    assert scores == pytest.approx(expected, abs=1e-4)
    assert len(set(round(s, 4) for s in scores)) > 30  # real, distinct values, not a constant
    assert stats.batches > 3 and stats.tokens == sum(map(len, rows))
    # sorted micro-batches pad far less than one batch padded to the longest row
    assert stats.padded_tokens < 0.75 * len(rows) * max(map(len, rows))
    assert forward_scores(model, [], pad_id=0, token_budget=10) == ([], stats.__class__())
