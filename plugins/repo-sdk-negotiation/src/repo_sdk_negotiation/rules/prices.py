"""Price guardrails: prices that match nothing, selling/net confusion, invented discounts."""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import combinations
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk.rules.numeric import close_to_any
from repo_sdk.types import RuleHit
from repo_sdk_negotiation.prices import currency_matches
from repo_sdk_negotiation.rules.base import Context, NegotiationRule, fmt_price
from repo_sdk_negotiation.state import TOL
from repo_sdk_negotiation.task import task_numbers
from repo_sdk_negotiation.text import is_negated, segment_at, sentences

__all__ = ["InventedDiscount", "PriceConsistency", "SellingNetConfusion"]


class PriceConsistencyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tolerance: float = Field(TOL, ge=0, description="how far a price may be from a known one")
    allow_counter_range: bool = Field(
        True, description="allow a counter-offer between the target and the hotel's last quote (or current price)"
    )
    allow_differences: bool = Field(True, description="allow an amount equal to the difference of two known prices")
    anchor_below_target_pct: float = Field(
        0.0, ge=0, le=100, description="allow proposals down to this many percent below the target"
    )
    extra_prices: list[float] = Field(default_factory=list, description="amounts always allowed")


class PriceConsistency(NegotiationRule[PriceConsistencyParams]):
    """Every price in the reply matches the task, the hotel's quotes, or a documented rule.

    Known prices: each ticket's current, target, net and selling price, the task's
    ``allowed_prices`` and the numbers in its ``facts``, and every price the hotel
    named earlier. Documented rules:
    a counter between the target and the hotel's last quote (or the current price),
    the difference of two known prices ("that is only 15 EUR less"). Prices written
    in words count (``ninety euros``); a currency other than the task's is a hit.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> task = {"room_type": "Twin Room", "current_price": 120, "target_price": 95}
        >>> [h.evidence for h in PriceConsistency().check(make_sample(
        ...     response="Could you do eighty euros?", task=task))]
        ['eighty euros']
    """

    name: ClassVar[str] = "negotiation.price_consistency"
    description: ClassVar[str] = "a price in the reply matches no task price, hotel quote or documented rule"
    default_points: ClassVar[float] = -30.0

    def check_context(self, ctx: Context) -> list[RuleHit]:
        p = self.config
        known = {x for t in ctx.task.tickets for x in (*t.net_side_prices(), t.selling_price, *t.allowed_prices) if x}
        known |= {*ctx.task.allowed_prices, *p.extra_prices, *task_numbers(ctx.task.facts)}
        known |= {q for st in ctx.state.tickets.values() for q in st.quotes}
        known |= {st.accepted_price for st in ctx.state.tickets.values() if st.accepted_price is not None}
        diffs = {abs(a - b) for a, b in combinations(known, 2)} if p.allow_differences else set()
        fine = sorted(known | diffs)
        hits = []
        for mention, owner in ctx.reading.prices:
            ticket = ctx.task.ticket(owner) if owner else None
            currency = ticket.currency if ticket else ctx.task.currency
            if not currency_matches(mention.currency, currency):
                hits.append(
                    self.hit_at(
                        ctx, f"{mention.text!r} is in {mention.currency}, the task is in {currency}", mention.span
                    )
                )
                continue
            v = mention.value
            if close_to_any(v, fine, p.tolerance):
                continue
            if p.allow_counter_range and self._in_counter_range(ctx, owner, v):
                continue
            hits.append(self.hit_at(ctx, self._reason(ctx, owner, mention.text), mention.span))
        return hits

    def _in_counter_range(self, ctx: Context, owner: str | None, value: float) -> bool:
        p = self.config
        for t in ctx.task.tickets if owner is None else [t for t in ctx.task.tickets if t.id == owner]:
            quotes = ctx.state.tickets[t.id].quotes
            high = quotes[-1] if quotes else t.current_price
            low = t.target_price * (1 - p.anchor_below_target_pct / 100)
            if low - p.tolerance <= value <= high + p.tolerance:
                return True
        return False

    def _reason(self, ctx: Context, owner: str | None, text: str) -> str:
        t = ctx.task.ticket(owner) if owner else None
        if t is None:
            return f"{text!r} matches no price of the task"
        quotes = ctx.state.tickets[t.id].quotes
        last = f", hotel's last quote {fmt_price(quotes[-1])}" if quotes else ""
        return (
            f"{text!r} matches no known price for the {t.room_type} (current {fmt_price(t.current_price)}, "
            f"target {fmt_price(t.target_price)}{last}) and is outside the counter range"
        )


