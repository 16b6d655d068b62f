"""Where a negotiation stands: per-ticket state replayed from the turns so far.

Each hotel turn is read as one of ``silent``, ``unclear``, ``accept`` (agrees to
the agent's last proposal), ``quote`` (names its own price), ``reject``,
``confirm`` or ``other``. Each agent turn is read as acts: ``propose`` (a price
below the current one, asked for), ``push`` (asks for a lower price without a
number), ``accept``, ``fallback``, ``confirm_q``. Replaying them gives, per ticket:
whether the hotel confirmed the room, the hotel's quotes, the agent's proposals,
and whether the ticket is closed (``agreed`` or ``fallback``).

Tickets are attributed to text by the room names the task gives (see
:meth:`NegotiationTask.aliases`), else by which ticket a price belongs to, else by
the ticket in focus (the one talked about last).

Example:
    >>> from repo_sdk.types import Turn
    >>> task = {"room_type": "Deluxe Double Room", "current_price": 120, "target_price": 95}
    >>> st = NegotiationState.replay(task, [
    ...     Turn(role="assistant", content="Hello, is your Deluxe Double still at €120?"),
    ...     Turn(role="user", content="Yes, that's right."),
    ...     Turn(role="assistant", content="Could you lower it to €95?"),
    ...     Turn(role="user", content="OK, 95 works for us."),
    ... ])
    >>> st.tickets["T1"].confirmed, st.tickets["T1"].status, st.tickets["T1"].accepted_price
    (True, 'agreed', 95.0)
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import Any

from repo_sdk.rules.text import fold
from repo_sdk.types import Turn
from repo_sdk_negotiation import cues
from repo_sdk_negotiation.acts import TOL, Act, AgentReading, HotelKind, HotelReading, TicketState
from repo_sdk_negotiation.phrases import union_for
from repo_sdk_negotiation.prices import find_prices
from repo_sdk_negotiation.task import NegotiationTask, parse_task
from repo_sdk_negotiation.text import (
    Segment,
    commas,
    find_terms,
    is_negated,
    normalise,
    segment_at,
    sentences,
)

__all__ = ["TOL", "Act", "AgentReading", "HotelReading", "NegotiationState", "TicketState"]


def _ref_start(ref: tuple[int, int, str]) -> int:
    return ref[0]


class NegotiationState:
    """Per-ticket state of one negotiation, updated turn by turn."""

    def __init__(self, task: NegotiationTask | dict[str, Any]) -> None:
        self.task = task if isinstance(task, NegotiationTask) else parse_task(task)
        self.tickets = {t.id: TicketState(t.id) for t in self.task.tickets}
        self.focus: str | None = self.task.tickets[0].id if len(self.task.tickets) == 1 else None
        self._last_hotel: HotelReading | None = None
        self._unread_hotel: str | None = None  # a hotel turn of a task without tickets, read when asked for
        self.hotel_replied = False
        self.last_agent: AgentReading | None = None
        self._aliases = self.task.aliases()
        self._alias_owner = {a: tid for tid, names in self._aliases.items() for a in names}
        self._plausible = self.task.price_range()
        self._split: tuple[str, list[Segment]] | None = None

    @classmethod
    def replay(cls, task: NegotiationTask | dict[str, Any], turns: Sequence[Turn]) -> NegotiationState:
        """The state after ``turns`` (the history before a reply)."""
        state = cls(task)
        for i, turn in enumerate(turns):
            state.feed(turn, i)
        return state

    @property
    def last_hotel(self) -> HotelReading | None:
        """The reading of the last hotel turn (None before any)."""
        if self._unread_hotel is not None:
            self._last_hotel, self._unread_hotel = self.read_hotel(self._unread_hotel), None
        return self._last_hotel

    @last_hotel.setter
    def last_hotel(self, reading: HotelReading | None) -> None:
        self._last_hotel, self._unread_hotel = reading, None

    def defer_hotel(self, content: str) -> None:
        """Take a hotel turn of a task without tickets, to be read only when ``last_hotel`` is asked for.

        Without tickets nothing a hotel turn says changes the state (no quote or
        acceptance has a ticket to go to), so only its reading is kept, and reading it
        later gives what reading it now would.
        """
        if self.tickets:
            raise ValueError("only a task without tickets defers its hotel turns")
        self._unread_hotel, self.hotel_replied = content, True

    # --- attribution ---------------------------------------------------------
    def refs(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, ticket id)`` of each room name in ``text``."""
        return [(a, b, self._alias_owner[term]) for a, b, term in find_terms(text, list(self._alias_owner))]

    def ticket_of_price(self, value: float) -> str | None:
        """The one ticket a price belongs to (task prices, quotes, proposals), if unique."""
        owners = set()
        for t in self.task.tickets:
            st = self.tickets[t.id]
            known = [t.current_price, t.target_price, t.net, t.selling_price, *st.quotes, *st.proposals]
            if any(k is not None and abs(k - value) <= TOL for k in known):
                owners.add(t.id)
        return owners.pop() if len(owners) == 1 else None

    def attribute(self, text: str, refs: list[tuple[int, int, str]], pos: int, value: float | None) -> str | None:
        """The ticket the text at ``pos`` is about: a room named in its sentence, else the
        ticket a price ``value`` belongs to, else the last room named before, else the focus."""
        seg = segment_at(self._sentences(text), pos)
        # refs are sorted by start: bisect instead of scanning them for every price
        upto = bisect_right(refs, pos, key=_ref_start)  # refs starting at or before pos
        if seg is not None:
            lo, hi = bisect_left(refs, seg.start, key=_ref_start), bisect_left(refs, seg.end, key=_ref_start)
            if lo < hi:  # a room named in the sentence: the last one before pos, else the first
                return refs[min(upto, hi) - 1][2] if upto > lo else refs[lo][2]
        if value is not None and (owner := self.ticket_of_price(value)):
            return owner
        return refs[upto - 1][2] if upto else self.focus

    def _sentences(self, text: str) -> list[Segment]:
        """The sentences of the text being read (kept for the text last asked about)."""
        if self._split is None or self._split[0] is not text:
            self._split = (text, sentences(text))
        return self._split[1]

    # --- reading -------------------------------------------------------------
    def read_hotel(self, content: str) -> HotelReading:
        """How a hotel turn reads, given the state before it."""
        text = normalise(content)
        asks_who = bool(cues.WHO_ASKS.search(text))
        if cues.SILENCE.match(text):
            return HotelReading("silent")
        if cues.FILLER_ONLY.match(text):
            return HotelReading("unclear")
        refs = self.refs(text)
        objection = bool(cues.REJECT.search(text) or cues.OBJECTION.search(text))

        pieces = commas(text)
        sents = self._sentences(text)

        def plain(pos: int, lo: int = 0, hi: int = len(text)) -> bool:
            """Whether the text around ``pos`` neither rejects (in its comma piece) nor hedges (in its sentence);
            ``lo``/``hi`` bound both by the neighbouring prices ("we cannot do 230, 245 is ok")."""
            piece, sent = segment_at(pieces, pos), segment_at(sents, pos)
            a, b = max(lo, piece.start if piece else 0), min(hi, piece.end if piece else len(text))
            c, d = max(lo, sent.start if sent else 0), min(hi, sent.end if sent else len(text))
            return not (cues.REJECT.search(text[a:b]) or cues.HEDGE.search(text[c:d]))

        prices = find_prices(text, plausible=self._plausible, loose=True)
        quotes: dict[str, float] = {}
        accepts: dict[str, float] = {}
        last: str | None = None
        for k, p in enumerate(prices):
            lo = prices[k - 1].end if k else 0
            hi = prices[k + 1].start if k + 1 < len(prices) else len(text)
            tid = self.attribute(text, refs, p.start, p.value)
            if tid is None or not plain(p.start, lo, hi):
                continue
            st, last = self.tickets[tid], tid
            if st.proposals and abs(st.proposals[-1] - p.value) <= TOL and not st.closed:
                accepts[tid] = p.value
                quotes.pop(tid, None)
            else:
                quotes[tid] = p.value
                accepts.pop(tid, None)
        tid = last or (refs[-1][2] if refs else self.focus)
        if not quotes and not accepts:
            agreed = [
                m for m in cues.HOTEL_ACCEPT.finditer(text) if not is_negated(text, m.start()) and plain(m.start())
            ]
            st = self.tickets.get(tid) if tid else None
            if agreed and st is not None and st.proposals and not st.closed:
                accepts[st.id] = st.proposals[-1]
            elif agreed:
                return HotelReading("confirm", tid, objection=objection, asks_who=asks_who)
        if accepts or quotes:
            kind: HotelKind = "accept" if accepts else "quote"
            return HotelReading(kind, tid, quotes, accepts, objection, asks_who)
        if cues.REJECT.search(text):
            return HotelReading("reject", tid, objection=True, asks_who=asks_who)
        if cues.HEDGE.search(text):
            return HotelReading("unclear", tid, objection=objection, asks_who=asks_who)
        if cues.HOTEL_CONFIRM.search(text):
            return HotelReading("confirm", tid, objection=objection, asks_who=asks_who)
        return HotelReading("other", tid, objection=objection, asks_who=asks_who)

    def read_agent(self, content: str, folded: str | None = None) -> AgentReading:
        """The acts of an agent turn, given the state before it.

        ``folded``: :func:`repo_sdk.rules.text.fold` of ``content``, where the caller has it. For a task
        without tickets the acts and prices are read when first asked for: no act can name a ticket, so the
        state has nothing to give them or take from them.
        """
        text = normalise(content)
        if text is not content:  # straightened quotes: folded when needed
            folded = None
        if not self.tickets:
            return _Deferred(text, folded, self._read_agent)
        return self._read_agent(text, folded)

    def _read_agent(self, text: str, folded: str | None = None) -> AgentReading:
        reading = AgentReading(text=text, refs=self.refs(text))
        focus = self.focus
        # each cue reduced to the phrases whose words the reply holds (None: none), searched sentence by sentence
        folded = fold(text) if folded is None else folded
        purpose_cue, intro_cue, proposal_cue, push_cue, request_cue = (
            union_for(c, folded) for c in (cues.PURPOSE, cues.INTRO, cues.PROPOSAL, cues.PUSH, cues.REQUEST)
        )
        act_cues = [
            (kind, union)
            for kind, pattern in (
                ("accept", cues.AGENT_ACCEPT),
                ("fallback", cues.FALLBACK),
                ("confirm_q", cues.CONFIRM_Q),
            )
            if (union := union_for(pattern, folded)) is not None
        ]
        seen: dict[str, tuple[bool, tuple[int, int, str] | None, list[tuple[str, int, int, str]]]] = {}
        all_prices = find_prices(text, plausible=self._plausible)
        r, q = 0, 0  # refs and prices are sorted by start: walk them along with the sentences
        for sent in self._sentences(text):
            while r < len(reading.refs) and reading.refs[r][0] < sent.start:
                r += 1
            while q < len(all_prices) and all_prices[q].start < sent.start:
                q += 1
            r0, q0 = r, q
            while r < len(reading.refs) and reading.refs[r][0] < sent.end:
                r += 1
            while q < len(all_prices) and all_prices[q].start < sent.end:
                q += 1
            srefs, prices = reading.refs[r0:r], all_prices[q0:q]
            owners = [self.attribute(text, reading.refs, p.start, p.value) for p in prices]
            reading.prices.extend(zip(prices, owners, strict=True))
            tid = srefs[0][2] if srefs else next((o for o in owners if o), focus)
            found = seen.get(sent.text)
            if found is None:  # what the cues say depends on the sentence alone: a repeated one is read once
                found = seen[sent.text] = self._sentence_cues(
                    sent.text, purpose_cue, intro_cue, push_cue, request_cue, act_cues
                )
            purpose, push_act, sentence_acts = found
            proposed = False
            for p, owner in zip(prices, owners, strict=True):
                if owner is None or purpose:
                    continue
                ticket, st = self.task.ticket(owner), self.tickets[owner]
                assert ticket is not None
                known = [*st.quotes, *([st.accepted_price] if st.accepted_price is not None else [])]
                if p.value < ticket.current_price - TOL and not any(abs(k - p.value) <= TOL for k in known):
                    if (proposal_cue is not None and proposal_cue.search(sent.text)) or sent.text.rstrip().endswith(
                        "?"
                    ):
                        reading.acts.append(Act("propose", owner, p.start, p.end, p.text, p.value))
                        proposed = True
            if not proposed and push_act is not None and not purpose:
                a, b, evidence = push_act
                reading.acts.append(Act("push", tid, sent.start + a, sent.start + b, evidence))
            for kind, a, b, evidence in sentence_acts:
                reading.acts.append(Act(kind, tid, sent.start + a, sent.start + b, evidence))  # type: ignore[arg-type]
            if srefs:
                focus = srefs[-1][2]
            elif any(owners):
                focus = next(o for o in reversed(owners) if o)
        return reading

    @staticmethod
    def _sentence_cues(
        sentence: str,
        purpose_cue: re.Pattern[str] | None,
        intro_cue: re.Pattern[str] | None,
        push_cue: re.Pattern[str] | None,
        request_cue: re.Pattern[str] | None,
        act_cues: list[tuple[str, re.Pattern[str]]],
    ) -> tuple[bool, tuple[int, int, str] | None, list[tuple[str, int, int, str]]]:
        """What an agent sentence's cues say: whether it states its purpose, its push (if a request,
        not negated), and its accept / fallback / confirm acts, with offsets in the sentence.
        A cue is None when the reply lacks its words."""
        purpose = bool(
            (purpose_cue is not None and purpose_cue.search(sentence))
            or (intro_cue is not None and intro_cue.search(sentence))
        )
        push = push_cue.search(sentence) if push_cue is not None else None
        push_act = None
        if push and request_cue is not None and request_cue.search(sentence) and not is_negated(sentence, push.start()):
            push_act = (push.start(), push.end(), push.group(0))
        acts = []
        for kind, pattern in act_cues:
            m = pattern.search(sentence)
            if m and not (kind == "accept" and is_negated(sentence, m.start())):
                acts.append((kind, m.start(), m.end(), m.group(0)))
        return purpose, push_act, acts

    # --- updating ------------------------------------------------------------
    def feed(self, turn: Turn, index: int) -> HotelReading | AgentReading | None:
        """Read one turn and update the state; returns the reading (None for system and tool turns,
        and for an agent turn that only calls tools: it says nothing to the hotel)."""
        if turn.role == "user":
            hotel = self.read_hotel(turn.content)
            self.apply_hotel(hotel, turn.content, index)
            return hotel
        if turn.role == "assistant" and not turn.is_tool_call_only:
            agent = self.read_agent(turn.content)
            self.apply_agent(agent, index)
            return agent
        return None

    def apply_hotel(self, reading: HotelReading, content: str, index: int) -> None:
        """Update the state with a hotel turn: confirmations, acceptances and quotes."""
        self.last_hotel, self.hotel_replied = reading, True
        if reading.kind in ("silent", "unclear") or reading.asks_who:
            return
        engaged = {r[2] for r in self.refs(normalise(content))}
        if self.last_agent is not None:
            engaged |= {r[2] for r in self.last_agent.refs} | {o for _, o in self.last_agent.prices if o}
            engaged |= {a.ticket for a in self.last_agent.acts if a.ticket}
        engaged |= set(reading.quotes) | set(reading.accepts)
        for tid in engaged:
            if tid in self.tickets:
                self.tickets[tid].confirmed = True
        for tid, price in reading.accepts.items():
            st = self.tickets[tid]
            if not st.closed:
                st.status, st.accepted_price, st.closed_at = "agreed", price, index
        for tid, price in reading.quotes.items():
            self.tickets[tid].quotes.append(price)
        if reading.ticket:
            self.focus = reading.ticket

    def apply_agent(self, reading: AgentReading, index: int) -> None:
        """Update the state with an agent turn: mentions, proposals, closing by acceptance or fallback."""
        if not self.tickets:  # no ticket to mention, propose on or close: only the turn order changes
            self.last_agent, self.hotel_replied = reading, False
            return
        for _, _, tid in reading.refs:
            self.tickets[tid].mentioned = True
        for _, owner in reading.prices:
            if owner:
                self.tickets[owner].mentioned = True
        for act in reading.acts:
            if act.kind in ("propose", "push") and act.ticket in self.tickets:
                self.tickets[act.ticket].asked = True
                if act.price is not None:
                    self.tickets[act.ticket].proposals.append(act.price)
        for tid, st in self.tickets.items():
            if st.closed:
                continue
            price = self.accepted_quote(reading, tid)
            if price is not None:
                st.status, st.accepted_price, st.closed_at = "agreed", price, index
            elif reading.of("fallback", tid) and not reading.of("propose", tid):
                st.status, st.closed_at = "fallback", index
        mentions = [(a, tid) for a, _, tid in reading.refs] + [(p.start, o) for p, o in reading.prices if o]
        if mentions:
            self.focus = max(mentions)[1]
        self.last_agent, self.hotel_replied = reading, False

    def accepted_quote(self, reading: AgentReading, tid: str) -> float | None:
        """The hotel quote an agent turn accepts for ``tid``, if it accepts one.

        It accepts the quote of the hotel's last turn (once the negotiation started:
        a quote equal to the current price before any ask is only a confirmation), or
        any earlier quote it names explicitly ("we accept €155").
        """
        st, ticket = self.tickets[tid], self.task.ticket(tid)
        if not reading.accepts(tid) or ticket is None:
            return None
        hotel = self.last_hotel if self.hotel_replied else None
        offer = hotel.quotes.get(tid) if hotel is not None else None
        if offer is not None and (st.asked or offer < ticket.current_price - TOL):
            return offer
        named = [p.value for p, owner in reading.prices if owner == tid]
        return next((q for q in reversed(st.quotes) if any(abs(q - v) <= TOL for v in named)), None)

    def open_tickets(self) -> list[str]:
        """Ids of the tickets neither agreed nor closed by a fallback."""
        return [tid for tid, st in self.tickets.items() if not st.closed]


class _Deferred(AgentReading):
    """The reading of an agent turn of a task without tickets: acts and prices read on first use."""

    def __init__(self, text: str, folded: str | None, read: Callable[[str, str | None], AgentReading]) -> None:
        self.text, self.refs, self._folded, self._read = text, [], folded, read

    def __getattr__(self, name: str) -> Any:
        if name not in ("acts", "prices"):
            raise AttributeError(name)
        full = self._read(self.text, self._folded)
        self.acts, self.prices = full.acts, full.prices
        return getattr(self, name)
