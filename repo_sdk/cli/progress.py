"""Progress as plain lines, for a stderr that is not a terminal (a CI log, a pipe, nohup).

A progress bar redraws one line with carriage returns: in a log it is either absent or a
wall of ``\\r``. Off a terminal, long commands print a line every few seconds instead.

Example:
    >>> ticks = iter([0.0, 1.0, 6.0, 7.0, 8.0])
    >>> lines = StepLines("RM training", print, every=5.0, clock=lambda: next(ticks))
    >>> for step in (1, 2, 3, 4):
    ...     lines(step, 4)
    RM training: step 2/4 (50%), 6s elapsed, about 6s left
    RM training: step 4/4 (100%), 8s elapsed, done
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["StepLines", "duration"]


def duration(seconds: float) -> str:
    """``42s``, ``3m05s`` or ``1h02m``.

    Example:
        >>> duration(42.4), duration(185), duration(3720)
        ('42s', '3m05s', '1h02m')
    """
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class StepLines:
    """A ``progress(step, total)`` callback printing at most one line per ``every`` seconds, and the last step."""

    def __init__(
        self,
        what: str,
        echo: Callable[[str], object],
        *,
        every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what, self.echo, self.every, self.clock = what, echo, every, clock
        self.started = clock()
        self.last = self.started

    def __call__(self, step: int, total: int) -> None:
        now = self.clock()
        if step < total and now - self.last < self.every:
            return
        self.last = now
        elapsed = now - self.started
        share = step / total if total else 1.0
        left = "done" if step >= total else f"about {duration(elapsed / step * (total - step))} left" if step else ""
        self.echo(f"{self.what}: step {step}/{total} ({share:.0%}), {duration(elapsed)} elapsed, {left}".rstrip(", "))
