"""The structured task the negotiation rules read from ``Sample.task``.

Schema (unknown keys are kept and ignored, so logs can carry more)::

    {
      "hotel": "Hotel Aurora", "city": "Lisbon", "currency": "EUR", "language": "en",
      "tickets": [
        {"id": "T1", "room_type": "Deluxe Double Room",
         "current_price": 120, "target_price": 95,      # required
         "currency": "EUR",                              # default: the task's
         "net_price": 120,                               # default: current_price
         "selling_price": 138,                           # what guests see on the platform
         "aliases": ["the double"], "allowed_prices": [99]}
      ],
      "offers": ["two weeks of free homepage promotion"],  # concessions the agent may offer
      "facts": {"competitor_price": 99, "searches_last_month": 340},  # claims the agent may make
      "allowed_prices": [110]                              # extra amounts allowed in replies
    }

Every price is a number above 0 (or its text, ``"120"``); ``true``, 0, a negative amount, ``NaN`` or
``Infinity`` is refused naming the field.

Single-room shorthand: ``room_type``, ``current_price``, ``target_price`` (and the
optional price keys) at the top level make one ticket with id ``"T1"``.

``current_price`` is the hotel's current rate to the agency, the net price being
negotiated; ``selling_price`` is the price guests see (net plus the agency's markup).

Example:
    >>> t = parse_task({"hotel": "Aurora", "room_type": "Twin Room", "current_price": 110, "target_price": 90})
    >>> t.tickets[0].id, t.tickets[0].net, t.currency
    ('T1', 110.0, 'EUR')
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

__all__ = ["NegotiationTask", "Price", "Ticket", "parse_task", "task_numbers"]

ROOM_NOUNS = frozenset(
    "suite twin double single triple quad studio apartment king queen dorm penthouse villa bungalow loft".split()
)
_GENERIC = frozenset({"room", "rooms", "the", "with", "and", "of", "a"})


def _not_a_flag(value: Any) -> Any:
    if isinstance(value, bool):  # pydantic would read true as 1.0
        raise ValueError(f"a price must be a number, got {str(value).lower()}")
    return value


#: an amount: a number (or its text) above 0; a flag, 0, a negative amount, NaN or infinity is refused
Price = Annotated[float, BeforeValidator(_not_a_flag), Field(gt=0)]


class Ticket(BaseModel):
    """One room type to negotiate (a "ticket" in the agency's internal wording)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)  # a NaN price would silently pass every check

    id: str = "T1"
    room_type: str = "room"
    current_price: Price
    target_price: Price
    currency: str | None = None
    net_price: Price | None = None
    selling_price: Price | None = None
    aliases: list[str] = Field(default_factory=list)
    allowed_prices: list[Price] = Field(default_factory=list)

    @property
    def net(self) -> float:
        """The net rate under negotiation (``net_price``, else ``current_price``)."""
        return self.net_price if self.net_price is not None else self.current_price

    def net_side_prices(self) -> list[float]:
        """Prices on the hotel-to-agency side: current, net and target."""
        return [p for p in (self.current_price, self.net, self.target_price) if p is not None]


class NegotiationTask(BaseModel):
    """The task info of one negotiation."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    hotel: str | None = None
    city: str | None = None
    currency: str = "EUR"
    language: str = "en"
    tickets: list[Ticket] = Field(default_factory=list)
    offers: list[str] = Field(default_factory=list)
    facts: Any = None
    allowed_prices: list[Price] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("tickets") and "current_price" in data:
            keys = ("room_type", "current_price", "target_price", "net_price", "selling_price", "aliases")
            ticket = {k: data[k] for k in keys if k in data}
            ticket["id"] = str(data.get("ticket_id", "T1"))
            data = {**data, "tickets": [ticket]}
        return data

    @model_validator(mode="after")
    def _ticket_currency(self) -> NegotiationTask:
        for t in self.tickets:
            if t.currency is None:
                t.currency = self.currency
        return self

    def ticket(self, ticket_id: str) -> Ticket | None:
        return next((t for t in self.tickets if t.id == ticket_id), None)

    def aliases(self) -> dict[str, list[str]]:
        """Lower-case names each ticket is referred to by, longest first.

        The full room type, the room type without "room", the given aliases, and the
        room noun alone ("suite", "twin") when no other ticket shares it.
        """
        nouns: dict[str, list[str]] = {}
        for t in self.tickets:
            for w in re.findall(r"[a-z]+", t.room_type.lower()):
                if w in ROOM_NOUNS:
                    nouns.setdefault(w, []).append(t.id)
        out: dict[str, list[str]] = {}
        for t in self.tickets:
            full = t.room_type.lower().strip()
            words = [w for w in re.findall(r"[a-z]+", full) if w not in _GENERIC]
            names = {full, " ".join(words), *(a.lower() for a in t.aliases)}
            names |= {w for w in words if w in ROOM_NOUNS and nouns.get(w) == [t.id]}
            out[t.id] = sorted((n for n in names if n), key=len, reverse=True)
        return out

    def names(self) -> list[str]:
        """Proper names from the task (hotel, city, room types) that replies may quote as they are."""
        return [n for n in (self.hotel, self.city, *(t.room_type for t in self.tickets)) if n]

    def price_range(self) -> tuple[float, float]:
        """Amounts a bare number must fall in to be read as a price of this task."""
        prices = [p for t in self.tickets for p in (t.current_price, t.target_price, t.selling_price) if p]
        prices += self.allowed_prices
        if not prices:
            return (1.0, 1e9)
        return (0.3 * min(prices), 3.0 * max(prices))


def task_numbers(value: Any) -> set[float]:
    """Every number anywhere in a task value (facts, offers text, prices), for "is this number known?".

    Example:
        >>> sorted(task_numbers({"facts": {"searches": 340, "note": "rated 4.6 by 212 guests"}}))
        [4.6, 212.0, 340.0]
    """
    from repo_sdk_negotiation.numwords import find_numbers

    out: set[float] = set()
    if isinstance(value, bool):
        return out
    if isinstance(value, (int, float)):
        out.add(float(value))
    elif isinstance(value, str):
        out |= {n.value for n in find_numbers(value)}
    elif isinstance(value, dict):
        for v in value.values():
            out |= task_numbers(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            out |= task_numbers(v)
    return out


@lru_cache(maxsize=256)
def _parse_cached(key: str) -> NegotiationTask:
    import json

    return NegotiationTask.model_validate(json.loads(key))


def parse_task(task: dict[str, Any]) -> NegotiationTask:
    """The NegotiationTask of a sample's task dict; raises ValueError naming the bad field.

    Parsed tasks are cached by content: a logged dialogue shares one task across its turns.
    """
    import json

    try:
        key = json.dumps(task, sort_keys=True, default=str)
        return _parse_cached(key)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        got = f" (got {err['input']!r:.60})" if err["type"] != "missing" else ""
        raise ValueError(f"negotiation task: {loc}: {err['msg']}{got}") from None
