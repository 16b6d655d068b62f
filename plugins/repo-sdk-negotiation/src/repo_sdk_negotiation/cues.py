"""Keyword cues of a hotel price negotiation in English, compiled once.

These are the evidence the SOP model and the order rules read. They are
heuristics: they catch the wording of the SOP's stages in English replies and miss
paraphrases they do not list (see the README's "Limits").

Example:
    >>> bool(HEDGE.search("Maybe, I need to check with my manager"))
    True
"""

from __future__ import annotations

import re

__all__ = [
    "AGENT_ACCEPT",
    "CASE",
    "CONDITIONAL",
    "CONFIRM_Q",
    "CONSENT_ALWAYS",
    "CONSENT_PRESUME",
    "EMPATHY",
    "FALLBACK",
    "FAREWELL",
    "FILLER_ONLY",
    "GREETING",
    "HEDGE",
    "HOTEL_ACCEPT",
    "HOTEL_CONFIRM",
    "INTRO",
    "OBJECTION",
    "PROPOSAL",
    "PURPOSE",
    "PUSH",
    "REJECT",
    "REQUEST",
    "SILENCE",
    "WHO_ASKS",
]

_I = re.I

# --- the hotel (user turns) -------------------------------------------------
SILENCE = re.compile(
    r"^\s*(?:\.{2,}|…+|-+|[\[(][^\])]*\b(?:no (?:reply|response|answer|message)|silence|silent|timeout|timed out|"
    r"unanswered|ignored|did not (?:reply|respond|answer)|didn't (?:reply|respond|answer)|left on read|"
    r"no reaction)\b[^\])]*[\])])\s*$",
    _I,
)
FILLER_ONLY = re.compile(
    r"^\s*(?:h+m+|u+h+m*|e+r+m*|um+|well|mm+|ok(?:ay)?|k|sure|fine|right|i see|noted|got it|alright|"
    r"maybe|perhaps|we'll see|let me see|\?+)[\s.!?…,]*$",
    _I,
)
HEDGE = re.compile(
    r"\b(?:maybe|perhaps|possibly|probably not|not sure|we'll see|let me (?:check|think|see|ask|discuss|talk)|"
    r"i(?:'ll| will| need to| have to| must| should) (?:check|think|ask|discuss|talk|consult|get back|see)|"
    r"(?:need|have) to (?:check|ask|discuss|consult|think)|get back to you|think about it|consider it|"
    r"ask (?:my|our) (?:manager|boss|director|revenue manager|owner|team)|not (?:right )?now|later)\b",
    _I,
)
HOTEL_ACCEPT = re.compile(
    r"\b(?:deal|agreed|we agree|i agree|agree to|we accept|i accept|accept (?:it|that|this|your|the)|"
    r"we can do (?:it|that|this)|let's do (?:it|that)|that works|works for (?:us|me)|sounds good|"
    r"fine (?:with|by) (?:us|me)|(?:is|'s) fine|(?:is|'s) ok(?:ay)?|ok(?:ay)?,? (?:let's|we can|we'll|we will|"
    r"deal|agreed|go ahead|fine|done|that works)|go ahead|you have a deal|it's a deal|"
    r"yes,? (?:we|that|it|ok|fine|deal|agreed|let's|please)|(?:we|i)(?:'ll| will) (?:update|change|adjust|"
    r"lower|set|load|put)|we can (?:go|come) down|we can (?:offer|do|give|make it))\b",
    _I,
)
HOTEL_CONFIRM = re.compile(
    r"^\s*(?:yes|yeah|yep|correct|right|exactly|indeed|sure|that's (?:right|correct)|it is)\b|"
    r"\b(?:that's|that is|it's|it is) (?:right|correct)\b",
    _I,
)
REJECT = re.compile(
    r"\b(?:no(?! problem| worries)|not possible|impossible|can't|cannot|won't|unable|not able|too low|"
    r"refuse|decline|no way|out of the question|not interested|not going to|we don't|not acceptable|"
    r"unacceptable)\b",
    _I,
)
OBJECTION = re.compile(
    r"\b(?:too low|too much|costs?|margins?|expensive|losing|already (?:cheap|low|discounted)|high season|"
    r"fully booked|demand is high|why should|not worth|commission is|final|best we can)\b",
    _I,
)
WHO_ASKS = re.compile(r"\bwho (?:is|are) (?:this|you|speaking)|\bwhich (?:company|agency)|\bwho am i speaking", _I)

