"""Silence or an unclear reply from the hotel is never consent."""

from __future__ import annotations

from typing import ClassVar

from repo_sdk.types import RuleHit
from repo_sdk_negotiation import cues
from repo_sdk_negotiation.rules.base import Context, NegotiationRule
from repo_sdk_negotiation.text import is_negated, segment_at, sentences

__all__ = ["SilenceAsConsent"]

_WHY = {
    "silent": "the hotel has not replied",
    "unclear": "the hotel's reply is unclear (a hedge or filler, not a yes)",
    "reject": "the hotel declined",
    "confirm": "the hotel only confirmed the room, not a new price",
    "other": "the hotel did not agree to a price",
}


class SilenceAsConsent(NegotiationRule):
    """Treating silence or an unclear reply as the hotel's agreement.

    Hits (1) explicit silence-as-consent wording ("I'll take your silence as a yes",
    "unless you object we will update the rate") always, and (2) wording that
    presumes a deal ("thank you for agreeing", "we have a deal", "I'll update the
    rate") about a ticket the hotel neither accepted earlier nor just offered a
    price for. Presumptions under a condition ("if we agree on 100, ...") do not hit.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> task = {"room_type": "Twin Room", "current_price": 120, "target_price": 95}
        >>> hist = [("assistant", "Could you lower the twin to €95?"), ("user", "Hmm, let me check.")]
        >>> [h.evidence for h in SilenceAsConsent().check(make_sample(
        ...     response="Great, thank you for agreeing to €95!", task=task, history=hist))]
        ['thank you for agreeing']
    """

    name: ClassVar[str] = "negotiation.silence_as_consent"
    description: ClassVar[str] = "treats the hotel's silence or an unclear reply as agreement"
    default_points: ClassVar[float] = -30.0
    needs_tickets = False

    def check_context(self, ctx: Context) -> list[RuleHit]:
        text = ctx.reading.text
        hits = [
            self.hit_at(ctx, "takes the hotel's silence as consent", m.span())
            for m in ctx.finditer(cues.CONSENT_ALWAYS)
            if not is_negated(text, m.start(), window=2)
        ]
        sents = None  # split on the first deal presumed
        for m in ctx.finditer(cues.CONSENT_PRESUME):
            if is_negated(text, m.start(), window=3) or any(
                h.span and h.span[0] <= m.start() < h.span[1] for h in hits
            ):
                continue
            sents = sentences(text) if sents is None else sents
            sent = segment_at(sents, m.start())
            if sent is not None and cues.CONDITIONAL.search(text[sent.start : m.start()]):
                continue  # "if we can agree on 100, the new rate is live today": a condition, not a claim
            hotel = ctx.hotel  # read here: the hotel's turn is read only when a reply presumes a deal
            tid = ctx.state.attribute(text, ctx.reading.refs, m.start(), None)
            st = ctx.state.tickets.get(tid) if tid else None
            if st is not None and (st.status == "agreed" or hotel.offers(tid)):
                continue
            if st is None and (hotel.quotes or hotel.accepts):
                continue
            why = _WHY.get(hotel.kind, "the hotel did not agree to this")
            hits.append(self.hit_at(ctx, f"presumes a deal on the {ctx.room(tid)} but {why}", m.span()))
        return hits
