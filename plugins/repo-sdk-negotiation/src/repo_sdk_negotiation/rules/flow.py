"""Order rules of the SOP, per reply: confirm before proposing, accept at or below target, stop after a yes."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk.types import RuleHit
from repo_sdk_negotiation.rules.base import Context, NegotiationRule, fmt_price
from repo_sdk_negotiation.state import TOL, Act

__all__ = ["AcceptAtTarget", "NoPushAfterAccept", "ProposalBeforeConfirm"]


def _asks(act: Act) -> str:
    return f"proposes {act.evidence!r}" if act.kind == "propose" else f"asks for a lower price ({act.evidence!r})"


class ProposalBeforeConfirm(NegotiationRule):
    """A price proposal (or a request for a lower price) before the hotel confirmed the room and its price.

    A room counts as confirmed once the hotel answered (not silence, not a filler)
    a turn in which the agent named it, or named it or priced it itself.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> task = {"room_type": "Twin Room", "current_price": 120, "target_price": 95}
        >>> [h.evidence for h in ProposalBeforeConfirm().check(make_sample(
        ...     response="Hi! Could you lower the twin to €95?", task=task, history=[("user", "Hello?")]))]
        ['€95']
    """

    name: ClassVar[str] = "negotiation.proposal_before_confirm"
    description: ClassVar[str] = "proposes a price before the hotel confirmed the room and its current price"
    default_points: ClassVar[float] = -15.0

    def check_context(self, ctx: Context) -> list[RuleHit]:
        return [
            self.hit_at(
                ctx,
                f"{_asks(act)} before the hotel confirmed the {ctx.room(act.ticket)} and its current price",
                (act.start, act.end),
            )
            for act, st in ctx.price_asks()
            if not st.confirmed and not st.closed
        ]


class NoPushAfterAccept(NegotiationRule):
    """Asking for a lower price on a room whose price is already agreed.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> task = {"room_type": "Twin Room", "current_price": 120, "target_price": 95}
        >>> hist = [("assistant", "Is the twin still at €120?"), ("user", "Yes."),
        ...         ("assistant", "Could you do €100?"), ("user", "OK, 100 works.")]
        >>> [h.evidence for h in NoPushAfterAccept().check(make_sample(
        ...     response="Thanks! Could you go a bit lower, say €95?", task=task, history=hist))]
        ['€95']
    """

    name: ClassVar[str] = "negotiation.no_push_after_accept"
    description: ClassVar[str] = "keeps pushing for a lower price after the hotel accepted"
    default_points: ClassVar[float] = -25.0

    def check_context(self, ctx: Context) -> list[RuleHit]:
        return [
            self.hit_at(
                ctx,
                f"{_asks(act)} after the hotel accepted {fmt_price(st.accepted_price)} for the {ctx.room(act.ticket)}",
                (act.start, act.end),
            )
            for act, st in ctx.price_asks()
            if st.status == "agreed"
        ]


class AcceptAtTargetParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tolerance: float = Field(TOL, ge=0, description="a quote this close above the target still counts as at target")


class AcceptAtTarget(NegotiationRule[AcceptAtTargetParams]):
    """The hotel quoted at or below the target, and the reply does not accept it at once.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> task = {"room_type": "Twin Room", "current_price": 120, "target_price": 95}
        >>> hist = [("assistant", "Is the twin still at €120?"), ("user", "Yes. We could do 90 for you.")]
        >>> [h.evidence for h in AcceptAtTarget().check(make_sample(
        ...     response="Could you make it €85?", task=task, history=hist))]
        ['€85']
        >>> AcceptAtTarget().check(make_sample(response="Wonderful, 90 works for us!", task=task, history=hist))
        []
    """

    name: ClassVar[str] = "negotiation.accept_at_target"
    description: ClassVar[str] = "does not accept at once a hotel quote at or below the target"
    default_points: ClassVar[float] = -25.0

    def check_context(self, ctx: Context) -> list[RuleHit]:
        p = self.config
        hits = []
        for tid, quote in ctx.hotel.quotes.items():
            ticket, st = ctx.task.ticket(tid), ctx.state.tickets[tid]
            if ticket is None or st.closed or quote > ticket.target_price + p.tolerance:
                continue
            if ctx.reading.accepts(tid):
                continue
            asks = ctx.reading.of("propose", tid) + ctx.reading.of("push", tid)
            why = f"the hotel quoted {fmt_price(quote)} for the {ticket.room_type}, at or below the target"
            if asks:
                hits.append(
                    self.hit_at(
                        ctx, f"{why}, and the reply {_asks(asks[0])} instead of accepting", (asks[0].start, asks[0].end)
                    )
                )
            else:
                hits.append(self.hit_at(ctx, f"{why}, and the reply does not accept it", (0, len(ctx.response))))
        return hits