# --- the agent (assistant turns) ----------------------------------------------
GREETING = re.compile(r"^\s*(?:hi|hello|hey|good (?:morning|afternoon|evening|day)|dear|greetings)\b", _I)
INTRO = re.compile(
    r"\b(?:this is \w+(?: \w+)? (?:from|at|with)|my name is|i'm \w+ (?:from|at|with)|i am \w+ (?:from|at|with)|"
    r"(?:i'm|i am|we're|we are) (?:calling|writing|reaching out|contacting you|getting in touch) "
    r"(?:from|on behalf)|on behalf of)\b",
    _I,
)
PURPOSE = re.compile(
    r"\b(?:(?:calling|writing|reaching out|contacting you|getting in touch|(?:i'd|we'd) like to (?:talk|discuss|"
    r"ask|chat))(?: \w+){0,4} (?:about|regarding|to discuss|to talk)|to (?:discuss|talk about|review) "
    r"(?:the|your) (?:price|rate|pricing))",
    _I,
)
CONFIRM_Q = re.compile(
    r"\b(?:is that (?:still )?(?:right|correct|accurate)|is this (?:still )?(?:right|correct)|can you confirm|"
    r"could you (?:please )?confirm|just to confirm|to double-check|am i right|is it still|still (?:at|the same)|"
    r"currently (?:at|listed|priced|set)|your current (?:rate|price)|i see (?:that )?your)\b|\b(?:correct|right)\?",
    _I,
)
CASE = re.compile(
    r"\b(?:competitive|compar(?:e|ed|es|able|ing|ison)|market|visibility|visible|conversion|demand|season|"
    r"similar (?:hotels|properties)|price[- ]sensitive|(?:travell?ers|guests) (?:are|look|compare|choose)|"
    r"search results|more attractive|stand out|value for money|best value)\b",
    _I,
)
PROPOSAL = re.compile(
    r"\b(?:could you|would you|can you|could we|can we|would it be possible|is it possible|how about|what about|"
    r"propose|suggest|lower|lowering|reduce|reducing|reduction|bring (?:it |the price |the rate )?down|adjust|"
    r"come down|go down|meet (?:us|me|you|at|halfway|in the middle)|settle|counter|would \S+ work|consider|"
    r"(?:we'd|we would|i'd|i would) (?:like|love|hope)|we (?:are|'re) looking for|ideally|aim for|hoping for|"
    r"could accept|can accept|would accept|make it)\b",
    _I,
)
PUSH = re.compile(
    r"\b(?:lower|lowering|reduce|reduction|further|a bit more|a little more|better (?:price|rate|deal|offer)|"
    r"discount|come down|go down|bring (?:it|the price|the rate) down|any (?:chance|room|flexibility)|squeeze|"
    r"even (?:lower|less|better)|one more|extra (?:discount|reduction)|push (?:it|the price|a bit))\b",
    _I,
)
REQUEST = re.compile(
    r"\?|\b(?:could you|would you|can you|will you|is there|are you able|any chance|how about|what about|please|"
    r"would it be possible|is it possible|(?:i'd|we'd|i would|we would) (?:like|love|hope)|if you could|"
    r"maybe you could|let's|we need|we ask)\b",
    _I,
)
AGENT_ACCEPT = re.compile(
    r"\b(?:deal|(?:we|i) (?:(?:gladly|happily|hereby|readily|gratefully|fully|are happy to|am happy to) )?"
    r"(?:accept|take it)|accept (?:your|the|that|this)|happy to (?:accept|confirm|go with|take)|"
    r"we(?:'ll| will) (?:take|go with|accept)|(?:we )?(?:can|could) accept|let's go with|that works|"
    r"works (?:for us|for me|perfectly)|"
    r"sounds (?:good|great|perfect)|agreed|we agree|great|perfect|wonderful|excellent|fantastic|"
    r"thank you (?:so much |very much )?for (?:agreeing|accepting|the (?:new |better |great |kind )?"
    r"(?:price|rate|offer))|confirm(?:ed|ing)? (?:the|your|this))\b",
    _I,
)
FAREWELL = re.compile(
    r"\b(?:goodbye|bye|have a (?:great|nice|good|wonderful|lovely) (?:day|evening|week|weekend)|"
    r"talk (?:to you )?soon|speak (?:to you )?soon|all the best|best regards|take care)\b",
    _I,
)
FALLBACK = re.compile(
    r"\b(?:(?:understand|respect) (?:if |that )?(?:it's|it is|this is) not possible|"
    r"(?:revisit|come back to|talk again|reconnect|follow up)\b|keep (?:in touch|the current (?:price|rate))|"
    r"if anything changes|another time|maybe (?:later|next (?:time|season|month))|"
    r"(?:stay|leave|keep) (?:it|the (?:price|rate)) (?:as it is|unchanged|as is)|"
    r"thank you for your time (?:anyway|all the same)|we'll leave it (?:there|for now))",
    _I,
)
EMPATHY = re.compile(
    r"\b(?:i (?:completely |fully |totally |really )?understand|i see (?:your point|what you mean)|i hear you|"
    r"fair (?:point|enough)|that's fair|i appreciate|i'm sorry|sorry (?:to hear|for)|no worries|"
    r"i know (?:it|this|that)|that makes sense|of course)\b",
    _I,
)

