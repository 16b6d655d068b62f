"""What the state tracker reads out of turns: per-ticket state, hotel readings, agent acts.

Example:
    >>> r = HotelReading("quote", "T1", quotes={"T1": 110.0})
    >>> r.offers("T1"), r.offers("T2")
    (True, False)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from repo_sdk_negotiation.prices import PriceMention

__all__ = ["TOL", "Act", "ActKind", "AgentReading", "HotelKind", "HotelReading", "TicketState"]

TOL = 0.01
HotelKind = Literal["silent", "unclear", "accept", "quote", "reject", "confirm", "other"]
ActKind = Literal["propose", "push", "accept", "fallback", "confirm_q"]


@dataclass
class TicketState:
    """What the turns so far say about one ticket."""

    id: str
    mentioned: bool = False
    confirmed: bool = False
    proposals: list[float] = field(default_factory=list)
    asked: bool = False
    quotes: list[float] = field(default_factory=list)
    accepted_price: float | None = None
    status: Literal["open", "agreed", "fallback"] = "open"
    closed_at: int | None = None

    @property
    def closed(self) -> bool:
        return self.status != "open"


@dataclass(frozen=True)
class HotelReading:
    """How one hotel turn reads.

    Attributes:
        kind: the turn as a whole (``accept`` if it accepts any proposal, else ``quote`` if it names a price).
        ticket: the ticket it is mostly about (the last one it names or prices), if known.
        quotes: ticket -> the price the hotel offers for it (its last one in the turn), proposals accepted excluded.
        accepts: ticket -> the agent's proposal the hotel agrees to.
        objection: the turn rejects or objects to something.
        asks_who: the hotel asks who is writing.
    """

    kind: HotelKind
    ticket: str | None = None
    quotes: dict[str, float] = field(default_factory=dict)
    accepts: dict[str, float] = field(default_factory=dict)
    objection: bool = False
    asks_who: bool = False

    def offers(self, ticket: str | None) -> bool:
        """Whether this turn quotes or accepts a price for ``ticket``."""
        return ticket is not None and (ticket in self.quotes or ticket in self.accepts)


@dataclass(frozen=True)
class Act:
    """One thing an agent turn does, with its evidence span in the (normalised) text."""

    kind: ActKind
    ticket: str | None
    start: int
    end: int
    evidence: str
    price: float | None = None


@dataclass
class AgentReading:
    """How one agent turn reads: its acts, ticket references and prices."""

    text: str
    acts: list[Act] = field(default_factory=list)
    refs: list[tuple[int, int, str]] = field(default_factory=list)
    prices: list[tuple[PriceMention, str | None]] = field(default_factory=list)

    def of(self, kind: ActKind, ticket: str | None = None) -> list[Act]:
        return [a for a in self.acts if a.kind == kind and (ticket is None or a.ticket == ticket)]

    def accepts(self, ticket: str) -> bool:
        """An accept act for the ticket and no proposal or push on it."""
        return bool(self.of("accept", ticket)) and not self.of("propose", ticket) and not self.of("push", ticket)