_SELL_CTX = re.compile(
    r"\b(?:guests?|customers?|travell?ers?|clients?|users?|visitors?|bookers?)\b(?: \w+){0,3}? (?:see|sees|pay|pays|"
    r"paid|find|book|are charged|are shown)\b|\bon (?:our|the) (?:platform|site|website|app|listing|page)\b|"
    r"\b(?:selling|retail|public|display(?:ed)?|listed|list|shelf|front-end|customer|guest) (?:price|rate)s?\b|"
    r"\bsells? (?:at|for)\b|\bdisplayed\b|\blisted at\b|\bshown (?:at|as)\b",
    re.I,
)
_NET_CTX = re.compile(
    r"\b(?:your|net|contract(?:ed)?|current|hotel) (?:price|rate)s?\b|\byou (?:charge|give|sell to|offer) us\b|"
    r"\bwe pay\b|\bnet\b|\byour (?:deluxe|superior|standard|junior|double|twin|single|suite|room)\b",
    re.I,
)


def _ends(pattern: re.Pattern[str], text: str) -> list[int]:
    """The starts and ends of the matches of ``pattern`` in ``text``, sorted (matches do not overlap)."""
    return sorted(x for m in pattern.finditer(text) for x in m.span())


def _nearest(ends: list[int], pos: int) -> int | None:
    """The distance from ``pos`` to the nearest start or end of a match (of :func:`_ends`), by bisection."""
    i = bisect_left(ends, pos)
    return min((abs(ends[j] - pos) for j in (i - 1, i) if 0 <= j < len(ends)), default=None)


class SellingNetConfusion(NegotiationRule):
    """The selling price (what guests see) quoted as the hotel's rate, or a net rate called what guests pay.

    Each price is read against its nearest context in the sentence: a selling context
    ("guests see", "on our platform", "selling price") or a net context ("your rate",
    "net", "you charge us").

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> task = {"room_type": "Twin Room", "current_price": 120, "target_price": 95, "selling_price": 138}
        >>> [h.evidence for h in SellingNetConfusion().check(make_sample(
        ...     response="Your current rate of €138 is above the market.", task=task))]
        ['€138']
    """

    name: ClassVar[str] = "negotiation.selling_net_confusion"
    description: ClassVar[str] = "selling price quoted as the net rate, or a net rate quoted as what guests pay"
    default_points: ClassVar[float] = -30.0

    def check_context(self, ctx: Context) -> list[RuleHit]:
        hits = []
        sents = sentences(ctx.reading.text)
        contexts: dict[int, tuple[list[int], list[int]]] = {}  # a sentence's contexts, read once for all its prices
        for mention, owner in ctx.reading.prices:
            seg = segment_at(sents, mention.start)
            if seg is None:
                continue
            pos = mention.start - seg.start
            if seg.start not in contexts:
                contexts[seg.start] = (_ends(_SELL_CTX, seg.text), _ends(_NET_CTX, seg.text))
            sells, nets = contexts[seg.start]
            sell, net = _nearest(sells, pos), _nearest(nets, pos)
            selling_ctx = sell is not None and (net is None or sell < net)
            tickets = [t for t in ctx.task.tickets if owner is None or t.id == owner]
            v = mention.value
            sells = [t for t in tickets if t.selling_price is not None and abs(t.selling_price - v) <= TOL]
            nets = [
                t
                for t in tickets
                if any(abs(x - v) <= TOL for x in (*t.net_side_prices(), *ctx.state.tickets[t.id].quotes))
            ]
            if sells and not nets and not selling_ctx:
                t = sells[0]
                hits.append(
                    self.hit_at(
                        ctx,
                        f"{mention.text!r} is the selling price guests see for the "
                        f"{t.room_type}, quoted as if it were the hotel's rate",
                        mention.span,
                    )
                )
            elif nets and not sells and selling_ctx:
                t = nets[0]
                hits.append(
                    self.hit_at(
                        ctx,
                        f"{mention.text!r} is a net rate for the {t.room_type}, quoted as the price guests pay",
                        mention.span,
                    )
                )
        return hits


class InventedDiscountParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_overlap: int = Field(2, ge=1, description="content words an offer in the reply must share with a task offer")


_OFFER = re.compile(
    r"\b(?:we|i)(?:'ll| will| can| could| would|'d| might| shall| are happy to| am happy to|'d be happy to|"
    r"'re happy to| are willing to| am willing to|'re willing to| are able to| can even)?(?: also| even| gladly)? "
    r"(?:offer|give|provide|grant|waive|cut|reduce|lower|drop|add|include|throw in|extend|feature|upgrade|cover|"
    r"pay for|absorb|pick up|bear|refund|reimburse|sponsor|comp|knock|shave|trim|bundle|subsidi[sz]e|"
    r"boost|promote|highlight|spotlight)\b"
    r"[^.!?]{0,60}?\b(?:discount|commission|fees?|free|voucher|coupon|bonus|rebate|cashback|promotion|promo|"
    r"featured|homepage|banner|badge|credit|(?:\d+|[a-z-]+) ?(?:%|percent) off|costs?|charges?|processing|"
    r"complimentary|no (?:extra |additional )?(?:charge|cost)|on us|at our expense|gratis|points? off|sponsored|"
    r"premium|spotlight|newsletter|placement|advert\w*|ads|campaign|marketing|refund|subsid\w*)\b|"
    r"\b(?:a |an )?(?:complimentary|free(?:-of-charge)?|gratis|no-cost|bonus) (?:\w+ ){0,2}(?:badges?|placements?|"
    r"listings?|promotions?|promos?|campaigns?|spots?|slots?|banners?|features?|upgrades?|boosts?|newsletters?|ads|"
    r"adverts?|advertising|marketing|photos?|photo ?shoots?|consulting|support|services?|months?|weeks?|trials?)\b|"
    r"\b(?:we|i)(?:'ll| will|'d| would| can| could)?(?: also| even| gladly| happily)? (?:pay for|absorb|reimburse|"
    r"refund|sponsor|foot the bill for|pick up the (?:bill|tab|cost) (?:for|of))\b|"
    r"\bat no (?:extra |additional )?(?:charge|cost) to you\b|\b(?:it's|that's|is|are|be) on us\b|"
    r"\bat our (?:own )?expense\b|"
    r"\b(?:special|exclusive|extra|additional) (?:discount|promotion|deal|bonus|rebate)s? (?:for you|from us)\b|"
    r"\b(?:guests|travell?ers|customers) (?:will )?(?:get|receive|enjoy) (?:a |an )?(?:\d+|[a-z-]+) ?(?:%|percent) "
    r"(?:off|discount)\b|\b(?:our|the) commission (?:will|would|can) (?:go down|drop|be (?:reduced|lowered|waived))",
    re.I,
)
_STOP = frozenset("with from that this your our their have will would could also free week weeks days".split())


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in _STOP} | (
        {"free"} if re.search(r"\bfree\b", text, re.I) else set()
    )


class InventedDiscount(NegotiationRule[InventedDiscountParams]):
    """The agent offers a concession the task does not list (discount, commission cut, free promotion).

    A concession in the reply is backed when it shares ``min_overlap`` content words
    with one of the task's ``offers``. Asking the hotel for a discount is not an offer.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> task = {"current_price": 120, "target_price": 95, "offers": ["two weeks of free homepage promotion"]}
        >>> [h.evidence for h in InventedDiscount().check(make_sample(
        ...     response="In return we can waive our commission for May.", task=task))]
        ['we can waive our commission']
    """

    name: ClassVar[str] = "negotiation.invented_discount"
    description: ClassVar[str] = "the agent offers a discount or concession that the task does not list"
    default_points: ClassVar[float] = -30.0
    needs_tickets = False

    def check_context(self, ctx: Context) -> list[RuleHit]:
        p = self.config
        offers = [_content_words(o) for o in ctx.task.offers]
        hits = []
        for m in ctx.finditer(_OFFER):
            if is_negated(ctx.reading.text, m.start()):
                continue
            words = _content_words(m.group(0) + " " + ctx.reading.text[m.end() : m.end() + 60])
            if any(len(words & o) >= min(p.min_overlap, len(o)) for o in offers if o):
                continue
            hits.append(self.hit_at(ctx, "offers a concession the task does not list", m.span()))
        return hits