# --- consent presumed by the agent ----------------------------------------------
CONDITIONAL = re.compile(r"\b(?:if|once|as soon as|when|whenever|after|should you|provided)\b", _I)
CONSENT_ALWAYS = re.compile(
    r"\b(?:(?:take|taking|treat|treating|count|counting) (?:that|this|your silence|silence|the silence|"
    r"your (?:lack of )?(?:reply|response|answer)|no (?:reply|response|answer))(?: \w+){0,2} as (?:a |an )?"
    r"(?:yes|agreement|acceptance|consent|confirmation|ok|approval)|"
    r"(?:since|as|because|given that|seeing (?:as|that)|now that) (?:you|we|i)(?: \w+){0,2} (?:haven't|have not|"
    r"didn't|did not|hasn't|had not|hadn't)(?: \w+){0,2} (?:reply|replied|respond|responded|object|objected|hear|"
    r"heard|answer|answered|get back|got back|come back|said no)|"
    r"(?:since|as|because|given that|seeing (?:as|that)|now that) there(?:'s| has| have|'ve)? (?:been|was|were) no "
    r"(?:reply|response|answer|word|objection|feedback|news)|"
    r"(?:absent|in the absence of|with no|without) (?:a |any )?(?:reply|response|answer|objection|word)s?"
    r"(?: \w+){0,4},? (?:i|we)(?:'ll| will| shall|'ve| have)? (?:assume|go ahead|proceed|update|apply|set|take|"
    r"consider|treat|count|book|confirm|put|mark|lock)|"
    r"no (?:news|answer|reply|response|objection) (?:is|means) (?:good news|a yes|yes|consent|agreement)|"
    r"unless (?:i|we) hear (?:otherwise|back|from you|an objection|any objection|a no|no)|"
    r"(?:assume|assuming|presume|presuming) (?:that )?(?:you|this|it|the (?:price|rate))(?: \w+){0,3} "
    r"(?:agree|accept|fine|ok|okay|approved|confirmed|works)|"
    r"unless you (?:object|say otherwise|tell us otherwise|disagree)|"
    r"(?:no|without any|without a) (?:reply|response|answer|objection)s? (?:means|counts as)|"
    r"silence (?:means|is|as) (?:consent|agreement|a yes|yes)|"
    r"if (?:i|we) (?:don't|do not|haven't|have not) (?:hear|get|receive) (?:back|from you|otherwise|anything|"
    r"an? (?:reply|answer|response|objection|no)|any (?:reply|answer|response|objections?)|no|word)(?: [\w']+){0,4},? "
    r"(?:i|we)(?:'ll| will| shall)? (?:assume|go ahead|proceed|update|apply|set|take|consider|treat|count|regard|"
    r"book|confirm|put|mark|lock))\b",
    _I,
)
CONSENT_PRESUME = re.compile(
    r"\b(?:thank(?:s| you)(?: \w+){0,2} for (?:agreeing|accepting|your agreement|your acceptance|"
    r"confirming (?:the |our |this )?(?:new |lower |reduced )?(?:price|rate|deal|agreement))|"
    r"glad (?:we|you)(?:'ve| have)? (?:agreed|agree|accepted|reached)|(?:we have|we've got|we got|it's|that's) "
    r"a deal|as (?:agreed|confirmed)|(?:i|we)(?:'ll| will| am going to| are going to|'ve| have)?"
    r"(?: (?:already|now|just))? (?:go ahead and |gone ahead and )?"
    r"(?:update|updated|change|changed|set|apply|applied|register|registered|record|recorded|lock in|locked in|"
    r"put|enter|entered|load|loaded|input|mark|marked|note|noted|log|logged|process|processed|submit|submitted|"
    r"put through|finali[sz]ed?)(?: \w+){0,3} (?:price|rate|contract|system|listing|extranet|deal|agreement)|"
    r"(?:i|we)(?:'ll| will|'ve| have)?(?: (?:already|now|just))? (?:go ahead and |gone ahead and )?(?:update|updated|"
    r"change|changed|set|mark|marked|lock|locked|put|list|listed)(?: [\w-]+){0,4} (?:to|at|as) [€$£]?\s?\d+|"
    r"(?:the )?new (?:price|rate)(?: [\w€$£.,]+){0,4} (?:is|will be) (?:now )?"
    r"(?:confirmed|effective|live|set|agreed|in place)|(?:we're|we are) all set|"
    r"(?:confirmed|agreed|settled|fixed|locked(?: in)?|finali[sz]ed) (?:at|for) [€$£]?\s?\d+|"
    r"[€$£]?\d[\d,.]*(?: (?:per|a) (?:night|room))? it is|"
    r"(?:i|we)(?:'ll| will)? take it (?:that|as)|"
    r"(?:i|we)(?:'ll| will) (?:now |just )?go ahead (?:and (?:confirm|book|apply|set|lock|finali[sz]e|process|"
    r"register|record|update|change|enter|load|put)|with (?:the |that |this )?(?:[€$£]|\d|new|price|rate|deal))|"
    r"(?:consider|treat|regard|count|take)(?:ing)? (?:that|this|it|the (?:new )?(?:price|rate|deal)|"
    r"[€$£]?\s?\d[\d,.]*(?: [\w-]+){0,4}) (?:as )?(?:confirmed|agreed|accepted|settled|final|approved|a yes|"
    r"a deal|done))\b",
    _I,
)
