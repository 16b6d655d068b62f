"""Length-sorted micro-batches under a token budget, and the batched RM forward pass.

Rows are sorted longest first and packed greedily while ``rows * longest_row`` stays
within ``token_budget``, so each micro-batch pads only to its own longest row (not
the batch's), and the first batch is the heaviest (an out-of-memory shows at once).
Rows are right-padded: positions stay ``0..n-1`` as in an unbatched pass, and the
sequence classifier reads the last non-pad token of each row. Scores come back in
the original order.

Example:
    >>> plan_batches([5, 100, 7, 90], token_budget=150)
    [[1], [3], [2, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["BatchStats", "forward_scores", "plan_batches"]


def plan_batches(lengths: Sequence[int], token_budget: int, max_batch_size: int | None = None) -> list[list[int]]:
    """Group row indices into micro-batches, longest rows first.

    Args:
        lengths: token count of each row.
        token_budget: most padded tokens (``rows * longest``) per micro-batch; a row
            longer than the budget gets a batch of its own.
        max_batch_size: most rows per micro-batch (``None``: no cap).

    Returns:
        Lists of indices into ``lengths``; each list is sorted by decreasing length.
    """
    if token_budget < 1:
        raise ValueError(f"token_budget must be >= 1, got {token_budget}")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = lengths[current[0]] if current else lengths[i]
        full = max_batch_size is not None and len(current) >= max_batch_size
        if current and (full or (len(current) + 1) * longest > token_budget):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


@dataclass
class BatchStats:
    """What one :func:`forward_scores` call did."""

    batches: int = 0
    tokens: int = 0
    padded_tokens: int = 0


def forward_scores(
    model: Any,
    rows: Sequence[Sequence[int]],
    *,
    pad_id: int,
    token_budget: int,
    max_batch_size: int | None = None,
    device: Any = None,
) -> tuple[list[float], BatchStats]:
    """Score token-id rows with a ``num_labels=1`` sequence classifier, in input order.

    Runs under ``torch.inference_mode``; logits stay on the device until the end, so
    a GPU is synchronised once per call, not once per micro-batch.

    Args:
        model: a transformers sequence-classification model (already on ``device``).
        rows: token ids per sample.
        pad_id: id used for right padding (the model's ``config.pad_token_id``).
        token_budget: see :func:`plan_batches`.
        max_batch_size: see :func:`plan_batches`.
        device: where inputs go (default: the model's device).

    Returns:
        One raw score per row, and the batch statistics.
    """
    import numpy
    import torch

    if not rows:
        return [], BatchStats()
    device = device if device is not None else next(model.parameters()).device
    pin = torch.device(device).type == "cuda"
    lengths = [len(r) for r in rows]
    plan = plan_batches(lengths, token_budget, max_batch_size)
    stats = BatchStats(batches=len(plan), tokens=sum(lengths))
    outputs = []
    with torch.inference_mode():
        for batch in plan:
            width = lengths[batch[0]]
            stats.padded_tokens += width * len(batch)
            # numpy takes a list of ints into a row 3-4x faster than torch does; on a GPU the
            # forward of a small RM is bound by this thread, so every microsecond here counts
            array = numpy.full((len(batch), width), pad_id, dtype=numpy.int64)
            for r, i in enumerate(batch):
                array[r, : lengths[i]] = rows[i]
            row_lengths = numpy.array([lengths[i] for i in batch])
            ids = torch.from_numpy(array)
            mask = torch.from_numpy((numpy.arange(width) < row_lengths[:, None]).astype(numpy.int64))
            if pin:
                ids, mask = ids.pin_memory(), mask.pin_memory()
            logits = model(
                input_ids=ids.to(device, non_blocking=True), attention_mask=mask.to(device, non_blocking=True)
            ).logits
            outputs.append(logits[:, 0].float())
        values = torch.cat(outputs).cpu().tolist()
    scores = [0.0] * len(rows)
    for i, v in zip((i for batch in plan for i in batch), values, strict=True):
        scores[i] = v
    return scores, stats
