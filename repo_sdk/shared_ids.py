"""Dialogue ids that more than one dialogue of a run uses, read off its turn rows.

Turn rows are keyed by ``(dialogue_id, turn_index)``: ``repo-sdk eval`` and the
report refuse a run where a key repeats, and joining rows by id mixes the dialogues.
Scoring reads the input as it is, so ``repo-sdk score`` counts such ids while it
writes its outputs and warns. A new dialogue starts where the id changes or the turn
index fails to increase (rows come in input order). Ids are held as their hashes:
about 50 bytes a dialogue.

Example:
    >>> ids = SharedIds()
    >>> for did, turn in [("a", 1), ("a", 3), ("b", 1), ("a", 1)]:
    ...     ids.add(did, turn)
    >>> ids.shared, ids.message()
    (Counter({'a': 1}), "dialogue id 'a' is used by 2 dialogues: ...")
"""

from __future__ import annotations

from collections import Counter
from typing import Any

__all__ = ["SharedIds"]

_NAMED = 3  # ids a warning names


class SharedIds:
    """Counts the dialogues of a run that reuse an earlier dialogue's id."""

    def __init__(self) -> None:
        self.shared: Counter[str] = Counter()  # id -> dialogues that reused it (named ids only)
        self.reuses = 0  # dialogues that reused an id, all of them
        self._seen: set[int] = set()
        self._last: tuple[Any, Any] = (None, None)

    def add(self, dialogue_id: Any, turn_index: Any) -> None:
        """Note one turn row (in input order)."""
        last_id, last_turn = self._last
        self._last = (dialogue_id, turn_index)
        further = isinstance(turn_index, int) and isinstance(last_turn, int) and turn_index > last_turn
        if dialogue_id == last_id and further:
            return  # the same dialogue, further on
        key = hash(dialogue_id)
        if key not in self._seen:
            self._seen.add(key)
            return
        self.reuses += 1
        if dialogue_id in self.shared or len(self.shared) < _NAMED:
            self.shared[str(dialogue_id)] += 1

    def add_run(self, dialogue_id: Any, first: Any, last: Any) -> None:
        """Note turn rows of one dialogue id whose turn indexes rise from ``first`` to ``last``: the same as
        :meth:`add` of each (those after the first are the same dialogue, further on)."""
        self.add(dialogue_id, first)
        self._last = (dialogue_id, last)

    def message(self) -> str | None:
        """The warning for the run (None: every dialogue has an id of its own)."""
        if not self.reuses:
            return None
        named = ", ".join(f"dialogue id {i!r} is used by {n + 1} dialogues" for i, n in self.shared.items())
        more = self.reuses - sum(self.shared.values())
        rest = f" ({more} more dialogues reuse an id)" if more else ""
        return (
            f"{named}{rest}: their turn rows share (dialogue_id, turn_index), which `repo-sdk eval` and "
            "the report refuse; give each dialogue its own id"
        )
