"""Dialogue-level rules: every ticket driven to a close, and the SOP's stage order over the conversation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk.interfaces import Rule
from repo_sdk.rules.context import DialogueContext
from repo_sdk.rules.text import fold
from repo_sdk.types import Dialogue, RuleHit
from repo_sdk_negotiation import cues
from repo_sdk_negotiation.phrases import union_for
from repo_sdk_negotiation.rules.base import NegotiationTracker
from repo_sdk_negotiation.sop import StageCue, stage_cues
from repo_sdk_negotiation.state import AgentReading, NegotiationState
from repo_sdk_negotiation.task import parse_task

__all__ = ["StageOrder", "TicketsClosed", "replay_dialogue"]


def replay_dialogue(
    dialogue: Dialogue,
) -> Iterator[tuple[int, NegotiationState, AgentReading, list[StageCue]]]:
    """For each agent turn: its index, the state before it, its reading and its stage cues.

    The state is updated after each yield, so consume the iterator in order.
    """
    state = NegotiationState(parse_task(dialogue.task))
    for i, turn in enumerate(dialogue.turns):
        if turn.role == "assistant" and not turn.is_tool_call_only:
            reading = state.read_agent(turn.content)
            yield i, state, reading, stage_cues(state, reading)
            state.apply_agent(reading, i)
        else:
            state.feed(turn, i)


class TicketsClosedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: Literal["ended", "always"] = Field(
        "ended",
        description="'ended': check only dialogues whose last agent turn says goodbye; 'always': every dialogue",
    )


class TicketsClosed(Rule[TicketsClosedParams]):
    """A conversation that ends with a room type still open: neither agreed nor closed by a fallback.

    Example:
        >>> from repo_sdk.testing import make_dialogue
        >>> task = {"tickets": [{"id": "T1", "room_type": "Twin Room", "current_price": 120, "target_price": 95},
        ...                     {"id": "T2", "room_type": "Junior Suite", "current_price": 220, "target_price": 190}]}
        >>> d = make_dialogue([("assistant", "Is the twin still at €120?"), ("user", "Yes."),
        ...     ("assistant", "Could you do €95?"), ("user", "OK, 95 works."),
        ...     ("assistant", "Thank you, have a great day!")], task=task)
        >>> [(h.turn_index, h.evidence) for h in TicketsClosed().check_dialogue(d)]
        [(4, 'Junior Suite')]
    """

    name: ClassVar[str] = "negotiation.tickets_closed"
    description: ClassVar[str] = "dialogue ends with a room type neither agreed nor closed by a fallback"
    scope: ClassVar[Literal["turn", "dialogue"]] = "dialogue"
    default_points: ClassVar[float] = -20.0

    def check_dialogue_context(self, dialogue: Dialogue, context: DialogueContext) -> list[RuleHit]:
        p = self.config
        task = parse_task(dialogue.task)
        last = max(
            (i for i, t in enumerate(dialogue.turns) if t.role == "assistant" and not t.is_tool_call_only), default=None
        )
        if not task.tickets or last is None:
            return []
        if p.when == "ended" and not cues.FAREWELL.search(dialogue.turns[last].content):
            return []
        state = context.tracker(NegotiationTracker).state  # after every turn: the turn rules' state
        hits = []
        for tid in state.open_tickets():
            t = task.ticket(tid)
            assert t is not None
            st = state.tickets[tid]
            how = "was left without agreement or fallback" if st.mentioned else "was never discussed"
            hits.append(
                self.hit(
                    f"the conversation ends while the {t.room_type} ({tid}) {how}",
                    evidence=t.room_type,
                    turn_index=last,
                )
            )
        return hits


class StageOrderParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    require_opening: bool = Field(True, description="the first agent turn must greet and say why it writes")
    flag_reintroduction: bool = Field(True, description="introducing oneself again later restarts the script")
    flag_early_fallback: bool = Field(True, description="giving up on a room before any proposal on it")


class StageOrder(Rule[StageOrderParams]):
    """The conversation breaks the SOP's order: no opening, a restarted script, a fallback before any proposal.

    Per-reply order checks (proposal before confirmation, pushing after a yes, not
    accepting a quote at target) are their own turn rules; this one covers what only
    the whole conversation shows.

    Example:
        >>> from repo_sdk.testing import make_dialogue
        >>> task = {"room_type": "Twin Room", "current_price": 120, "target_price": 95}
        >>> d = make_dialogue([("user", "Hotel Aurora, hello."), ("assistant", "Is the twin still at €120?")],
        ...                   task=task)
        >>> [(h.turn_index, h.reason[:20]) for h in StageOrder().check_dialogue(d)]
        [(1, 'opens without greeti')]
    """

    name: ClassVar[str] = "negotiation.stage_order"
    description: ClassVar[str] = "SOP stage order broken over the dialogue (opening, restart, early fallback)"
    scope: ClassVar[Literal["turn", "dialogue"]] = "dialogue"
    default_points: ClassVar[float] = -10.0

    def check_dialogue_context(self, dialogue: Dialogue, context: DialogueContext) -> list[RuleHit]:
        p = self.config
        if not parse_task(dialogue.task).tickets:
            return []
        hits = []
        for k, step in enumerate(context.tracker(NegotiationTracker).steps):
            i, reading, hotel = step.index, step.reading, step.hotel
            text = dialogue.turns[i].content
            first = k == 0
            folded = fold(reading.text)  # the cues' phrases whose words the reply lacks are not searched
            if first and p.require_opening and not _greets(reading.text, folded):
                hits.append(
                    self.hit("opens without greeting and saying who writes and why", evidence=text[:80], turn_index=i)
                )
            intro_cue = union_for(cues.INTRO, folded) if not first and p.flag_reintroduction else None
            intro = intro_cue.search(reading.text) if intro_cue is not None else None
            if intro and not (hotel and hotel.asks_who):
                hits.append(
                    self.hit(
                        "introduces itself again mid-conversation, restarting the script",
                        span=intro.span(),
                        evidence=text[intro.start() : intro.end()],
                        turn_index=i,
                    )
                )
            if p.flag_early_fallback:
                for act in reading.of("fallback"):
                    if act.ticket in step.open_unasked and not reading.of("propose", act.ticket):
                        hits.append(
                            self.hit(
                                "falls back before making any proposal on the room",
                                span=(act.start, act.end),
                                evidence=text[act.start : act.end],
                                turn_index=i,
                            )
                        )
        return hits


def _greets(text: str, folded: str) -> bool:
    """Whether a reply holds the SOP's ``greet`` stage cue (:func:`repo_sdk_negotiation.sop.stage_cues`)."""
    return any(
        (union := union_for(p, folded)) is not None and union.search(text) is not None
        for p in (cues.GREETING, cues.INTRO, cues.PURPOSE)
    )
