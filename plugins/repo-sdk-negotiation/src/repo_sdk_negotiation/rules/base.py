"""What every negotiation turn rule starts from: the task, the state before the reply, the reply read.

Replaying the history is shared by all rules of a sample through a small cache
keyed by the task, the history and the reply, so a spec with many negotiation
rules replays each history once.

Example:
    >>> from repo_sdk.testing import make_sample
    >>> ctx = context_of(make_sample(response="Could you do €95?", task={"current_price": 120, "target_price": 95}))
    >>> [a.kind for a in ctx.reading.acts], ctx.task.tickets[0].id
    (['propose'], 'T1')
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from repo_sdk.interfaces import Rule
from repo_sdk.types import RuleHit, Sample, Turn
from repo_sdk_negotiation.acts import Act, TicketState
from repo_sdk_negotiation.state import AgentReading, HotelReading, NegotiationState
from repo_sdk_negotiation.task import NegotiationTask, parse_task

__all__ = ["Context", "NegotiationRule", "context_of", "fmt_price"]


@dataclass(frozen=True)
class Context:
    """A reply in context. Treat as read-only: it is shared between rules."""

    response: str
    history: tuple[Turn, ...]
    task: NegotiationTask
    state: NegotiationState
    reading: AgentReading

    @property
    def hotel(self) -> HotelReading:
        """The hotel's reply to the agent's last turn; ``silent`` when the hotel has not replied."""
        if self.state.hotel_replied and self.state.last_hotel is not None:
            return self.state.last_hotel
        return HotelReading("silent")

    def evidence(self, span: tuple[int, int]) -> str:
        return self.response[span[0] : span[1]]

    def room(self, ticket: str | None) -> str:
        t = self.task.ticket(ticket) if ticket else None
        return t.room_type if t is not None else "the room"

    def price_asks(self) -> Iterator[tuple[Act, TicketState]]:
        """The reply's price proposals and pushes that name a room, with that room's state."""
        for act in self.reading.acts:
            if act.kind in ("propose", "push") and act.ticket is not None:
                yield act, self.state.tickets[act.ticket]


@lru_cache(maxsize=512)
def _context(task_key: str, history: tuple[tuple[str, str], ...], response: str) -> Context:
    task = parse_task(json.loads(task_key))
    turns = tuple(Turn(role=r, content=c) for r, c in history)  # type: ignore[arg-type]
    state = NegotiationState.replay(task, turns)
    return Context(response, turns, task, state, state.read_agent(response))


def context_of(sample: Sample) -> Context:
    """The (cached) context of a sample."""
    key = json.dumps(sample.task, sort_keys=True, default=str)
    return _context(key, tuple((t.role, t.content) for t in sample.history), sample.response)


def fmt_price(value: float | None, currency: str | None = None) -> str:
    """``95`` -> ``"95 EUR"``; keeps cents only when there are any.

    Example:
        >>> fmt_price(95.0, "EUR"), fmt_price(95.5)
        ('95 EUR', '95.50')
    """
    if value is None:
        return "?"
    num = f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
    return f"{num} {currency}" if currency else num


class NegotiationRule(Rule):
    """A turn rule over a negotiation task: ``check_context`` gets the shared :class:`Context`.

    Samples whose task has no tickets are not negotiations (or not this schema):
    rules that need tickets return no hit for them (``needs_tickets``).
    """

    needs_tickets: bool = True

    def check(self, sample: Sample) -> list[RuleHit]:
        ctx = context_of(sample)
        if self.needs_tickets and not ctx.task.tickets:
            return []
        return self.check_context(ctx)

    def check_context(self, ctx: Context) -> list[RuleHit]:
        raise NotImplementedError

    def hit_at(self, ctx: Context, reason: str, span: tuple[int, int], **extra: Any) -> RuleHit:
        """A hit with its span and evidence taken from the reply."""
        return self.hit(reason, span=span, evidence=ctx.evidence(span), **extra)
