"""Progress as plain lines, for a stderr that is not a terminal (a CI log, a pipe, nohup).

A progress bar redraws one line with carriage returns: in a log it is either absent or a
wall of ``\\r``. Off a terminal, long commands print a line every few seconds instead:
:class:`StepLines` when told each step, :class:`Heartbeat` also while a step takes long
(a group of dialogues waiting on a slow judge).

Example:
    >>> ticks = iter([0.0, 1.0, 6.0, 7.0, 8.0])
    >>> lines = StepLines("RM training", print, every=5.0, clock=lambda: next(ticks))
    >>> for step in (1, 2, 3, 4):
    ...     lines(step, 4)
    RM training: step 2/4 (50%), 6s elapsed, about 6s left
    RM training: step 4/4 (100%), 8s elapsed, done
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Heartbeat", "StepLines", "duration"]


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
    """A ``progress(step, total)`` callback printing at most one line per ``every`` seconds, and the last step.

    ``unit`` names a step in the line; ``quiet_for``: a run shorter than this prints nothing,
    not even its last step (a command that ends in a moment needs no progress).

    Example:
        >>> ticks = iter([0.0, 3.0, 12.0, 13.0])
        >>> lines = StepLines("scoring", print, unit="dialogue", every=10.0, quiet_for=10.0, clock=lambda: next(ticks))
        >>> for step in (0, 40, 100):
        ...     lines(step, 100)
        scoring: dialogue 40/100 (40%), 12s elapsed, about 18s left
        scoring: dialogue 100/100 (100%), 13s elapsed, done
    """

    def __init__(
        self,
        what: str,
        echo: Callable[[str], object],
        *,
        unit: str = "step",
        every: float = 5.0,
        quiet_for: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what, self.echo, self.unit = what, echo, unit
        self.every, self.quiet_for, self.clock = every, quiet_for, clock
        self.started = clock()
        self.last = self.started

    def __call__(self, step: int, total: int) -> None:
        now = self.clock()
        elapsed = now - self.started
        if elapsed < self.quiet_for or (step < total and now - self.last < self.every):
            return
        self.last = now
        share = step / total if total else 1.0
        left = "done" if step >= total else f"about {duration(elapsed / step * (total - step))} left" if step else ""
        line = f"{self.what}: {self.unit} {step}/{total} ({share:.0%}), {duration(elapsed)} elapsed, {left}"
        self.echo(line.rstrip(", "))


class Heartbeat:
    """:class:`StepLines` that also speaks while a step takes long: a thread asks it every second.

    ``advance(steps)`` adds done steps; the last step's line comes when the block ends with all
    of them done.

    Example:
        >>> out = []
        >>> with Heartbeat(StepLines("scoring", out.append, unit="dialogue", every=0.0), total=2) as advance:
        ...     advance(1)
        ...     advance(1)
        >>> out[-1].startswith("scoring: dialogue 2/2 (100%)") and out[-1].endswith("done")
        True
    """

    def __init__(self, lines: StepLines, total: int, beat: float = 1.0) -> None:
        self.lines, self.total, self.beat = lines, total, beat
        self.step = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress-lines", daemon=True)

    def __enter__(self) -> Callable[[int], None]:
        self._thread.start()
        return self.advance

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def advance(self, steps: int) -> None:
        """``steps`` more done (prints a line when one is due, or the last step's)."""
        with self._lock:
            self.step += steps
            self.lines(self.step, self.total)

    def _run(self) -> None:
        while not self._stop.wait(self.beat):
            with self._lock:
                if self.step < self.total:
                    self.lines(self.step, self.total)
