"""Empty replies: nothing, whitespace, or no content at all (only punctuation, symbols, emoji, a placeholder).

A policy trained with GRPO learns to say nothing when nothing is cheaper than
saying something wrong, so an empty reply must cost more than any real one. This
rule finds it; the ``repo`` combiner's ``veto`` puts it below every other reward
(docs/combiners.md).
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import Field

from repo_sdk.interfaces import Rule
from repo_sdk.rules.base import RuleParams
from repo_sdk.rules.context import TurnContext
from repo_sdk.rules.text import clip_evidence
from repo_sdk.types import RuleHit

__all__ = ["DEFAULT_PLACEHOLDERS", "EmptyReply", "EmptyReplyParams", "has_content"]

#: Whole replies that say nothing although they hold letters: a model's "no value" words.
DEFAULT_PLACEHOLDERS: tuple[str, ...] = (
    "n/a",
    "nan",
    "null",
    "nil",
    "undefined",
    "empty",
    "no response",
    "no reply",
    "no comment",
    "todo",
    "tbd",
    "lorem ipsum",
)
_WRAPPERS = re.compile(r"^[\W_]+|[\W_]+$")  # "(no response)", "[empty]", "<null>", "**N/A**"
_CONTENT = re.compile(r"[^\W_]")  # a letter or digit of any script; stops at the first one


def has_content(text: str) -> bool:
    """True when the text holds a letter or a digit of any script (emoji, symbols and marks do not count).

    Example:
        >>> has_content("…"), has_content(" 🙂👍 "), has_content("\u200b"), has_content("ok"), has_content("好")
        (False, False, False, True, True)
    """
    return _CONTENT.search(text) is not None


class EmptyReplyParams(RuleParams):
    placeholders: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PLACEHOLDERS),
        description="whole replies (any case, surrounding punctuation ignored) that count as empty",
    )


class EmptyReply(Rule[EmptyReplyParams]):
    """An empty reply: ``""``, whitespace only, no letter or digit at all, or a bare placeholder.

    Content-less replies are punctuation ("...", "?!"), symbols and emoji ("🙂👍"),
    invisible characters (zero-width spaces) and placeholders such as "N/A",
    "(no response)" or "null". One hit per reply, spanning it whole.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> [len(EmptyReply().check(make_sample(response=r))) for r in ["", "  \\n ", "...", "🙂", "[N/A]", "Ok."]]
        [1, 1, 1, 1, 1, 0]
    """

    name: ClassVar[str] = "empty_reply"
    description: ClassVar[str] = "empty, whitespace-only or content-less reply (punctuation, emoji, a placeholder)"
    default_points: ClassVar[float] = -100.0

    def __init__(self, config: EmptyReplyParams | None = None, points: float | None = None) -> None:
        super().__init__(config, points)
        p = self.config
        self._placeholders = {" ".join(x.lower().split()) for x in p.placeholders}

    def check_turn(self, turn: TurnContext) -> list[RuleHit]:
        text = turn.reply.text
        span = (0, len(text))
        if not text.strip():
            return [self.hit("empty reply" if not text else "whitespace-only reply", span=span, evidence=text)]
        if not has_content(text):
            return [self.hit("reply has no letter or digit", span=span, evidence=clip_evidence(text, span))]
        if len(text) <= 64:  # placeholders are short; a long reply is never one
            core = " ".join(_WRAPPERS.sub("", text).lower().split())
            if core in self._placeholders:
                return [self.hit(f"placeholder reply {core!r}", span=span, evidence=text)]
        return []
