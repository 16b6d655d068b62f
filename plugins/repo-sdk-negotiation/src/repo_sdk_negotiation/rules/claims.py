"""Claims guardrails: over-promising outcomes, and facts or figures the task does not hold."""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from itertools import combinations
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk.types import RuleHit
from repo_sdk_negotiation.numwords import find_numbers
from repo_sdk_negotiation.prices import find_percentages
from repo_sdk_negotiation.rules.base import Context, NegotiationRule
from repo_sdk_negotiation.task import task_numbers
from repo_sdk_negotiation.text import is_negated, sentences

__all__ = ["InventedFacts", "NoOverpromise"]

_STRONG = re.compile(
    r"\b(?:guarantee[sd]?|guaranteeing|promise[sd]?|assure you|ensure|make sure|definitely|certainly|for sure|"
    r"100 ?% (?:sure|certain)|without (?:a )?doubt|no doubt|assured(?:ly)?|rest assured|zero risk|risk[- ]free|"
    r"no risk|(?:you have|i give you|take) my word|my word on (?:it|that)|(?:that much |this |it )is certain|"
    r"certain to|sure to|bound to|can(?:'t|not) fail|without fail|no question|you can count on (?:it|that))\b",
    re.I,
)
_WILL = re.compile(r"\b(?:will|'ll|is going to|are going to)\b", re.I)
_OUTCOME = re.compile(
    r"\b(?:(?:more|extra|additional|higher|lots of|many more) (?:bookings?|reservations?|traffic|guests|customers|"
    r"visibility|revenue|sales|occupancy|clicks|views|travell?ers)|(?:double|triple|boost|skyrocket|multiply|"
    r"increase|grow|lift) (?:your )?(?:bookings?|reservations?|traffic|revenue|sales|occupancy|visibility)|"
    r"(?:fully booked|sold out|full house|fill (?:up )?(?:your|all|the) rooms)|(?:top|first|number one|#1) "
    r"(?:spot|position|place|page|result|of (?:the )?(?:list|search|results|page|ranking))|rank(?:ed|ing)? "
    r"(?:you )?(?:first|#1|top|number one|higher)|(?:appear|show up|be) (?:higher|first|at the top|on top)|"
    r"(?:very )?top of (?:\w+ ){0,3}(?:search(?:es)?|results|lists?|listings?|pages?|rankings?)|"
    r"(?:bookings?|reservations?|revenue|sales|occupancy|traffic|visibility|demand|income)(?: \w+){0,3} "
    r"(?:will|would|'ll|is going to|are going to) (?:\w+ )?(?:double|triple|soar|skyrocket|jump|increase|grow|rise|"
    r"go up|explode|surge|climb|pour in|flood in|make up|more than (?:make up|cover|offset|compensate))|"
    r"never (?:have|see|get|face) (?:an? )?(?:single )?(?:empty|unsold|vacant) \w+|"
    r"no (?:more )?(?:empty|unsold|vacant) (?:\w+ )?(?:rooms?|beds?|nights?|doubles?|twins?|singles?|suites?)|"
    r"(?:full|100 ?%) occupancy|occupancy(?: \w+){0,2} (?:is|will be) "
    r"(?:assured|guaranteed|certain|full)|(?:every|all)(?: of)? (?:your )?(?:\w+ )?rooms? (?:will be |are )?"
    r"(?:sold|booked|filled|full)|pay for itself|(?:make|made) up (?:for )?the (?:difference|cut|loss)|"
    r"sell(?: out)? (?:every|each) (?:single )?night|(?:be )?booked (?:solid|out|every night)|"
    r"(?:every|each) (?:single )?night (?:booked|sold|full)|fill every (?:room|night|bed))\b",
    re.I,
)
_HEDGE = re.compile(r"\b(?:may|might|could|can|likely|probably|usually|often|tend|tends|help|helps|hope)\b", re.I)


class NoOverpromise(NegotiationRule):
    """Promised outcomes: guaranteed bookings, traffic, revenue, rankings, a full house.

    A sentence hits when it names such an outcome with a firm commitment
    ("guarantee", "definitely", or "will" without a hedge like "may" / "can help").
    Negated promises ("we cannot guarantee more bookings") do not hit.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> len(NoOverpromise().check(make_sample(response="We guarantee you more bookings.")))
        1
        >>> len(NoOverpromise().check(make_sample(response="We can't guarantee more bookings.")))
        0
    """

    name: ClassVar[str] = "negotiation.no_overpromise"
    description: ClassVar[str] = "promises guaranteed bookings, traffic, revenue or rankings"
    default_points: ClassVar[float] = -25.0
    needs_tickets = False

    def check_context(self, ctx: Context) -> list[RuleHit]:
        hits = []
        outcomes = ctx.union(_OUTCOME)  # what of it the reply may hold: searched sentence by sentence
        if outcomes is None:
            return hits
        for sent in sentences(ctx.reading.text):
            outcome = outcomes.search(sent.text)
            if outcome is None:
                continue
            strong = [m for m in _STRONG.finditer(sent.text) if not is_negated(sent.text, m.start())]
            will = [m for m in _WILL.finditer(sent.text) if m.start() < outcome.end()]  # "bookings will double"
            firm = bool(strong) or (
                bool(will) and not _HEDGE.search(sent.text) and not is_negated(sent.text, outcome.start(), window=6)
            )
            if firm:
                span = (sent.start, sent.end)
                hits.append(self.hit_at(ctx, f"promises an outcome it cannot guarantee ({outcome.group(0)!r})", span))
        return hits


class InventedFactsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pct_tolerance: float = Field(1.0, ge=0, description="how far a percentage may be from one the prices imply")


_COUNT_NOUN = re.compile(
    r"^\s*(?:more |extra |additional |new |other |similar |of (?:our|the) )?(?:bookings?|reservations?|searches|"
    r"views|clicks|visitors|guests|travell?ers|customers|room nights|reviews|hotels|properties|competitors|"
    r"partners|nights booked)\b",
    re.I,
)
_RANK = re.compile(
    r"\b(?:rank(?:ed|ing)?|position(?:ed)?|placed) (?:at )?(?:#|number |no\. ?)?(\d+)|\btop[- ](\d+)\b|#(\d+)\b", re.I
)
_COMPETITOR = re.compile(
    r"\b(?:competitors?|(?:other|nearby|neighbou?ring|similar|comparable) (?:hotels|properties)|"
    r"hotels? (?:nearby|next door|down the street|in the area|around you|in your area)|"
    r"the (?:hotel|property) (?:next door|across the street|down the road))\b",
    re.I,
)
_CLAIM = re.compile(
    r"\b(?:charge[sd]?|offer(?:s|ed)?|are at|is at|sells?|sold|priced|cost|costs|already|agreed|lowered|dropped|"
    r"cut|cheaper|reduced|accepted|signed)\b",
    re.I,
)


def _known_numbers(ctx: Context) -> set[float]:
    """Every number of the task, read once per dialogue."""
    if ctx.dialogue is None:
        return task_numbers(ctx.task.model_dump())
    return ctx.dialogue.memo("negotiation.task_numbers", lambda: task_numbers(ctx.task.model_dump()))


class InventedFacts(NegotiationRule[InventedFactsParams]):
    """Figures and claims the task does not hold: invented counts, percentages, ranks, competitor moves.

    Numbers next to fact nouns ("340 searches", "12 hotels"), percentages and ranks
    must appear in the task (any number in it, e.g. under ``facts``), or, for
    percentages, follow from two prices of the task. A claim about what competitors
    charge or did needs a fact in the task mentioning competitors.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> task = {"current_price": 120, "target_price": 96}
        >>> [h.evidence for h in InventedFacts().check(make_sample(
        ...     response="We had 450 searches for your hotel, and a 35% cut is all we ask.", task=task))]
        ['450', '35%']
    """

    name: ClassVar[str] = "negotiation.invented_facts"
    description: ClassVar[str] = "figures or competitor claims that the task does not hold"
    default_points: ClassVar[float] = -20.0

    def check_context(self, ctx: Context) -> list[RuleHit]:
        p = self.config
        text = ctx.reading.text
        known = _known_numbers(ctx)
        prices = {x for t in ctx.task.tickets for x in (*t.net_side_prices(), t.selling_price) if x}
        prices |= {q for st in ctx.state.tickets.values() for q in st.quotes}
        implied = {100 * (a - b) / a for a, b in ((max(x, y), min(x, y)) for x, y in combinations(prices, 2)) if a}
        hits = []
        pct_spans = []
        for pct in find_percentages(text):
            pct_spans.append(pct.span)
            if pct.value in known or any(abs(pct.value - i) <= p.pct_tolerance for i in implied):
                continue
            hits.append(
                self.hit_at(ctx, f"percentage {pct.text!r} is neither in the task nor implied by its prices", pct.span)
            )
        for n in find_numbers(text):
            i = bisect_right(pct_spans, (n.start, len(text) + 1)) - 1  # percentages are sorted and apart
            if (i >= 0 and pct_spans[i][0] <= n.start < pct_spans[i][1]) or n.value in known:
                continue
            if _COUNT_NOUN.match(text[n.end : n.end + 40]):
                hits.append(self.hit_at(ctx, f"figure {n.text!r} is not in the task", n.span))
        for m in _RANK.finditer(text):
            value = float(m.group(1) or m.group(2) or m.group(3))
            if value not in known and "room" not in text[max(0, m.start() - 8) : m.start()].lower():
                hits.append(self.hit_at(ctx, f"rank {m.group(0)!r} is not in the task", m.span()))
        facts = json.dumps(ctx.task.facts or "", default=str).lower()
        if "competitor" not in facts and "nearby" not in facts and ctx.can(_COMPETITOR):
            for sent in sentences(text):
                comp = _COMPETITOR.search(sent.text)
                if comp and _CLAIM.search(sent.text) and not is_negated(sent.text, comp.start()):
                    span = (sent.start + comp.start(), sent.end)
                    hits.append(self.hit_at(ctx, "claims what competitors do, with no such fact in the task", span))
        return sorted(hits, key=lambda h: h.span or (0, 0))
