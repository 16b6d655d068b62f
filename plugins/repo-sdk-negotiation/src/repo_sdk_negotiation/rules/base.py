"""What every negotiation turn rule starts from: the task, the state before the reply, the reply read.

The state is a :class:`NegotiationTracker`, a tracker of the core's dialogue context
(:mod:`repo_sdk.rules.context`): it reads each turn of a dialogue once, in order,
and carries the per-ticket state from one reply to the next, so a dialogue costs
linear time in its length. All negotiation rules of a spec share it, and the reading
of a reply is made once and reused when that reply becomes history.

Example:
    >>> from repo_sdk.testing import make_sample
    >>> ctx = context_of(make_sample(response="Could you do €95?", task={"current_price": 120, "target_price": 95}))
    >>> [a.kind for a in ctx.reading.acts], ctx.task.tickets[0].id
    (['propose'], 'T1')
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from repo_sdk.interfaces import Rule
from repo_sdk.plugin_config import ConfigT
from repo_sdk.rules.context import DialogueContext, DialogueTracker, TurnContext
from repo_sdk.rules.text import fold
from repo_sdk.rules.views import TextView
from repo_sdk.types import RuleHit, Sample, Turn
from repo_sdk_negotiation.acts import Act, TicketState
from repo_sdk_negotiation.phrases import finditer_for, union_for
from repo_sdk_negotiation.state import AgentReading, HotelReading, NegotiationState
from repo_sdk_negotiation.task import NegotiationTask, parse_task

__all__ = ["AgentStep", "Context", "NegotiationRule", "NegotiationTracker", "context_of", "fmt_price"]


@dataclass(frozen=True)
class Context:
    """A reply in context. Treat as read-only: it is shared between rules."""

    response: str
    history: tuple[Turn, ...]
    task: NegotiationTask
    state: NegotiationState
    reading: AgentReading
    dialogue: DialogueContext | None = None  # the core's context: more trackers of the same dialogue
    reply: TextView | None = None  # the reply's text view: what rules read off it, made once per text

    @property
    def hotel(self) -> HotelReading:
        """The hotel's reply to the agent's last turn; ``silent`` when the hotel has not replied."""
        if self.state.hotel_replied and self.state.last_hotel is not None:
            return self.state.last_hotel
        return HotelReading("silent")

    @cached_property
    def folded(self) -> str:
        """The reply read (``reading.text``) case-folded, for :meth:`can`."""
        if self.reply is not None and self.reply.text is self.reading.text:  # (no quotes straightened)
            return self.reply.folded
        return fold(self.reading.text)

    def can(self, pattern: re.Pattern[str]) -> bool:
        """False when the reply lacks words ``pattern`` needs, so searching it would find nothing."""
        return union_for(pattern, self.folded) is not None

    def union(self, pattern: re.Pattern[str]) -> re.Pattern[str] | None:
        """What of ``pattern`` may match the reply (:func:`repo_sdk_negotiation.text.union_for`); None: nothing."""
        return union_for(pattern, self.folded)

    def finditer(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        """``pattern.finditer`` over the reply (``reading.text``), searched as :meth:`union` allows and, in a long
        reply, only where a match may start (:func:`repo_sdk_negotiation.phrases.finditer_for`)."""
        return finditer_for(pattern, self.reading.text, self.folded)

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


@dataclass(frozen=True)
class AgentStep:
    """An agent turn of a negotiation with tickets, as the state before it saw it (for dialogue rules).

    Attributes:
        index: the turn's index in the dialogue.
        reading: its reading.
        hotel: the hotel's reply to the agent's turn before it (None: no reply since).
        open_unasked: the tickets neither closed nor asked about before it.
    """

    index: int
    reading: AgentReading
    hotel: HotelReading | None
    open_unasked: frozenset[str]


class NegotiationTracker(DialogueTracker):
    """The negotiation state of a dialogue, fed turn by turn; the shared :class:`Context` of each reply.

    ``steps`` lists the agent turns fed so far (of a task with tickets), so dialogue rules
    read the whole conversation from the state the turn rules built. Raises ``ValueError``
    (naming the field) when the dialogue's task is not a valid negotiation task.
    """

    def __init__(self, dialogue: DialogueContext) -> None:
        super().__init__(dialogue)
        self.state = NegotiationState(parse_task(dict(dialogue.task)))
        self.steps: list[AgentStep] = []
        # the last reply read, with the number of turns fed when it was: (view, fed, context)
        self._read: tuple[TextView, int, Context] | None = None
        self._fed = 0

    def feed(self, index: int, turn: Turn, view: TextView) -> None:
        state = self.state
        if turn.role == "assistant" and not turn.is_tool_call_only:  # a tool call alone says nothing to the hotel
            read = self._read
            if read is not None and read[0] is view and read[1] == self._fed:
                reading = read[2].reading  # read against this very state already
            else:
                reading = state.read_agent(turn.content)
            if state.tickets:
                hotel = state.last_hotel if state.hotel_replied else None
                open_unasked = frozenset(t for t, st in state.tickets.items() if not st.closed and not st.asked)
                self.steps.append(AgentStep(index, reading, hotel, open_unasked))
            state.apply_agent(reading, index)
        elif turn.role == "user" and not state.tickets:
            state.defer_hotel(turn.content)  # read only if a rule asks what the hotel said
        else:
            state.feed(turn, index)
        self._fed += 1

    def context(self, turn: TurnContext) -> Context:
        """The reply read against the state before it; made once per reply and shared by the rules."""
        read = self._read
        if read is None or read[0] is not turn.reply or read[1] != self._fed:
            state, reply = self.state, turn.reply
            reading = state.read_agent(reply.text, reply.folded if state.tickets else None)  # (chit-chat: never)
            history = tuple(self.dialogue.turns)
            ctx = Context(turn.reply.text, history, state.task, state, reading, self.dialogue, turn.reply)
            read = self._read = (turn.reply, self._fed, ctx)
        return read[2]


def context_of(sample: Sample) -> Context:
    """The context of a lone sample (its history read once)."""
    turn = TurnContext.of_sample(sample)
    return turn.dialogue.tracker(NegotiationTracker).context(turn)


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


class NegotiationRule(Rule[ConfigT]):
    """A turn rule over a negotiation task: ``check_context`` gets the shared :class:`Context`.

    Samples whose task has no tickets are not negotiations (or not this schema):
    rules that need tickets return no hit for them (``needs_tickets``).
    """

    needs_tickets: bool = True

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        tracker = turn.dialogue.tracker(NegotiationTracker)
        if self.needs_tickets and not tracker.state.task.tickets:  # (no context made for it)
            return []
        return self.check_context(tracker.context(turn))

    def check_context(self, ctx: Context) -> list[RuleHit]:
        raise NotImplementedError

    def hit_at(self, ctx: Context, reason: str, span: tuple[int, int], **extra: Any) -> RuleHit:
        """A hit with its span and evidence taken from the reply."""
        return self.hit(reason, span=span, evidence=ctx.evidence(span), **extra)
