"""The negotiation SOP: ordered stages and a keyword detector of the stage of each reply.

Stages, in SOP order:

1. ``greet``: greet, say who is writing and why ("Hello, this is Ana from TripNest, about your rates").
2. ``confirm_room``: confirm the room type and its current price with the hotel.
3. ``make_case``: argue for a better price (competitiveness, visibility, demand).
4. ``propose``: propose a price or counter the hotel's quote.
5. ``handle_objection``: acknowledge the hotel's objection (empathy, reasons).
6. ``close``: accept the agreed price, confirm next steps, say goodbye.
7. ``fallback``: no agreement: keep the current price politely and leave the door open.

A reply often does several things; :meth:`NegotiationSOP.stages_in` lists every
stage cue with its ticket and position, and ``stage_of`` returns the stage the
reply ends in (its last cue). Detection is by English keyword cues over the reply
and the state replayed from the history, so it is cheap and explainable but misses
paraphrases outside its cue lists and other languages.

Example:
    >>> from repo_sdk.testing import make_sample
    >>> task = {"room_type": "Deluxe Double Room", "current_price": 120, "target_price": 95}
    >>> sop = NegotiationSOP()
    >>> sop.stage_of(make_sample(response="Hello, this is Ana from TripNest. Is your Deluxe Double "
    ...     "still at €120 per night?", task=task, history=[]))
    'confirm_room'
    >>> [c.stage for c in sop.stages_in(make_sample(response="Hello, this is Ana from TripNest.", task=task,
    ...     history=[]))]
    ['greet']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from repo_sdk.interfaces import SOPModel
from repo_sdk.types import Sample
from repo_sdk_negotiation import cues
from repo_sdk_negotiation.state import AgentReading, NegotiationState

__all__ = ["STAGES", "NegotiationSOP", "StageCue", "stage_cues"]

STAGES = ("greet", "confirm_room", "make_case", "propose", "handle_objection", "close", "fallback")


@dataclass(frozen=True)
class StageCue:
    """Evidence that a reply is in a stage: where, about which ticket (None: the whole conversation)."""

    stage: str
    start: int
    end: int
    evidence: str
    ticket: str | None = None


def stage_cues(state: NegotiationState, reading: AgentReading) -> list[StageCue]:
    """Stage cues of an agent turn read against the state before it, in text order."""
    text = reading.text
    out: list[StageCue] = []
    greet = [m for p in (cues.GREETING, cues.INTRO, cues.PURPOSE) if (m := p.search(text)) is not None]
    if greet:
        m = min(greet, key=lambda m: m.start())
        out.append(StageCue("greet", m.start(), m.end(), m.group(0)))
    for act in reading.acts:
        stage = {"confirm_q": "confirm_room", "propose": "propose", "push": "propose", "fallback": "fallback"}.get(
            act.kind
        )
        if stage:
            out.append(StageCue(stage, act.start, act.end, act.evidence, act.ticket))
    if (m := cues.CASE.search(text)) is not None:
        out.append(StageCue("make_case", m.start(), m.end(), m.group(0), state.focus))
    hotel = state.last_hotel if state.hotel_replied else None
    if hotel is not None and (hotel.objection or hotel.kind == "reject") and (m := cues.EMPATHY.search(text)):
        out.append(StageCue("handle_objection", m.start(), m.end(), m.group(0), hotel.ticket))
    for act in reading.of("accept"):
        st = state.tickets.get(act.ticket) if act.ticket else None
        if (
            st is not None
            and reading.accepts(st.id)
            and (st.status == "agreed" or state.accepted_quote(reading, st.id) is not None)
        ):
            out.append(StageCue("close", act.start, act.end, act.evidence, act.ticket))
    if (m := cues.FAREWELL.search(text)) is not None:
        out.append(StageCue("close", m.start(), m.end(), m.group(0)))
    return sorted(out, key=lambda c: (c.start, STAGES.index(c.stage)))


class NegotiationSOP(SOPModel):
    """Hotel price negotiation: greet, confirm room, make the case, propose, handle objections, close/fallback."""

    name: ClassVar[str] = "negotiation"
    description: ClassVar[str] = "hotel price negotiation SOP (7 stages, keyword cues, several tickets)"
    stages: ClassVar[tuple[str, ...]] = STAGES

    def stages_in(self, sample: Sample) -> list[StageCue]:
        """Every stage cue of the reply, in text order."""
        state = NegotiationState.replay(sample.task, sample.history)
        return stage_cues(state, state.read_agent(sample.response))

    def stage_of(self, sample: Sample) -> str | None:
        """The stage the reply ends in (its last cue), or None when no cue is found."""
        found = self.stages_in(sample)
        return found[-1].stage if found else None
