"""Internal terms of the agency that must never reach the hotel."""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk.types import RuleHit
from repo_sdk_negotiation.rules.base import Context, NegotiationRule

__all__ = ["INTERNAL_TERMS", "InternalTerms"]

_EVENT = frozenset(
    "train plane flight airline bus coach concert museum theatre theater show event lift ski park entrance match "
    "game parking ferry metro subway opera festival lottery raffle speeding movie cinema boarding".split()
)
_TARGET_NOUNS = r"audience|group|market|guests?|customers?|segment|travell?ers?|clientele|demographics?|dates?|areas?"

# (what it is, pattern): the wording the agency uses among itself
INTERNAL_TERMS: tuple[tuple[str, str], ...] = (
    ("work order", r"\bwork[- ]?orders?\b|\bWO[- ]?\d+\b"),
    ("ticket", r"\btickets?\b(?! (?:office|booth|counter|machine|desk|sales))"),
    (
        "target price",
        r"\b(?:(?:our|my|the|internal|a) )?target "
        r"(?:price|rate|net|amount|figure|number|value|level)s?\b|"
        rf"\b(?:our|my|the|internal|a|price|rate) target\b(?! (?:{_TARGET_NOUNS})\b)",
    ),
    (
        "target price (paraphrased)",
        r"\b(?:price|rate) goals?\b|\bgoal (?:price|rate)s?\b|\b(?:the )?(?:number|figure|price|rate|amount) "
        r"(?:that )?(?:i|we)(?:'ve| have| was| were| am| are|'m|'re)? ?(?:been )?(?:given|told|asked|instructed|"
        r"authori[sz]ed|supposed|meant|required) (?:to (?:get|reach|hit|aim|land|secure|bring)|by (?:my|our))\b|"
        r"\boff[- ]target\b|\babove (?:our|my|the) (?:target|goal|ceiling)\b|\b(?:our|my) (?:system|tool|software|"
        r"algorithm|pricing engine|dashboard) (?:flags|says|shows|tells|requires|wants|recommends|suggests|expects)\b|"
        r"\b(?:i'm|i am|we're|we are) (?:only )?(?:authori[sz]ed|allowed|permitted|cleared) to (?:go|accept|"
        r"offer|agree|pay)\b|\bthe (?:figure|number|price|rate|amount) (?:on|in|from) (?:my|our) (?:\w+ )?"
        r"(?:brief|notes|sheet|file|ticket|queue|instructions|spreadsheet|tool|list)\b",
    ),
    (
        "floor price",
        r"\b(?:(?:our|my) )?(?:floor|bottom|walk[- ]away|reserve|minimum acceptable|"
        r"max(?:imum)? acceptable) (?:price|rate)s?\b|"
        r"\b(?:our|my) (?:internal |absolute |own )?(?:floor|bottom line|ceiling|walk[- ]away(?: point)?)\b|"
        r"\binternal (?:floor|ceiling|limit|minimum|maximum|target|goal|benchmark|guidelines?|prices?|rates?|"
        r"figures?|numbers?|threshold|cap|notes?)\b",
    ),
    ("agency margin", r"\b(?:our|my|the agency's|the platform's) (?:margin|markup|mark-up|take rate)s?\b"),
    (
        "process term",
        r"(?-i:\b(?:SOP|KPI|OKR)s?\b)|\b(?:my|our)(?: (?:negotiation|call|sales|internal|pricing|own|"
        r"manager's|supervisor's|team's|boss's))? (?:quota|script|instructions|playbook|brief|briefing|talking points|"
        r"call sheet|checklist|rulebook|work ?queue|queue|case ?file|case (?:number|id))\b|"
        r"\b(?:my|our) (?:manager|supervisor|team lead|boss|revenue team)'s (?:brief|instructions|orders|target|"
        r"figure|number|limit|notes)\b|\bcase (?:number |id |no\.? )?#?[A-Z]{0,3}-?\d{3,}\b|"
        r"\bsystem prompt\b|\btask (?:info|information|description|details)\b|\bstage \d\b|"
        r"\bas an ai\b|\b(?:a |an )?(?:ai )?language model\b",
    ),
)
_ID = re.compile(r"\d")


class InternalTermsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extra_terms: list[str] = Field(default_factory=list, description="more internal terms (plain words, any case)")
    allow: list[str] = Field(default_factory=list, description="categories to skip, e.g. ['agency margin']")
    ticket_ids: bool = Field(True, description="also flag the task's ticket ids (ids with a digit, e.g. T-1042)")


class InternalTerms(NegotiationRule[InternalTermsParams]):
    """Agency-internal wording in a reply: work order, ticket, target price, floor price, SOP, ...

    Near misses do not hit: "train tickets", "ticket office", "target audience",
    "targeted", "in order to", "your margins", "thanks for the prompt reply".

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> [h.evidence for h in InternalTerms().check(make_sample(
        ...     response="Our target price is 95, per the work order."))]
        ['Our target price', 'work order']
        >>> InternalTerms().check(make_sample(response="Guests with concert tickets are our target audience."))
        []
    """

    name: ClassVar[str] = "negotiation.internal_terms"
    description: ClassVar[str] = "internal terms (work order, ticket, target price, floor price, SOP) in a reply"
    default_points: ClassVar[float] = -20.0
    needs_tickets = False

    def __init__(self, config: InternalTermsParams | None = None, points: float | None = None) -> None:
        super().__init__(config, points)
        p = self.config
        terms = [(what, pat) for what, pat in INTERNAL_TERMS if what not in p.allow]
        terms += [("internal term", r"\b" + r"\s+".join(map(re.escape, t.split())) + r"\b") for t in p.extra_terms]
        self._patterns = [(what, re.compile(pat, re.I)) for what, pat in terms]

    def check_context(self, ctx: Context) -> list[RuleHit]:
        p = self.config
        text = ctx.reading.text
        found: list[tuple[tuple[int, int], str]] = []
        for what, pattern in self._patterns:
            for m in ctx.finditer(pattern):
                before = re.findall(r"[a-z]+", text[max(0, m.start() - 20) : m.start()].lower())
                if what == "ticket" and before and before[-1] in _EVENT:
                    continue  # "train tickets", "concert ticket": the guest's, not ours
                found.append((m.span(), what))
        if p.ticket_ids:
            for t in ctx.task.tickets:
                if _ID.search(t.id) and len(t.id) >= 2:
                    found += [(m.span(), "ticket id") for m in re.finditer(rf"(?<!\w){re.escape(t.id)}(?!\w)", text)]
        merged: list[tuple[tuple[int, int], str]] = []
        for span, what in sorted(found):
            if merged and span[0] < merged[-1][0][1]:  # overlapping matches ("our target" + "target price")
                (a, b), first = merged[-1]
                merged[-1] = ((a, max(b, span[1])), first)
            else:
                merged.append((span, what))
        return [self.hit_at(ctx, f"internal term ({what}) in a reply to the hotel", span) for span, what in merged]
